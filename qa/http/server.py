"""Running the app under uvicorn with limits on what clients can hold.

uvicorn on its own waits for ever for a request's headers (its keep-alive timeout only runs
between requests), accepts connections until the process runs out of file descriptors, and
logs every refusal. Here: a connection that has sent nothing within ``QA_IDLE_SECONDS`` is
closed, one that has not sent a whole request head within ``QA_HEADER_SECONDS`` too; at
most ``QA_MAX_CONNECTIONS`` connections are open (kept below the open-files limit, which is
raised to its hard limit first), a new one closing the one idle the longest, and at most
``QA_MAX_CONNECTIONS_PER_CLIENT`` from one address (qa/http/connections.py); idle
keep-alive connections close after a few seconds; a repeated log line is written a few
times, then counted, not written."""

from __future__ import annotations

import asyncio
import logging
import resource
import time

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from qa.http.connections import Connections, refuse
from qa.http.security import REFUSAL_SECONDS
from qa.settings import Settings

KEEP_ALIVE_SECONDS = 5
# Largest request head (request line and headers) accepted; h11 answers 400 past it.
MAX_HEAD_BYTES = 16 * 1024
# File descriptors kept for the index, the model, logs and worker pipes.
SPARE_FILES = 64


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections that send nothing or whose request head
    is late, and keeping each address to its share of the connections."""

    header_seconds = 10.0
    idle_seconds = 2.0
    registry = Connections(256, 0)  # each server's own: server_config makes one per config

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._heard = False
        self._address = self.client[0] if self.client else "unknown"
        self._counted = self.registry.open(self._address)
        if not self._counted:
            # refused a second later: a client that connects again as soon as it is refused
            # then opens one connection a second per thread, not thousands. Meanwhile it is
            # no connection of the server's (uvicorn's count would refuse others for it)
            self.connections.discard(self)
            transport.pause_reading()
            self.loop.call_later(
                REFUSAL_SECONDS,
                refuse,
                transport,
                "too many connections from your address (the QA_MAX_CONNECTIONS_PER_CLIENT "
                "setting): close some, or reuse them",
            )
            return
        if not self.registry.make_room(len(self.connections)):
            refuse(transport, "the server has as many connections as it takes: try again")
            return
        self.registry.idle(self)
        self._head_timer = self.loop.call_later(
            min(self.idle_seconds, self.header_seconds), self._head_late
        )

    def data_received(self, data: bytes) -> None:
        if not self._heard:  # the first bytes: the head's own time starts now
            self._heard = True
            self._stop_head_timer()
        self.registry.busy(self)
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.registry.idle(self)  # between keep-alive requests

    def evict(self) -> None:
        """Close this idle connection to make room for a new one."""
        if not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        if getattr(self, "_counted", False):
            self._counted = False
            self.registry.close(self, self._address)
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """Time the head while one is awaited (also after a keep-alive pause: a request
        begun and never finished); stop once it has arrived."""
        if self.conn.their_state is h11.IDLE:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.header_seconds, self._head_late)
        else:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if getattr(self, "_head_timer", None) is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class RepeatFilter(logging.Filter):
    """Lets each message (by its format string) through ``burst`` times per ``seconds``."""

    def __init__(self, burst: int = 5, seconds: float = 10.0) -> None:
        super().__init__()
        self.burst, self.seconds = burst, seconds
        self.seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = f"{record.name}:{record.msg}"
        start, count = self.seen.get(key, (now, 0))
        if now - start > self.seconds:
            start, count = now, 0
        self.seen[key] = (start, count + 1)
        if len(self.seen) > 1000:  # messages with their values in the format string
            self.seen.clear()
        return count < self.burst


def open_files_limit() -> int:
    """Raise this process's open-files limit to its hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def server_config(app, settings: Settings) -> uvicorn.Config:
    files = open_files_limit()
    connections = max(8, min(settings.max_connections, files - SPARE_FILES))
    guards = {
        "header_seconds": settings.header_seconds,
        "idle_seconds": settings.idle_seconds,
        "registry": Connections(connections, settings.max_connections_per_client),
    }
    protocol = type("Guarded", (GuardedH11Protocol,), guards)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol,
        # the protocol keeps the connections within ``connections``; uvicorn's own limit,
        # which counts idle sockets too, is left to bound requests under way
        limit_concurrency=connections + 1,
        backlog=min(2048, connections * 2),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )


def serve(app, settings: Settings) -> None:
    """Serve ``app`` until interrupted."""
    config = server_config(app, settings)
    repeats = RepeatFilter()
    for name in ("uvicorn.error", "asyncio"):
        logging.getLogger(name).addFilter(repeats)
    uvicorn.Server(config).run()
