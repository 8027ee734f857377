"""The token bucket: bursts up to capacity, refills at the rate, shared across workers through Redis."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.http.ratelimit import InProcessLimiter, Rate, RedisLimiter, acquire
from integrations.http.shared import shared_redis


def redis_limiter() -> RedisLimiter:
    client = shared_redis()
    assert client is not None
    return RedisLimiter(client)


def test_in_process_bucket_bursts_then_refills() -> None:
    now = [0.0]
    limiter = InProcessLimiter(now=lambda: now[0])
    rate = Rate(capacity=2, per_second=4.0)
    assert [limiter.reserve("p", rate) for _ in range(2)] == [0.0, 0.0]
    assert limiter.reserve("p", rate) == pytest.approx(0.25)
    now[0] += 0.25
    assert limiter.reserve("p", rate) == 0.0


def test_buckets_are_per_key() -> None:
    limiter = InProcessLimiter(now=lambda: 0.0)
    rate = Rate(capacity=1, per_second=1.0)
    assert limiter.reserve("a", rate) == 0.0
    assert limiter.reserve("b", rate) == 0.0
    assert limiter.reserve("a", rate) > 0


def test_redis_bucket_is_shared_between_workers() -> None:
    rate = Rate(capacity=3, per_second=0.5)
    worker_a, worker_b = redis_limiter(), redis_limiter()
    assert worker_a.reserve("shared", rate) == 0.0
    assert worker_b.reserve("shared", rate) == 0.0
    assert worker_a.reserve("shared", rate) == 0.0
    wait = worker_b.reserve("shared", rate)
    assert 1.5 < wait <= 2.0  # one token every two seconds


def test_acquire_sleeps_until_a_token_is_free() -> None:
    now = [0.0]
    limiter = InProcessLimiter(now=lambda: now[0])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    rate = Rate(capacity=1, per_second=10.0)
    acquire(limiter, "p", rate, sleep)
    acquire(limiter, "p", rate, sleep)
    assert slept == [pytest.approx(0.1)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Rate(capacity=0, per_second=1)


def test_redis_buckets_live_under_the_deployments_prefix(settings: Any) -> None:
    client = shared_redis()
    assert client is not None
    rate = Rate(capacity=1, per_second=0.01)
    ours = redis_limiter()
    assert ours.reserve("prefixed", rate) == 0.0
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}:other-agency"
    theirs = redis_limiter()
    assert theirs.reserve("prefixed", rate) == 0.0  # their own bucket, still full
    assert ours.reserve("prefixed", rate) > 0
    client.delete(f"{settings.REDIS_KEY_PREFIX}:ratelimit:prefixed")
