"""Which connections `qa serve` keeps open, so that no client can fill its connection budget.

uvicorn counts every open socket against its ``limit_concurrency``, idle ones included: about
260 sockets that never sent a byte made every route a 503, ``/health`` too. Here instead:

- a client address may hold at most ``QA_MAX_CONNECTIONS_PER_CLIENT`` connections; one more
  is answered 503 (with ``Retry-After``) a second later, and closed;
- a connection that has sent nothing is closed after ``QA_IDLE_SECONDS``, one that has begun
  a request head after ``QA_HEADER_SECONDS`` (``qa.http.server``);
- when ``QA_MAX_CONNECTIONS`` are open, a new connection closes the one idle the longest
  (nothing sent yet, or waiting between keep-alive requests) to make room; only when none
  is idle is it refused. So idle sockets, from however many addresses, never keep out a
  client that sends requests.

Behind a reverse proxy on the same machine every client has the proxy's address: raise the
per-client cap (or set it to 0, no cap) to what the proxy opens."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Protocol


class Closable(Protocol):
    def evict(self) -> None: ...


class Connections:
    """The open connections of one server, by address, and the idle ones, oldest first."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self.by_address: Counter[str] = Counter()
        self._idle: dict[Closable, None] = {}  # insertion order: idle the longest first

    def open(self, address: str) -> bool:
        """Count a new connection from ``address``; False when it already holds as many as
        a client may (the new one is then not counted)."""
        if self.per_client and self.by_address[address] >= self.per_client:
            return False
        self.by_address[address] += 1
        return True

    def close(self, connection: Closable, address: str) -> None:
        self._idle.pop(connection, None)
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    def make_room(self, open_now: int) -> bool:
        """With ``open_now`` connections open (the new one among them), close idle ones
        until there is room; False when there is none to close."""
        while open_now > self.total and self._idle:
            oldest = next(iter(self._idle))
            del self._idle[oldest]
            oldest.evict()
            open_now -= 1
        return open_now <= self.total

    def idle(self, connection: Closable) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None

    def busy(self, connection: Closable) -> None:
        self._idle.pop(connection, None)


def refuse(transport: asyncio.Transport, message: str) -> None:
    """Answer 503 before any request is read, and close."""
    if transport.is_closing():
        return
    body = message.encode()
    transport.write(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"retry-after: 1\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    transport.close()
