"""Token buckets per caller: a sustained rate with bursts up to a bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """One token bucket per caller name; each request takes one token.

    Buckets that have refilled completely carry no state worth keeping, so they are dropped when
    more than `max_buckets` callers are tracked.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, rate_per_s: float | None = None, burst: int | None = None) -> float:
        """0.0 if the request may proceed, else the seconds until a token is available."""
        rate = rate_per_s or self.rate_per_s
        size = burst or self.burst
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= self._max_buckets:
                    self._prune(now)
                bucket = self._buckets[caller] = _Bucket(float(size), now)
            bucket.tokens = min(size, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate

    def wait(self, caller: str) -> float:
        """Seconds until `caller` has a token again, taking none (0.0: it has one now)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                return 0.0
            tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_s)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate_per_s

    def _prune(self, now: float) -> None:
        full = [
            name
            for name, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate_per_s >= self.burst
        ]
        for name in full:
            del self._buckets[name]
