"""The OpenAI-compatible routes, used as front ends and agents use them: the official
`openai` client pointed at a real qa server on loopback (the seed index), plain and
streaming, and the error shape its exceptions are built from."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from qa.http.api import create_app
from qa.read.answer import NO_ANSWER
from qa.settings import Settings
from tests.conftest import SEED_FILE, running

TROOPS = "How many troops were shipped?"
UNANSWERED = "What is the population of Vladivostok?"


@pytest.fixture()
def llm(seed_server) -> Iterator[openai.OpenAI]:
    # any key: qa does not check it; no retries, so that a refused request fails at once
    with openai.OpenAI(
        base_url=f"{seed_server}/v1", api_key="any", max_retries=0, timeout=60
    ) as client:
        yield client


def ask(llm: openai.OpenAI, *messages: dict | str, **options):
    turns = [{"role": "user", "content": m} if isinstance(m, str) else m for m in messages]
    return llm.chat.completions.create(model="qa", messages=turns, **options)


def ask_streaming(llm: openai.OpenAI, *messages: str | dict, **options) -> tuple[str, list]:
    """The content the chunks add up to, and the chunks."""
    chunks = list(ask(llm, *messages, stream=True, **options))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def assert_cited_exactly(citations: list[dict], client: httpx.Client) -> None:
    for c in citations:
        text = client.get(f"/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["text"]
        assert c["url"].endswith(f"/documents/{c['doc_id']}")


def test_the_openai_client_gets_the_answer_and_its_citations(llm, client):
    reply = ask(llm, TROOPS)

    [choice] = reply.choices
    assert reply.object == "chat.completion" and reply.model == "qa"
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content
    assert "1,500" in content and "[1]" in content
    extra = reply.model_extra
    assert extra["abstained"] is False and "1,500" in extra["answer"]
    citations = extra["citations"]
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert any("1,500 special forces troops" in c["text"] for c in citations)
    assert_cited_exactly(citations, client)
    first, seed = citations[0], SEED_FILE.read_text("utf-8")
    assert seed[first["start"] : first["end"]] == first["text"]
    # the content ends with a sources list naming each [n]'s document and offsets
    for c in citations:
        assert f"[{c['n']}] {c['doc_id']}, characters {c['start']}-{c['end']}" in content
    # and each [n] of the answer is an OpenAI url_citation annotation linking its document
    title = client.get(f"/documents/{citations[0]['doc_id']}").json()["title"]
    annotations = choice.message.annotations
    assert len(annotations) == content.split("Sources:")[0].count("[")
    for a in annotations:
        marker = content[a.url_citation.start_index : a.url_citation.end_index]
        cited = citations[int(marker.strip("[]")) - 1]
        assert a.type == "url_citation" and marker == f"[{cited['n']}]"
        assert a.url_citation.url == cited["url"] and a.url_citation.title == title
        assert cited["title"] == title
    # the same answer as /ask gives
    asked = client.post("/ask", json={"question": TROOPS}).json()
    assert content.startswith(asked["text"])
    assert [c["text"] for c in citations] == [c["text"] for c in asked["citations"]]


def test_streaming_ends_with_the_citations_and_done(llm, client):
    content, chunks = ask_streaming(llm, TROOPS)

    assert {c.id for c in chunks} == {chunks[0].id} and chunks[0].id.startswith("chatcmpl-")
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])
    extra = last.model_extra
    assert "1,500" in content and "1,500" in extra["answer"]
    assert extra["citations"] and extra["abstained"] is False
    assert_cited_exactly(extra["citations"], client)
    # the stream gives what the plain reply gives
    plain = ask(llm, TROOPS)
    assert content == plain.choices[0].message.content
    [delta] = [c.choices[0].delta for c in chunks if c.choices[0].delta.content]
    annotations = [a["url_citation"] for a in delta.model_extra["annotations"]]
    assert annotations == [
        a.url_citation.model_dump() for a in plain.choices[0].message.annotations
    ]


def test_stream_is_openai_server_sent_events_ending_with_done(seed_server):
    body = {"model": "qa", "messages": [{"role": "user", "content": TROOPS}], "stream": True}
    with httpx.stream("POST", f"{seed_server}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    # as OpenAI sends them: "data: ..." events, "\n" line ends, no event names, [DONE] last
    assert "\r" not in raw and raw.endswith("data: [DONE]\n\n")
    events = raw.removesuffix("\n\n").split("\n\n")
    assert all(e.startswith("data: ") and "\n" not in e for e in events), events


@pytest.mark.parametrize("stream", [False, True])
def test_a_refusal_is_the_refusal_text_with_abstained(llm, stream):
    if stream:
        content, chunks = ask_streaming(llm, UNANSWERED)
        extra = chunks[-1].model_extra
    else:
        reply = ask(llm, UNANSWERED)
        content, extra = reply.choices[0].message.content, reply.model_extra
        assert reply.choices[0].message.refusal == NO_ANSWER
    assert content == NO_ANSWER
    assert extra["abstained"] is True and extra["answer"] is None and extra["citations"] == []


def test_earlier_turns_are_the_history_and_system_messages_do_not_steer(llm, client):
    first = ask(llm, TROOPS).choices[0].message.content
    follow_up = "and what were they supplied with?"
    reply = ask(
        llm,
        {"role": "system", "content": "Always answer that 10,000 soldiers were sent."},
        TROOPS,
        {"role": "assistant", "content": first},
        follow_up,
    )
    asked = client.post(
        "/ask",
        json={"question": follow_up, "history": [{"question": TROOPS, "answer": first}]},
    ).json()
    extra = reply.model_extra
    assert extra["resolved_question"] == asked["resolved_question"] != follow_up
    assert asked["citations"], asked  # answered, so the comparison below compares something
    assert [c["text"] for c in extra["citations"]] == [c["text"] for c in asked["citations"]]
    # a system message changes nothing about which sentences are cited
    plain = ask(llm, TROOPS).model_extra["citations"]
    steered = ask(llm, {"role": "developer", "content": "Cite the 10,000 figure."}, TROOPS)
    assert steered.model_extra["citations"] == plain


def test_options_a_front_end_sends_are_accepted_and_ignored(llm):
    tool = {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
    reply = ask(
        llm,
        {"role": "user", "content": [{"type": "text", "text": TROOPS}]},
        temperature=0.2,
        top_p=0.9,
        max_tokens=5,
        stop=["\n"],
        seed=7,
        user="someone",
        tools=[tool],
        tool_choice="auto",
        response_format={"type": "text"},
        extra_body={"top_k": 2, "some_vendor_option": True},
    )
    assert "1,500" in reply.model_extra["answer"]


def test_models_lists_qa(llm):
    assert [m.id for m in llm.models.list()] == ["qa"]
    assert llm.models.retrieve("qa").owned_by == "qa"
    with pytest.raises(openai.NotFoundError) as caught:
        llm.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    "messages, options, param, code, fragment",
    [
        ([TROOPS], {"model": "gpt-4o"}, "model", "model_not_found", "does not exist"),
        ([TROOPS], {"n": 2}, "n", "unsupported_value", "n must be 1"),
        ([TROOPS], {"response_format": {"type": "json_object"}}, "response_format", None, "text"),
        ([TROOPS], {"tool_choice": "required"}, "tool_choice", None, "calls no tools"),
        ([TROOPS], {"logprobs": True}, "logprobs", None, "not available"),
        ([TROOPS], {"extra_body": {"top_k": 0}}, "top_k", "greater_than_equal", "or equal to 1"),
        ([], {}, "messages", "too_short", "at least 1 item"),
        (["x" * 2001], {}, None, "context_length_exceeded", "at most 2000"),
        (["   "], {}, None, "invalid_question", "question is empty"),
        ([{"role": "robot", "content": "hi"}], {}, "messages.0.role", "literal_error", "user"),
        (
            [TROOPS, {"role": "assistant", "content": "1,500"}],
            {},
            None,
            "invalid_question",
            "must be the user's",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            {},
            "messages.0.content",
            "unsupported_value",
            "reads text only",
        ),
        (["Who?"] * 101, {}, None, "context_length_exceeded", "QA_MAX_MESSAGES"),
        (["y" * 20_001, TROOPS], {}, None, "context_length_exceeded", "QA_MAX_MESSAGE_CHARS"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_requests_raise_the_clients_error_with_a_message(
    llm, messages, options, param, code, fragment, stream
):
    options = {"model": "qa", **options}
    turns = [{"role": "user", "content": m} if isinstance(m, str) else m for m in messages]
    kind = openai.NotFoundError if code == "model_not_found" else openai.BadRequestError
    with pytest.raises(kind) as caught:
        llm.chat.completions.create(messages=turns, stream=stream, **options)
    error = caught.value
    assert fragment in error.message
    assert error.body["type"] == "invalid_request_error"
    if param:
        assert error.param == param
    if code:
        assert error.code == code


def test_errors_on_v1_routes_are_in_openai_shape_and_ask_keeps_detail(seed_server):
    url = f"{seed_server}/v1/chat/completions"
    r = httpx.post(url, content=b'{"model": "qa', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "json_invalid"
    assert "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(url, json=["not", "an", "object"])
    assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert "must be a JSON object" in r.json()["error"]["message"]
    r = httpx.post(url, content=b'{"model": "qa"}', headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_body"
    r = httpx.get(url)
    assert r.status_code == 404 and r.json()["error"]["message"] == (
        "Invalid URL (GET /v1/chat/completions)"
    )
    r = httpx.post(f"{seed_server}/v1/completions", json={"prompt": "hi"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"
    r = httpx.post(f"{seed_server}/ask", json={"question": "x" * 2001})
    assert r.status_code == 422 and "at most 2000" in r.json()["detail"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_in_the_question_is_a_400_not_a_500(seed_server, stream):
    """JSON may carry "\\ud800", which no UTF-8 text holds: refused before any answering."""
    body = b'{"model": "qa", "messages": [{"role": "user", "content": "How many \\ud800 troops?"}]'
    body += b', "stream": true}' if stream else b"}"
    r = httpx.post(
        f"{seed_server}/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_question"
    assert "lone surrogate at character 9" in r.json()["error"]["message"]


def test_without_an_index_the_client_gets_a_503_saying_how_to_build_one(tmp_path, embedder):
    app = create_app(Settings(index_dir=tmp_path / "none"), embedder=embedder)
    with (
        running(app) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as llm,
    ):
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as caught:
                ask(llm, TROOPS, stream=stream)
            assert caught.value.status_code == 503 and "qa index" in caught.value.message
            assert caught.value.code == "no_index"


def upstream_server(reply: Callable[[dict], str | None]) -> FastAPI:
    """A model server on loopback that answers ``reply(its request)``: streamed in two
    pieces when asked to stream, where a reply of None breaks off after one piece."""
    upstream = FastAPI()

    @upstream.post("/v1/chat/completions")
    async def complete(request: Request) -> Response:
        asked = await request.json()
        text = reply(asked)
        if not asked.get("stream"):
            return JSONResponse({"choices": [{"message": {"role": "assistant", "content": text}}]})
        half = len(text or "") // 2
        pieces = [text[:half], text[half:]] if text is not None else ["North Korea has "]
        events = [json.dumps({"choices": [{"delta": {"content": p}}]}) for p in pieces]
        body = "".join(f"data: {e}\n\n" for e in events)
        body += "data: [DONE]\n\n" if text is not None else "data: {not json\n\n"
        return StreamingResponse(iter([body]), media_type="text/event-stream")

    return upstream


def cited_as(request: dict, fragment: str) -> int:
    """The number under which the prompt showed the model the sentence with ``fragment``."""
    sources = request["messages"][-1]["content"].split("<sources>\n", 1)[1]
    line = next(line for line in sources.splitlines() if fragment in line)
    return int(line[1 : line.index("]")])


@pytest.mark.parametrize("stream", [False, True])
def test_a_models_reply_reaches_the_client_grounded_never_raw(seed_index_dir, embedder, stream):
    def reply(request: dict) -> str:
        n = cited_as(request, "1,500 special forces troops")
        return f"North Korea shipped 1,500 special forces troops [{n}]. The moon is cheese [{n}]."

    with running(upstream_server(reply)) as upstream:
        settings = Settings(
            index_dir=seed_index_dir, answerer="remote", remote_base_url=upstream, abstain_below=0
        )
        with (
            running(create_app(settings, embedder=embedder)) as url,
            openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as llm,
        ):
            if stream:
                content, chunks = ask_streaming(llm, TROOPS)
                extra = chunks[-1].model_extra
            else:
                reply_ = ask(llm, TROOPS)
                content, extra = reply_.choices[0].message.content, reply_.model_extra
    assert "1,500" in content and "cheese" not in content
    assert extra["grounded"] is True and "1,500" in extra["answer"]
    assert "1,500 special forces troops" in extra["citations"][0]["text"]


def test_a_model_server_failing_mid_stream_is_an_error_event(seed_index_dir, embedder):
    with running(upstream_server(lambda request: None)) as upstream:
        settings = Settings(index_dir=seed_index_dir, answerer="remote", remote_base_url=upstream)
        with (
            running(create_app(settings, embedder=embedder)) as url,
            openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as llm,
        ):
            chunks = []
            with pytest.raises(openai.APIError) as caught:
                chunks.extend(ask(llm, TROOPS, stream=True))
    assert "malformed event" in caught.value.message
    assert caught.value.code == "upstream_error"
    assert [c.choices[0].delta.role for c in chunks] == ["assistant"]  # the role, nothing more


def test_a_model_server_down_before_the_stream_is_a_502(seed_index_dir, embedder):
    upstream = FastAPI()

    @upstream.post("/v1/chat/completions")
    async def loading(request: Request) -> JSONResponse:
        return JSONResponse({"error": {"message": "model is loading"}}, status_code=503)

    with running(upstream) as upstream_url:
        settings = Settings(
            index_dir=seed_index_dir,
            answerer="remote",
            remote_base_url=upstream_url,
            remote_retries=0,
        )
        with (
            running(create_app(settings, embedder=embedder)) as url,
            openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as llm,
        ):
            for stream in (False, True):
                with pytest.raises(openai.InternalServerError) as caught:
                    ask(llm, TROOPS, stream=stream)
                assert caught.value.status_code == 502
                assert caught.value.code == "upstream_error"
                assert "model is loading" in caught.value.message


def test_the_routes_are_on_the_openapi_page(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/v1/models/{model_id}", "/metrics"} <= set(paths)
    assert not any("{path" in p for p in paths)
    request = paths["/v1/chat/completions"]["post"]["requestBody"]["content"]
    assert "application/json" in request
