"""Changes (uploads and deletes) in a queue of their own, within a budget of server time.

- Changes run on ``QA_WRITE_WORKERS`` threads of their own (default 1), never in the
  threadpool that answers questions: a flood of slow uploads waits here, holding no thread
  a question needs. Those threads run at the lowest CPU priority (``nice`` 19, per thread
  on Linux), so that while both are busy the cores go to the questions first.
- At most ``QA_WRITE_QUEUE`` changes wait for a worker; one more is refused at once with
  503 and ``Retry-After``, and a client (a key, or an address without one) may have at most
  half the waiting places (429), so that one client cannot fill the queue for everyone.
- An upload's work (reading, splitting and embedding) has a budget proportionate to its
  size: ``QA_UPLOAD_SECONDS`` plus ``QA_UPLOAD_SECONDS_PER_MB`` for each MB; past it, it is
  a 422 naming the settings (``index.budget.deadline``: reading, in its worker process, is
  given what is left of it, at most ``QA_EXTRACT_SECONDS``; embedding is checked against it
  between small batches).
- A client whose changes used ``QA_WRITE_SECONDS_PER_MINUTE`` of work in the last minute
  waits (429 with ``Retry-After``) before its next one is queued."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import APIRouter, FastAPI, Request

from index.budget import deadline
from qa.errors import QAError, RateLimited, WritesQueued
from qa.settings import Settings

T = TypeVar("T")
# how much lower the change workers run (nice): as low as they can
NICE = 19


def upload_seconds(settings: Settings, size: int) -> float:
    """The server time an upload of ``size`` bytes may take to read, split and embed."""
    return settings.upload_seconds + settings.upload_seconds_per_mb * size / 1_000_000


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux: per thread; elsewhere a no-op
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class WorkLedger:
    """Seconds of change work per client over the last minute."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self.spent: dict[str, deque[tuple[float, float]]] = {}

    def used(self, who: str, now: float) -> float:
        entries = self.spent.get(who)
        if not entries:
            return 0.0
        while entries and entries[0][0] < now - 60:
            entries.popleft()
        if not entries:
            del self.spent[who]
        return sum(seconds for _, seconds in entries)

    def check(self, who: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        used = self.used(who, now)
        if used < self.per_minute:
            return
        # wait until enough of the minute's work has left the window
        over, retry = used - self.per_minute, 60.0
        for at, seconds in self.spent[who]:
            over -= seconds
            if over < 0:
                retry = at + 60 - now
                break
        retry = max(1, math.ceil(retry))
        raise RateLimited(
            f"your changes used {used:.0f} s of server time in the last minute, at most "
            f"{self.per_minute:g} (the QA_WRITE_SECONDS_PER_MINUTE setting); try again in "
            f"{retry} s",
            retry,
        )

    def add(self, who: str, seconds: float) -> None:
        self.spent.setdefault(who, deque()).append((time.monotonic(), seconds))


class WriteQueue:
    """The changes of one app: a few workers, a few waiting places, a ledger of work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.places = settings.write_workers + settings.write_queue
        self.executor = ThreadPoolExecutor(
            settings.write_workers, thread_name_prefix="qa-write", initializer=_lower_priority
        )
        # changes waiting or under way, in all and per client; a change leaves when its
        # work is done (not when its client stops waiting for it)
        self._lock = threading.Lock()
        self.by_client: Counter[str] = Counter()
        self.ledger = WorkLedger(settings.write_seconds_per_minute)

    @property
    def queued(self) -> int:
        return sum(self.by_client.values())

    async def run(self, who: str, name: str, size: int, work: Callable[..., T], *args) -> T:
        """``work(*args)`` on a change worker, within the budget of an upload of ``size``
        bytes named ``name``; refused (a second later) when the queue or the client's share
        is full, or the client's work of the last minute is spent."""
        try:
            self._enter(who)
        except QAError:
            # a client refused waits for it, as one past its rate does (qa/http/security.py)
            await asyncio.sleep(self.settings.refusal_wait_seconds)
            raise
        seconds = upload_seconds(self.settings, size)
        worked = [0.0]

        def timed() -> T:
            started = time.monotonic()
            try:
                over = (
                    f"{name} takes more than {seconds:g} s to read, split and embed, as much "
                    "as an upload of its size may (the QA_UPLOAD_SECONDS and "
                    "QA_UPLOAD_SECONDS_PER_MB settings)"
                )
                with deadline(seconds, over):
                    return work(*args)
            finally:
                worked[0] = time.monotonic() - started

        def done(_: object) -> None:
            with self._lock:
                self.by_client[who] -= 1
                if self.by_client[who] <= 0:
                    del self.by_client[who]
                self.ledger.add(who, worked[0])

        future = self.executor.submit(contextvars.copy_context().run, timed)
        future.add_done_callback(done)
        return await asyncio.wrap_future(future)

    def _enter(self, who: str) -> None:
        with self._lock:
            self.ledger.check(who)
            if self.queued >= self.places:
                raise WritesQueued(
                    f"{self.queued} changes are being made or waiting, as many as are taken "
                    "(the QA_WRITE_QUEUE setting): try again in a few seconds"
                )
            if self.by_client[who] >= max(1, self.places // 2):
                raise RateLimited(
                    f"you have {self.by_client[who]} changes being made or waiting, as many "
                    "as one client may (half of QA_WRITE_WORKERS + QA_WRITE_QUEUE): wait "
                    "for them to finish",
                    5,
                )
            self.by_client[who] += 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def client_of(request: Request, principal: str | None) -> str:
    """Whose waiting places and work a change counts against: its key, else its address."""
    if principal and principal != "http":
        return f"key:{principal}"
    return f"address:{request.client.host if request.client else 'unknown'}"


def write_queue(request: Request) -> WriteQueue:
    return request.app.state.write_queue


def include_uploads(app: FastAPI) -> None:
    """Give ``app`` its write queue, made from the engine's settings when the app starts."""

    @contextlib.asynccontextmanager
    async def queue(app: FastAPI) -> AsyncIterator[None]:
        app.state.write_queue = WriteQueue(app.state.engine.settings)
        try:
            yield
        finally:
            app.state.write_queue.close()

    app.include_router(APIRouter(lifespan=queue))
