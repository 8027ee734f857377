"""The circuit breaker opens after consecutive failures, probes once after the cooldown, shares state in Redis."""

from __future__ import annotations

import datetime as dt
import random
from typing import ClassVar

import httpx
import pydantic
import pytest
import respx

from integrations.http import BaseClient, CircuitOpenError, Rate, TransientError
from integrations.http.breaker import BreakerStore, CircuitBreaker, InProcessBreakerStore, RedisBreakerStore
from integrations.http.shared import shared_redis
from smarter_team import clock

pytestmark = pytest.mark.django_db


class Ok(pydantic.BaseModel):
    ok: bool


class Flaky(BaseClient):
    name = "flaky"
    base_url = "https://flaky.test"
    auth_style = "none"
    rate: ClassVar[Rate | None] = None
    max_attempts = 1


def redis_store() -> RedisBreakerStore:
    client = shared_redis()
    assert client is not None, "tests run with REDIS_URL"
    return RedisBreakerStore(client)


@pytest.fixture(params=["in_process", "redis"])
def store(request: pytest.FixtureRequest) -> BreakerStore:
    return InProcessBreakerStore() if request.param == "in_process" else redis_store()


def test_opens_after_threshold_consecutive_failures_then_half_opens(
    store: BreakerStore, frozen_clock: clock.FrozenClock
) -> None:
    breaker = CircuitBreaker("flaky", threshold=3, cooldown=dt.timedelta(seconds=30), store=store)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state() == "closed"
    breaker.record_failure()
    assert breaker.state() == "open"
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call("op")
    assert caught.value.transient
    frozen_clock.tick(dt.timedelta(seconds=31))
    assert breaker.state() == "half_open"
    breaker.before_call("op")  # the one probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call("op")  # everyone else waits for the probe's verdict
    breaker.record_success()
    assert breaker.state() == "closed"
    breaker.before_call("op")


def test_a_failed_probe_reopens_for_another_cooldown(store: BreakerStore, frozen_clock: clock.FrozenClock) -> None:
    breaker = CircuitBreaker("flaky", threshold=1, cooldown=dt.timedelta(seconds=30), store=store)
    breaker.record_failure()
    frozen_clock.tick(dt.timedelta(seconds=31))
    breaker.before_call("op")
    breaker.record_failure()
    assert breaker.state() == "open"
    frozen_clock.tick(dt.timedelta(seconds=10))
    with pytest.raises(CircuitOpenError):
        breaker.before_call("op")


def test_a_success_resets_the_count_of_consecutive_failures(store: BreakerStore) -> None:
    breaker = CircuitBreaker("flaky", threshold=2, store=store)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state() == "closed"


def test_redis_state_is_shared_between_workers(frozen_clock: clock.FrozenClock) -> None:
    worker_a = CircuitBreaker("flaky", threshold=2, store=redis_store())
    worker_b = CircuitBreaker("flaky", threshold=2, store=redis_store())
    worker_a.record_failure()
    worker_b.record_failure()
    assert worker_a.state() == worker_b.state() == "open"


def test_the_client_stops_calling_a_provider_whose_circuit_is_open(
    frozen_clock: clock.FrozenClock,
) -> None:
    client = Flaky(breaker=CircuitBreaker("flaky", threshold=2, store=InProcessBreakerStore()), rng=random.Random(1))
    with respx.mock() as router:
        route = router.get("https://flaky.test/status").mock(side_effect=httpx.ConnectTimeout("down"))
        for _ in range(2):
            with pytest.raises(TransientError):
                client.get("status", operation="status", model=Ok)
        with pytest.raises(CircuitOpenError):
            client.get("status", operation="status", model=Ok)
        assert route.call_count == 2
        frozen_clock.tick(dt.timedelta(seconds=61))
        route.mock(side_effect=None, return_value=httpx.Response(200, json={"ok": True}))
        assert client.get("status", operation="status", model=Ok).ok
    assert client.breaker.state() == "closed"


def test_client_errors_do_not_open_the_circuit() -> None:
    client = Flaky(breaker=CircuitBreaker("flaky", threshold=1, store=InProcessBreakerStore()))
    with respx.mock() as router:
        router.get("https://flaky.test/status").respond(404)
        for _ in range(3):
            with pytest.raises(Exception, match="404"):
                client.get("status", operation="status", model=Ok)
    assert client.breaker.state() == "closed"
