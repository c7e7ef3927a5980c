"""Asking the questions: in-process through an ``Engine``, or over HTTP against a
running service (as its users see it). Both return the ``/ask`` response as a dict."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import httpx

from eval.data import QAItem
from eval.errors import ServiceUnreachable
from qa.engine import Engine
from qa.errors import QAError
from qa.read.followup import Turn, resolve


class QuestionFailed(Exception):
    """One question got an error response; the run goes on and scores it as wrong."""


class Runner(Protocol):
    def ask(
        self, question: str, top_k: int | None = None, history: Sequence[Turn] = ()
    ) -> dict: ...


class EngineRunner:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ask(self, question: str, top_k: int | None = None, history: Sequence[Turn] = ()) -> dict:
        """As /ask answers: a follow-up is completed from ``history`` first."""
        try:
            return self.engine.ask(resolve(question, history), top_k).to_dict()
        except QAError as exc:
            raise QuestionFailed(str(exc)) from exc


class HttpRunner:
    """``POST {base_url}/ask`` per question. ``client`` may be injected (tests pass one
    with a ``MockTransport``)."""

    def __init__(
        self, base_url: str, *, client: httpx.Client | None = None, timeout: float = 60
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=timeout)

    def check(self) -> dict:
        """The service's /health; ServiceUnreachable when it cannot be reached or has
        no index, so a run fails at once with one clear line."""
        if not self.base_url.startswith(("http://", "https://")):
            raise ServiceUnreachable(
                f"--url {self.base_url!r} needs a scheme, e.g. http://127.0.0.1:8000"
            )
        url = f"{self.base_url}/health"
        try:
            response = self.client.get(url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ServiceUnreachable(self._unreachable(exc)) from None
        if response.status_code != 200:
            raise ServiceUnreachable(
                f"{url} answered HTTP {response.status_code}; is it the qa service?"
            )
        try:
            health = response.json()
        except ValueError:
            raise ServiceUnreachable(f"{url} did not answer JSON; is it the qa service?") from None
        if not isinstance(health, dict) or not health.get("ready", False):
            error = health.get("error") if isinstance(health, dict) else None
            raise ServiceUnreachable(f"the service at {self.base_url} has no index: {error}")
        return health

    def ask(self, question: str, top_k: int | None = None, history: Sequence[Turn] = ()) -> dict:
        body: dict = {"question": question}
        if top_k is not None:
            body["top_k"] = top_k
        if history:
            body["history"] = [asdict(turn) for turn in history]
        try:
            response = self.client.post(f"{self.base_url}/ask", json=body)
        except httpx.TimeoutException as exc:
            raise QuestionFailed(f"timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(self._unreachable(exc)) from None
        if response.status_code != 200:
            raise QuestionFailed(f"HTTP {response.status_code}: {_detail(response)}")
        return response.json()

    def _unreachable(self, exc: Exception) -> str:
        reason = str(exc) or type(exc).__name__
        return f"cannot reach the service at {self.base_url} ({reason}); start it with `qa serve`"

    def close(self) -> None:
        self.client.close()


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except (ValueError, AttributeError):
        return response.text[:200]


@dataclass(frozen=True)
class Asked:
    item: QAItem
    response: dict | None
    latency_ms: float
    error: str | None


@dataclass(frozen=True)
class RunResult:
    asked: list[Asked]
    wall_s: float


def ask_all(
    items: Sequence[QAItem],
    runner: Runner,
    top_k: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Ask every question one after another, timing each call as the caller sees it."""
    asked = []
    t_run = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        try:
            response, error = runner.ask(item.question, top_k, item.history), None
        except QuestionFailed as exc:
            response, error = None, str(exc)
        asked.append(Asked(item, response, (time.perf_counter() - t0) * 1000, error))
        if progress:
            progress(1)
    return RunResult(asked, time.perf_counter() - t_run)
