"""Every answer backend against the same contract, with real models: the extractive default,
SmolLM2-135M in-process through llama-cpp-python (`local`), and the same GGUF behind a real
`python -m llama_cpp.server` on loopback (`remote`). Streaming over a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa.engine import Engine
from qa.http.api import create_app
from qa.read.answerers import Backend, generative
from qa.settings import Settings
from tests.conftest import SEED_FILE, free_port, running
from tests.test_injected_documents import assert_orders_never_reach_the_model, with_the_notice

BACKENDS = ["extractive", "local", "remote"]
TROOPS = "How many troops were shipped?"
RIGHT_SENTENCE = "1,500 special forces troops to Russia’s far east"
QUESTIONS = [
    TROOPS,
    "Where were the troops moved to?",
    "Who is NATO's chief?",
    "What technology did the spy agency use to identify officers?",
    "How many active duty troops does North Korea have?",
    "What is the population of Vladivostok?",
]


@pytest.fixture(scope="session")
def gguf() -> Path:
    pytest.importorskip("llama_cpp", reason="the `local` extra is not installed")
    from qa.read.answerers.local import default_gguf

    return default_gguf()


@pytest.fixture(scope="session")
def llama_server(gguf, tmp_path_factory) -> Iterator[str]:
    """A real OpenAI-compatible server on loopback, serving the packaged GGUF."""
    port = free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def settings_for(name: str, index_dir: Path, request: pytest.FixtureRequest) -> Settings:
    extra = {}
    if name == "local":
        request.getfixturevalue("gguf")
    if name == "remote":
        extra = {"remote_base_url": request.getfixturevalue("llama_server"), "remote_retries": 0}
    return Settings(index_dir=index_dir, answerer=name, **extra)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, seed_index_dir, embedder) -> Engine:
    return Engine(settings_for(request.param, seed_index_dir, request), embedder)


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS)
def test_contract(engine, question):
    """Whatever the backend: citations reproduce their text from the document, the short
    answer is a span of a cited sentence, and the text cites nothing it does not list."""
    check_contract(engine.ask(question))


def check_contract(result) -> None:
    """What every answerer's answer keeps to (tests/test_roles.py holds a new one to it)."""
    document = SEED_FILE.read_text(encoding="utf-8")
    for c in result.citations:
        assert document[c.start : c.end] == c.text
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    if result.abstained:
        assert result.answer is None and result.citations == []
    else:
        assert result.answer and any(result.answer in c.text for c in result.citations)
        for n in {int(m) for m in re.findall(r"\[(\d+)\]", result.text)}:
            assert 1 <= n <= len(result.citations)
    assert result.grounded or result.fallback == "extractive"
    assert result.timings_ms["total"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["local", "remote"])
def test_troops_question_is_answered_by_the_model_and_grounded(
    name, seed_index_dir, embedder, request
):
    result = Engine(settings_for(name, seed_index_dir, request), embedder).ask(TROOPS)
    assert result.grounded is True and result.fallback is None, result
    assert "1,500" in result.answer
    assert RIGHT_SENTENCE in result.citations[0].text
    assert "generate" in result.timings_ms  # the model's answer, not the extractive one


def sse(url: str, payload: dict) -> list[tuple[str, dict]]:
    events, name = [], "message"
    with httpx.stream("POST", f"{url}/ask", json=payload, timeout=120) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.removeprefix("data:").strip())))
    return events


def check_stream(events: list[tuple[str, dict]]) -> dict:
    *deltas, (last, final) = events
    assert deltas and all(name == "delta" for name, _ in deltas)
    assert last == "answer"
    assert final["citations"] and "1,500" in final["answer"]
    document = SEED_FILE.read_text(encoding="utf-8")
    assert all(document[c["start"] : c["end"]] == c["text"] for c in final["citations"])
    return final


def test_extractive_streams_one_delta_then_the_answer(seed_server):
    events = sse(seed_server, {"question": TROOPS, "stream": True})
    assert len(events) == 2
    final = check_stream(events)
    assert events[0][1]["text"] == final["text"] and final["grounded"] is True


@pytest.mark.slow
def test_remote_streams_the_reply_as_generated_then_the_grounded_answer(
    llama_server, seed_index_dir, embedder
):
    settings = Settings(index_dir=seed_index_dir, answerer="remote", remote_base_url=llama_server)
    with running(create_app(settings, embedder=embedder)) as url:
        events = sse(url, {"question": TROOPS, "stream": True})
    final = check_stream(events)
    assert len(events) > 3  # token by token
    assert final["grounded"] is True and RIGHT_SENTENCE in final["citations"][0]["text"]


def test_stream_rejects_bad_questions_before_streaming(seed_server):
    r = httpx.post(f"{seed_server}/ask", json={"question": " ", "stream": True}, timeout=30)
    assert r.status_code == 422
    r = httpx.post(f"{seed_server}/ask", json={"question": "x", "stream": "maybe"}, timeout=30)
    assert r.status_code == 422


def test_cli_streams(seed_index_dir):
    r = subprocess.run(
        [sys.executable, "-m", "qa", "ask", TROOPS, "--stream", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "QA_INDEX_DIR": str(seed_index_dir)},
    )
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["text"] in r.stderr and "1,500" in body["answer"] and body["grounded"] is True


def test_backend_model_is_injectable(seed_index_dir, embedder):
    settings = Settings(index_dir=seed_index_dir, answerer="remote", abstain_below=0.0)

    class Parrot:
        """Repeats the first source with its marker: a model that is always grounded."""

        name = "parrot"

        def complete(self, messages, max_tokens):
            first = messages[-1]["content"].split("\n")[1]
            return first[first.index("]") + 2 :] + " [1]"

        def stream(self, messages, max_tokens):
            yield self.complete(messages, max_tokens)

    backend = Backend(settings, embedder, generative(settings, embedder, Parrot()))
    result = Engine(settings, embedder, backend=backend).ask(TROOPS)
    assert result.grounded and result.answer == "1,500"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["local", "remote"])
def test_a_document_s_orders_never_reach_the_model(
    name, tmp_path, seed_index_dir, embedder, request
):
    index_dir = with_the_notice(tmp_path, seed_index_dir, embedder)
    assert_orders_never_reach_the_model(settings_for(name, index_dir, request), embedder)
