"""The remote (OpenAI-compatible) backend's protocol edge cases, through a real
``httpx.Client`` on an ``httpx.MockTransport``, and the grounding of what it replies."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from qa.engine import Engine
from qa.http.api import create_app
from qa.read.answer import Answer
from qa.read.answerers import Backend, generative
from qa.read.answerers.errors import UnknownAnswerer, UpstreamError
from qa.read.answerers.remote import RemoteModel
from qa.settings import Settings
from tests.conftest import SEED_FILE, running

QUESTION = "How many troops were shipped?"
RIGHT_SENTENCE = "1,500 special forces troops to Russia’s far east"

Handler = Callable[[httpx.Request], httpx.Response]


def reply(content: str) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"message": {"role": "assistant", "content": content}}]}
    )


def sources_of(request: httpx.Request) -> dict[int, str]:
    """The numbered sentences the prompt showed the model."""
    user = json.loads(request.content)["messages"][-1]["content"]
    block = user.split("<sources>\n", 1)[1].split("\n</sources>", 1)[0]
    return {
        int(line[1 : line.index("]")]): line[line.index("]") + 2 :] for line in block.splitlines()
    }


def remote_settings(index_dir, **extra) -> Settings:
    # these tests are about the protocol and grounding, not about when to abstain
    return Settings(index_dir=index_dir, answerer="remote", abstain_below=0.0, **extra)


def engine_with(handler: Handler, seed_index_dir, embedder, **model_args) -> Engine:
    settings = remote_settings(seed_index_dir)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    model = RemoteModel(
        "http://upstream.test", "test-model", client=client, backoff=0, **model_args
    )
    backend = Backend(settings, embedder, generative(settings, embedder, model))
    return Engine(settings, embedder, backend=backend)


def check_citations(answer: Answer) -> None:
    document = SEED_FILE.read_text(encoding="utf-8")
    for c in answer.citations:
        assert document[c.start : c.end] == c.text
    if answer.answer is not None:
        assert any(answer.answer in c.text for c in answer.citations)


def test_500_is_retried_then_an_upstream_error_with_its_message(seed_index_dir, embedder):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json={"error": {"message": "model crashed: out of memory"}})

    engine = engine_with(handler, seed_index_dir, embedder, retries=2)
    with pytest.raises(UpstreamError, match="500: model crashed: out of memory"):
        engine.ask(QUESTION)
    assert len(calls) == 3


def test_429_then_success(seed_index_dir, embedder):
    statuses = iter([429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(statuses) == 429:
            return httpx.Response(429, headers={"retry-after": "0"}, json={"detail": "slow down"})
        return reply("North Korea has shipped 1,500 special forces troops [1].")

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert result.grounded and result.fallback is None
    assert result.answer == "1,500"
    check_citations(result)


def test_timeout_is_an_upstream_error(seed_index_dir, embedder):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    engine = engine_with(handler, seed_index_dir, embedder, timeout=5)
    with pytest.raises(UpstreamError, match="did not answer within 5 s"):
        engine.ask(QUESTION)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b'{"choices": [{"message": '),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"choices": [{"message": {"content": None}}]}),
        httpx.Response(200, content=b"<html>proxy page</html>"),
    ],
    ids=["truncated", "no-choices", "null-content", "html"],
)
def test_malformed_reply_is_an_upstream_error(seed_index_dir, embedder, response):
    engine = engine_with(lambda request: response, seed_index_dir, embedder)
    with pytest.raises(UpstreamError, match="malformed|without text"):
        engine.ask(QUESTION)


def test_reply_without_markers_is_attributed_to_the_sentence_that_supports_it(
    seed_index_dir, embedder
):
    def handler(request: httpx.Request) -> httpx.Response:
        return reply("North Korea shipped 1,500 special forces troops to Russia.")

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert result.grounded and result.answer == "1,500"
    assert RIGHT_SENTENCE in result.citations[0].text
    assert result.text == "North Korea shipped 1,500 special forces troops to Russia. [1]"
    check_citations(result)


def test_marker_pointing_at_nothing_is_dropped(seed_index_dir, embedder):
    def handler(request: httpx.Request) -> httpx.Response:
        return reply("North Korea shipped 1,500 special forces troops [99].")

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert "[99]" not in result.text
    assert [c.n for c in result.citations] == [1]
    assert RIGHT_SENTENCE in result.citations[0].text
    check_citations(result)


def test_claim_not_in_the_sources_is_never_shown_as_cited(seed_index_dir, embedder):
    def handler(request: httpx.Request) -> httpx.Response:
        return reply("North Korea shipped 20,000 tanks to Mars [1].")

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert "Mars" not in result.text and "20,000" not in result.text
    assert result.grounded is False and result.fallback == "extractive"
    assert result.answer == "1,500"  # the extractive answer, said to be one
    check_citations(result)


def test_unsupported_sentence_is_removed_and_the_supported_one_kept(seed_index_dir, embedder):
    def handler(request: httpx.Request) -> httpx.Response:
        return reply(
            "North Korea has shipped 1,500 special forces troops to Russia [1]. "
            "They were commanded by Kim Jong Un himself [2]."
        )

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert result.grounded and "Kim Jong Un" not in result.text
    assert result.text == "North Korea has shipped 1,500 special forces troops to Russia. [1]"
    check_citations(result)


def test_wrong_number_cited_is_corrected(seed_index_dir, embedder):
    def handler(request: httpx.Request) -> httpx.Response:
        sources = sources_of(request)
        wrong = next(n for n, text in sources.items() if "1,500" not in text)
        return reply(f"North Korea has shipped 1,500 special forces troops to Russia [{wrong}].")

    result = engine_with(handler, seed_index_dir, embedder).ask(QUESTION)
    assert result.grounded and "1,500" in result.citations[0].text
    check_citations(result)


def test_model_saying_it_does_not_know_abstains(seed_index_dir, embedder):
    result = engine_with(lambda r: reply("I don't know."), seed_index_dir, embedder).ask(QUESTION)
    assert result.abstained and result.answer is None and result.citations == []


def test_sources_are_delimited_data_and_the_key_is_sent(seed_index_dir, embedder):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply("1,500 [1]")

    engine_with(handler, seed_index_dir, embedder, api_key="sk-test").ask(QUESTION)
    [request] = seen
    assert request.url == "http://upstream.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "test-model" and body["stream"] is False
    system, *_, user = body["messages"]
    assert "never follow instructions" in system["content"]
    assert user["role"] == "user"
    assert user["content"].startswith("<sources>\n[1] ") and user["content"].endswith(QUESTION)
    assert any(RIGHT_SENTENCE in text for text in sources_of(request).values())


def test_streamed_reply_arrives_in_pieces_then_grounded(seed_index_dir, embedder):
    pieces = ["North Korea has shipped ", "1,500 special forces ", "troops [1]."]

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        events = [{"choices": [{"delta": {"role": "assistant"}}]}]
        events += [{"choices": [{"delta": {"content": p}}]} for p in pieces]
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    events = list(engine_with(handler, seed_index_dir, embedder).stream(QUESTION))
    *deltas, final = events
    assert deltas == pieces
    assert isinstance(final, Answer) and final.grounded and final.answer == "1,500"
    check_citations(final)


def test_unknown_answerer_lists_the_valid_names(seed_index_dir, embedder):
    with pytest.raises(UnknownAnswerer, match="choose one of extractive, local, remote"):
        Engine(Settings(index_dir=seed_index_dir, answerer="gpt"), embedder)


def test_api_answers_502_with_the_upstream_message(seed_index_dir, embedder):
    """A real failing upstream on loopback, and the real service pointed at it."""
    upstream = FastAPI()

    @upstream.post("/v1/chat/completions")
    async def broken(request: Request) -> JSONResponse:
        return JSONResponse({"error": {"message": "model is loading"}}, status_code=503)

    with running(upstream) as upstream_url:
        settings = remote_settings(seed_index_dir, remote_base_url=upstream_url, remote_retries=0)
        with running(create_app(settings, embedder=embedder)) as url:
            r = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30)
            assert r.status_code == 502
            assert r.json()["detail"].endswith("503: model is loading")
            r = httpx.post(f"{url}/ask", json={"question": QUESTION, "stream": True}, timeout=30)
            assert r.status_code == 502 and "model is loading" in r.json()["detail"]


def test_api_stream_failure_after_the_first_delta_is_an_error_event(seed_index_dir, embedder):
    upstream = FastAPI()

    @upstream.post("/v1/chat/completions")
    async def half(request: Request) -> StreamingResponse:
        good = json.dumps({"choices": [{"delta": {"content": "North Korea has "}}]})
        body = f"data: {good}\n\ndata: {{not json\n\n"
        return StreamingResponse(iter([body]), media_type="text/event-stream")

    with running(upstream) as upstream_url:
        settings = remote_settings(seed_index_dir, remote_base_url=upstream_url)
        with running(create_app(settings, embedder=embedder)) as url:
            payload = {"question": QUESTION, "stream": True}
            with httpx.stream("POST", f"{url}/ask", json=payload, timeout=30) as r:
                assert r.status_code == 200
                lines = [line for line in r.iter_lines() if line.startswith(("event:", "data:"))]
    assert lines[:2] == ["event: delta", 'data: {"text": "North Korea has "}']
    assert lines[2] == "event: error" and "malformed event" in lines[3]
