"""Rate limits: questions and writes per minute, per API key or, without one, per client
address (the ``limits`` library's moving window, kept in memory: one server process).

Behind a reverse proxy every client has the proxy's address, so they share one budget
unless they present keys."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from qa.errors import RateLimited

_WHAT = {
    "ask": ("questions", "QA_RATE_LIMIT"),
    "write": ("uploads and deletes", "QA_WRITE_RATE_LIMIT"),
    "wrong_key": ("wrong API keys", "QA_WRONG_KEY_LIMIT"),
}


class Throttle:
    def __init__(
        self, asks_per_minute: int, writes_per_minute: int, wrong_keys_per_minute: int = 0
    ) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        # 0: no limit
        self.items = {
            kind: RateLimitItemPerMinute(n) if n > 0 else None
            for kind, n in (
                ("ask", asks_per_minute),
                ("write", writes_per_minute),
                ("wrong_key", wrong_keys_per_minute),
            )
        }

    def check(self, kind: str, who: str) -> None:
        """Count one request of ``kind`` ("ask", "write" or "wrong_key") from ``who``;
        raise RateLimited, saying when to try again, once the minute's budget is spent."""
        item = self.items.get(kind)
        if item is None or self.limiter.hit(item, kind, who):
            return
        self._refuse(kind, who)

    def refuse_guesses(self, who: str) -> None:
        """RateLimited, without counting, when ``who`` has sent as many wrong keys as a
        minute allows: its next key is not even compared."""
        item = self.items["wrong_key"]
        if item is not None and not self.limiter.test(item, "wrong_key", who):
            self._refuse("wrong_key", who)

    def _refuse(self, kind: str, who: str) -> None:
        item = self.items[kind]
        reset, _ = self.limiter.get_window_stats(item, kind, who)
        retry = max(1, math.ceil(reset - time.time()))
        what, setting = _WHAT[kind]
        raise RateLimited(
            f"too many {what}: at most {item.amount} a minute ({setting}); try again in {retry} s",
            retry,
        )


class Tarpit:
    """How long a refusal waits before it is sent: a client refused more than ``burst``
    times in ``seconds`` (a page firing posts, a key guesser, a scanner of methods) gets its
    next refusals only after ``wait`` seconds each, so that sending as fast as it is
    answered costs the server a request a second per connection, not thousands. The wait
    holds no thread and no question's place."""

    def __init__(self, burst: int = 30, seconds: int = 10, wait: float = 1.0) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.item = RateLimitItemPerSecond(burst, seconds)
        self.wait = wait

    def delay(self, who: str) -> float:
        return 0.0 if self.limiter.hit(self.item, "refused", who) else self.wait
