"""Token-bucket rate limits per key and per client address.

Each bucket holds up to ``burst`` tokens and refills at ``per_minute / 60``
tokens a second; a request takes one token from every bucket it belongs to
(its key's and its address's) or, if any is empty, none, and is told how many
seconds until it would succeed (``Retry-After``).  Idle buckets are dropped
so that many distinct addresses cannot grow memory without bound.

Limits live in the worker process: with N workers a client may get up to N
times the rate — the point is to stop a runaway script, not to bill anyone.

Leaves out: who the caller is (``api.access``) and the HTTP response (``api.guard``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    MAX_BUCKETS = 100_000

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, updated)
        self.lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, *names: str) -> float:
        """Take a token from each named bucket; 0.0 if allowed, else seconds to wait."""
        if not self.enabled:
            return 0.0
        with self.lock:
            now = self.clock()
            levels = {name: self._level(name, now) for name in names}
            short = [level for level in levels.values() if level < 1.0]
            if short:
                return max(math.ceil((1.0 - min(short)) / self.rate), 1)
            for name, level in levels.items():
                self.buckets[name] = (level - 1.0, now)
            if len(self.buckets) > self.MAX_BUCKETS:
                self._drop_full(now)
            return 0.0

    def _level(self, name: str, now: float) -> float:
        tokens, updated = self.buckets.get(name, (self.burst, now))
        return min(self.burst, tokens + (now - updated) * self.rate)

    def _drop_full(self, now: float) -> None:
        """Forget buckets that have refilled: they behave exactly like new ones."""
        for name in [n for n in self.buckets if self._level(n, now) >= self.burst]:
            del self.buckets[name]
