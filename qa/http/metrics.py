"""`GET /metrics` in the Prometheus text format.

Requests are counted and timed per route template (`/documents/{doc_id:path}`, never the
raw path) and method by prometheus-fastapi-instrumentator's pure ASGI middleware, which
leaves streaming responses alone. Only the methods HTTP defines and the app's own route
templates become labels; anything else is "other", so that no client can add series (3,000
requests with random methods added 5 MB to a scrape). Answers and refusals are counted as the engine gives them; the
index's size and the engine's load time are read when scraped. Every app has its own
registry, so several apps in one process (the tests) never share or clash."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.metrics import Info

from qa.engine import Engine
from qa.read.answer import Answer

# Request latency buckets per route, in seconds: /ask takes tens of milliseconds, a
# generative answer seconds, an upload of a large document longer.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# the methods labelled as they are; every other is "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
ANSWER_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class EngineCollector(Collector):
    """What is indexed now, and how long the engine took to load, read at each scrape."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        engine: Engine | None = getattr(self.app.state, "engine", None)
        counts = engine.counts() if engine else None
        sizes = {
            "documents": counts.documents if counts else 0,
            "sentences": counts.sentences if counts else 0,
            "passages": counts.passages if counts else 0,
        }
        for name, value in sizes.items():
            yield GaugeMetricFamily(f"qa_indexed_{name}", f"{name.capitalize()} indexed", value)
        yield GaugeMetricFamily(
            "qa_index_ready", "1 when an index is loaded", int(bool(engine and engine.ready))
        )
        if engine is not None:
            yield GaugeMetricFamily(
                "qa_model_load_seconds",
                "Seconds the models (embedder, reranker, answer model) and the index took "
                "to load at start-up",
                engine.load_seconds,
            )


class AnswerMetrics:
    """Counts answers and refusals, and times them, as the engine gives them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.answers = Counter(
            "qa_answers", "Questions answered, by outcome", ["outcome"], registry=registry
        )
        for outcome in ("answered", "abstained"):
            self.answers.labels(outcome)  # both series exist before the first question
        self.ungrounded = Counter(
            "qa_ungrounded_answers",
            "Answers whose generative reply could not be grounded (the fallback was shown)",
            registry=registry,
        )
        self.seconds = Histogram(
            "qa_answer_seconds",
            "Time to answer a question in the engine (retrieval, reading, generation)",
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )

    def observe(self, result: Answer) -> None:
        self.answers.labels("abstained" if result.abstained else "answered").inc()
        if not result.grounded:
            self.ungrounded.inc()
        if "total" in result.timings_ms:
            self.seconds.observe(result.timings_ms["total"] / 1000)


def include_metrics(app: FastAPI) -> CollectorRegistry:
    """Instrument ``app`` and serve `GET /metrics`; returns the app's registry."""
    registry = CollectorRegistry()
    requests = metrics.default(latency_lowr_buckets=REQUEST_BUCKETS, registry=registry)

    def bounded(info: Info) -> None:
        if info.method not in METHODS:
            info.method = OTHER
        if info.modified_handler == "none":  # no route of the app: the raw path is never used
            info.modified_handler = OTHER
        requests(info)

    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["^/metrics$"],
        registry=registry,
    ).add(bounded).instrument(app).expose(app, tags=["metrics"])
    answers = AnswerMetrics(registry)
    registry.register(EngineCollector(app))

    @asynccontextmanager
    async def watch(app: FastAPI) -> AsyncIterator[None]:
        # runs inside the app's own lifespan, once the engine is built
        engine: Engine = app.state.engine
        engine.observers.append(answers.observe)
        yield

    app.include_router(APIRouter(lifespan=watch))
    app.state.metrics_registry = registry
    return registry
