"""The token bucket on a fake clock."""

from __future__ import annotations

import pytest

from rag_pipelines.service.rate_limit import RateLimiter


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_the_sustained_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)  # one token every 0.5 s
    clock.now += 0.25
    assert limiter.take("a") == pytest.approx(0.25)
    clock.now += 0.25
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_buckets_are_per_caller_and_refill_to_the_burst_only() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=2, clock=clock)
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") > 0 and limiter.take("b") == 0.0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)][-1] > 0  # an hour idle is still 2 tokens


def test_a_caller_can_have_its_own_rate_and_burst() -> None:
    limiter = RateLimiter(rate_per_s=100.0, burst=100, clock=Clock())
    assert limiter.take("slow", 0.1, 1) == 0.0
    assert limiter.take("slow", 0.1, 1) == pytest.approx(10.0)


def test_full_buckets_are_dropped_when_too_many_are_tracked() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock, max_buckets=2)
    limiter.take("a")
    limiter.take("b")
    clock.now += 5  # both full again
    assert limiter.take("c") == 0.0
    assert set(limiter._buckets) == {"c"}
