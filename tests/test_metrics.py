"""GET /metrics on a real server, read with prometheus-client's own text parser: request
counts and latencies per route template, answers and refusals, the index's size."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SEED_FILE, running

TROOPS = "How many troops were shipped?"
UNANSWERED = "What is the population of Vladivostok?"


class Scrape:
    def __init__(self, client: httpx.Client) -> None:
        r = client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        self.families = {f.name: f for f in text_string_to_metric_families(r.text)}

    def value(self, family: str, sample: str | None = None, **labels: str) -> float:
        """The value of the one sample of ``family`` with these labels (0 when none yet)."""
        found = [
            s.value
            for s in self.families[family].samples
            if s.name == (sample or family) and labels.items() <= s.labels.items()
        ]
        assert len(found) <= 1, found
        return found[0] if found else 0.0

    def handlers(self) -> set[str]:
        return {s.labels["handler"] for s in self.families["http_requests"].samples}


@pytest.fixture()
def client(fresh_seed_index, embedder) -> Iterator[httpx.Client]:
    """A server of its own, so that every count starts at zero."""
    app = create_app(Settings(index_dir=fresh_seed_index), embedder=embedder)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_counters_move_when_questions_are_asked(client):
    before = Scrape(client)
    assert before.value("qa_answers", "qa_answers_total", outcome="answered") == 0

    refused = []
    for question in (TROOPS, "Who leads NATO?", UNANSWERED):
        r = client.post("/ask", json={"question": question})
        assert r.status_code == 200
        refused.append(r.json()["abstained"])
    assert refused[0] is False and refused[2] is True
    with client.stream("POST", "/ask", json={"question": TROOPS, "stream": True}) as r:
        assert "event: answer" in r.read().decode()
    chat = {"model": "qa", "messages": [{"role": "user", "content": UNANSWERED}]}
    assert client.post("/v1/chat/completions", json=chat).json()["abstained"] is True
    assert client.post("/ask", json={"question": ""}).status_code == 422

    after = Scrape(client)
    # the streamed answer counts once it is given; the blank question is no answer
    answered = after.value("qa_answers", "qa_answers_total", outcome="answered")
    assert answered == refused.count(False) + 1
    abstained = after.value("qa_answers", "qa_answers_total", outcome="abstained")
    assert abstained == refused.count(True) + 1
    assert after.value("qa_answer_seconds", "qa_answer_seconds_count") == 5
    assert after.value("qa_answer_seconds", "qa_answer_seconds_sum") > 0
    requests = "http_requests_total"
    assert after.value("http_requests", requests, handler="/ask", status="200") == 4
    assert after.value("http_requests", requests, handler="/ask", status="422") == 1
    assert after.value("http_requests", requests, handler="/v1/chat/completions") == 1
    duration = "http_request_duration_seconds"
    assert after.value(duration, f"{duration}_count", handler="/ask") == 5
    assert after.value(duration, f"{duration}_bucket", handler="/ask", le="+Inf") == 5
    assert after.value(duration, f"{duration}_sum", handler="/ask") > 0
    # the scrapes themselves are not counted
    assert "/metrics" not in after.handlers()


def test_routes_are_labelled_by_their_template_not_the_path(client):
    for path in (f"/documents/{SEED_FILE.name}", "/documents/no/such.txt", "/nowhere/at/all"):
        client.get(path)

    handlers = Scrape(client).handlers()

    assert "/documents/{doc_id:path}" in handlers
    assert not any(SEED_FILE.name in h or "such.txt" in h or "nowhere" in h for h in handlers)


def test_random_methods_and_paths_add_no_series(fresh_seed_index, embedder):
    """3,000 requests with methods and paths of the client's choosing: labelled "other",
    so the scrape stays small (before: 5 MB and a 1 s scrape). Past the access rules and
    without a write budget (a refused flood is slowed down: tests/test_budgets.py)."""
    app = create_app(Settings(index_dir=fresh_seed_index, write_rate_limit=0), embedder=embedder)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        flood_methods(client)


def flood_methods(client: httpx.Client) -> None:
    rng = random.Random(30)
    letters = string.ascii_uppercase
    for n in range(3000):
        method = "".join(rng.choices(letters, k=rng.randint(3, 12)))
        path = rng.choice(["/ask", "/documents", f"/x{n}", f"/v1/{n}", "/health"])
        client.request(method, path, headers={"X-Requested-With": "tests"})
    r = client.get("/metrics")
    assert len(r.content) < 100_000, len(r.content)
    methods = {
        s.labels["method"]
        for s in Scrape(client).families["http_requests"].samples
        if "method" in s.labels
    }
    assert methods <= {"GET", "POST", "other"}, methods
    assert "other" in Scrape(client).handlers()


def test_index_gauges_follow_uploads_and_the_load_time_is_reported(client):
    health = client.get("/health").json()
    scrape = Scrape(client)
    assert scrape.value("qa_indexed_documents") == 1
    assert scrape.value("qa_indexed_sentences") == health["sentences"]
    assert scrape.value("qa_indexed_passages") == health["passages"]
    assert scrape.value("qa_index_ready") == 1
    assert scrape.value("qa_model_load_seconds") > 0

    text = "The lighthouse on Gull Rock was built in 1874. It is painted red and white."
    r = client.post(
        "/documents",
        files={"file": ("gull.txt", text.encode())},
        headers={"X-Requested-With": "tests"},
    )
    assert r.status_code == 201

    after = Scrape(client)
    assert after.value("qa_indexed_documents") == 2
    assert after.value("qa_indexed_sentences") == health["sentences"] + 2


def test_every_app_has_its_own_registry(fresh_seed_index, tmp_path, embedder):
    empty = create_app(Settings(index_dir=tmp_path / "none"), embedder=embedder)
    seeded = create_app(Settings(index_dir=fresh_seed_index), embedder=embedder)
    with (
        running(empty) as a,
        running(seeded) as b,
        httpx.Client(base_url=a, timeout=60) as first,
        httpx.Client(base_url=b, timeout=60) as second,
    ):
        assert second.post("/ask", json={"question": TROOPS}).json()["abstained"] is False
        assert Scrape(first).value("qa_index_ready") == 0
        assert Scrape(first).value("qa_answers", "qa_answers_total", outcome="answered") == 0
        assert Scrape(second).value("qa_answers", "qa_answers_total", outcome="answered") == 1
