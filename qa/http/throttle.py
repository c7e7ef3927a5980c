"""Rate limits: questions and writes per minute, per API key or, without one, per client
address (the ``limits`` library's moving window, kept in memory: one server process).

Behind a reverse proxy every client has the proxy's address, so they share one budget
unless they present keys."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from qa.errors import RateLimited

_WHAT = {
    "ask": ("questions", "QA_RATE_LIMIT"),
    "write": ("uploads and deletes", "QA_WRITE_RATE_LIMIT"),
}


class Throttle:
    def __init__(self, asks_per_minute: int, writes_per_minute: int) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        # 0: no limit
        self.items = {
            kind: RateLimitItemPerMinute(n) if n > 0 else None
            for kind, n in (("ask", asks_per_minute), ("write", writes_per_minute))
        }

    def check(self, kind: str, who: str) -> None:
        """Count one request of ``kind`` ("ask" or "write") from ``who``; raise RateLimited,
        saying when to try again, once the minute's budget is spent."""
        item = self.items.get(kind)
        if item is None or self.limiter.hit(item, kind, who):
            return
        reset, _ = self.limiter.get_window_stats(item, kind, who)
        retry = max(1, math.ceil(reset - time.time()))
        what, setting = _WHAT[kind]
        raise RateLimited(
            f"too many {what}: at most {item.amount} a minute ({setting}); try again in {retry} s",
            retry,
        )
