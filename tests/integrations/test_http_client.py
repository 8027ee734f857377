"""The base client: auth, retries and backoff, typed errors, validation, usage rows, failure reports."""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any, ClassVar

import httpx
import pydantic
import pytest
import respx

from agents.models import AgentRun
from integrations.http import (
    AuthError,
    BaseClient,
    InvalidResponseError,
    NotFoundError,
    PermanentError,
    Rate,
    RateLimitedError,
    TransientError,
    Usage,
    parse_retry_after,
)
from integrations.http.breaker import CircuitBreaker, InProcessBreakerStore
from integrations.http.ratelimit import InProcessLimiter
from integrations.models import ApiUsage
from learning.models import ErrorLog
from smarter_team import clock
from smarter_team.context import bound_run

SECRET = "sk-test-Zq9XJ2mT4v8pLw"
pytestmark = pytest.mark.django_db


class Thing(pydantic.BaseModel):
    id: str
    count: int


class DemoClient(BaseClient):
    name = "demo"
    base_url = "https://api.demo.test/v1"
    api_key_name = "DEMO_API_KEY"
    rate: ClassVar[Rate | None] = None


def make(cls: type[BaseClient] = DemoClient, **kwargs: Any) -> BaseClient:
    kwargs.setdefault("api_key", SECRET)
    kwargs.setdefault("breaker", CircuitBreaker(cls.name, threshold=3, store=InProcessBreakerStore()))
    kwargs.setdefault("rng", random.Random(7))
    return cls(**kwargs)


def test_bearer_auth_and_parsed_model(mock_http: respx.MockRouter) -> None:
    route = mock_http.get("https://api.demo.test/v1/things/1").respond(200, json={"id": "1", "count": 3})
    thing = make().get("things/1", operation="get_thing", model=Thing)
    assert thing == Thing(id="1", count=3)
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {SECRET}"


def test_api_key_header_and_query_auth_styles(mock_http: respx.MockRouter) -> None:
    class HeaderClient(DemoClient):
        auth_style = "header"
        auth_header = "X-Api-Key"

    class QueryClient(DemoClient):
        auth_style = "query"
        auth_query_param = "token"

    route = mock_http.get("https://api.demo.test/v1/ping").respond(200, json={"id": "p", "count": 0})
    make(HeaderClient).get("ping", operation="ping", model=Thing)
    assert route.calls.last.request.headers["X-Api-Key"] == SECRET
    assert "Authorization" not in route.calls.last.request.headers
    make(QueryClient).get("ping", operation="ping", model=Thing, params={"a": "b"})
    assert route.calls.last.request.url.params["token"] == SECRET
    assert route.calls.last.request.url.params["a"] == "b"


def test_missing_key_is_an_auth_error_without_a_request(mock_http: respx.MockRouter) -> None:
    route = mock_http.get("https://api.demo.test/v1/ping")
    with pytest.raises(AuthError) as caught:
        make(api_key="").get("ping", operation="ping", model=Thing)
    assert "DEMO_API_KEY is not configured" in str(caught.value)
    assert not route.called


def test_429_retry_after_seconds_is_honoured_then_succeeds(mock_http: respx.MockRouter, sleeps: list[float]) -> None:
    mock_http.get("https://api.demo.test/v1/things/1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
            httpx.Response(200, json={"id": "1", "count": 1}),
        ]
    )
    assert make().get("things/1", operation="get_thing", model=Thing).count == 1
    assert sleeps == [7.0]
    rows = list(ApiUsage.objects.order_by("at", "id").values_list("status_code", "success", "error_type"))
    assert rows == [(429, False, "RateLimitedError"), (200, True, "")]


def test_429_retry_after_http_date_is_measured_on_the_project_clock(
    mock_http: respx.MockRouter, sleeps: list[float], frozen_clock: clock.FrozenClock
) -> None:
    when = frozen_clock.now + dt.timedelta(seconds=12)
    mock_http.get("https://api.demo.test/v1/things/1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}),
            httpx.Response(200, json={"id": "1", "count": 1}),
        ]
    )
    make().get("things/1", operation="get_thing", model=Thing)
    assert sleeps == [12.0]


def test_a_retry_after_longer_than_the_cap_hands_the_wait_to_the_caller(
    mock_http: respx.MockRouter, sleeps: list[float]
) -> None:
    mock_http.get("https://api.demo.test/v1/things/1").respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        make().get("things/1", operation="get_thing", model=Thing)
    assert caught.value.retry_after == 3600.0
    assert caught.value.transient
    assert sleeps == []


def test_5xx_then_success_backs_off_exponentially_with_jitter(mock_http: respx.MockRouter, sleeps: list[float]) -> None:
    mock_http.get("https://api.demo.test/v1/things/1").mock(
        side_effect=[httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"id": "1", "count": 2})]
    )
    assert make().get("things/1", operation="get_thing", model=Thing).count == 2
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5  # attempt 1: ceiling 0.5, equal jitter
    assert 0.5 <= sleeps[1] <= 1.0  # attempt 2: ceiling 1.0


def test_5xx_every_time_raises_transient_error_after_max_attempts(
    mock_http: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock_http.get("https://api.demo.test/v1/things/1").respond(500, json={"error": "boom"})
    with pytest.raises(TransientError) as caught:
        make().get("things/1", operation="get_thing", model=Thing)
    assert route.call_count == DemoClient.max_attempts
    assert caught.value.status_code == 500
    assert (caught.value.provider, caught.value.operation) == ("demo", "get_thing")


def test_a_post_without_idempotency_is_not_retried_after_a_5xx(mock_http: respx.MockRouter) -> None:
    route = mock_http.post("https://api.demo.test/v1/emails").respond(500)
    with pytest.raises(TransientError):
        make().post("emails", operation="send_email", model=Thing, json={"to": "a@b.test"})
    assert route.call_count == 1  # the vendor may have sent it: the outbox decides, not a blind retry


def test_a_post_is_retried_after_429_and_when_declared_idempotent(
    mock_http: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock_http.post("https://api.demo.test/v1/emails").mock(
        side_effect=[httpx.Response(429), httpx.Response(500), httpx.Response(200, json={"id": "e", "count": 1})]
    )
    make().post("emails", operation="send_email", model=Thing, json={}, idempotent=True)
    assert route.call_count == 3


def test_timeouts_are_retried_for_reads_and_raise_transient(mock_http: respx.MockRouter) -> None:
    route = mock_http.get("https://api.demo.test/v1/things/1").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError) as caught:
        make().get("things/1", operation="get_thing", model=Thing)
    assert route.call_count == DemoClient.max_attempts
    assert "ReadTimeout" in str(caught.value)
    assert ApiUsage.objects.filter(error_type="ReadTimeout", status_code=None).count() == DemoClient.max_attempts


def test_a_post_is_retried_when_the_connection_was_never_made(mock_http: respx.MockRouter) -> None:
    route = mock_http.post("https://api.demo.test/v1/emails").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"id": "e", "count": 1})]
    )
    make().post("emails", operation="send_email", model=Thing, json={})
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, AuthError), (404, NotFoundError), (400, PermanentError)]
)
def test_client_errors_are_permanent_and_not_retried(
    mock_http: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    route = mock_http.get("https://api.demo.test/v1/things/1").respond(status, json={"message": "nope"})
    with pytest.raises(error) as caught:
        make().get("things/1", operation="get_thing", model=Thing)
    assert route.call_count == 1
    assert not caught.value.transient  # type: ignore[attr-defined]
    assert "nope" in str(caught.value)


def test_malformed_json_raises_invalid_response_naming_provider_operation_and_field(
    mock_http: respx.MockRouter,
) -> None:
    mock_http.get("https://api.demo.test/v1/things/1").respond(200, content=b"<html>oops</html>")
    with pytest.raises(InvalidResponseError) as caught:
        make().get("things/1", operation="get_thing", model=Thing)
    assert (caught.value.provider, caught.value.operation, caught.value.field) == ("demo", "get_thing", "<body>")
    row = ApiUsage.objects.get()
    assert (row.success, row.error_type) == (False, "InvalidResponseError")


def test_a_response_missing_a_field_names_the_field(mock_http: respx.MockRouter) -> None:
    mock_http.get("https://api.demo.test/v1/things").respond(200, json=[{"id": "1", "count": 1}, {"id": "2"}])
    with pytest.raises(InvalidResponseError) as caught:
        make().get("things", operation="list_things", model=list[Thing])
    assert caught.value.field == "1.count"
    assert "demo.list_things" in str(caught.value)


def test_usage_row_is_attributed_to_the_run_and_stores_no_query(mock_http: respx.MockRouter) -> None:
    class QueryClient(DemoClient):
        auth_style = "query"

    run = AgentRun.objects.create(agent_name="lead_research")
    mock_http.get("https://api.demo.test/v1/things/1").respond(200, json={"id": "1", "count": 1})
    with bound_run(run.pk, "lead_research"):
        make(QueryClient).get(
            "things/1", operation="get_thing", model=Thing, meter=lambda t: Usage(tokens_in=5, tokens_out=t.count)
        )
    row = ApiUsage.objects.get()
    assert row.run_id == run.pk
    assert row.url == "https://api.demo.test/v1/things/1"
    assert (row.provider, row.operation, row.method, row.tokens_in, row.tokens_out) == (
        "demo",
        "get_thing",
        "GET",
        5,
        1,
    )


def test_a_final_failure_is_reported_to_learning_once(mock_http: respx.MockRouter) -> None:
    run = AgentRun.objects.create(agent_name="email_finder")
    mock_http.get("https://api.demo.test/v1/things/1").respond(404, json={"message": "no such thing"})
    with bound_run(run.pk, "email_finder"), pytest.raises(NotFoundError):
        make().get("things/1", operation="get_thing", model=Thing)
    log = ErrorLog.objects.get()
    assert (log.run_id, log.agent_name, log.provider, log.step, log.transient) == (
        run.pk,
        "email_finder",
        "demo",
        "get_thing",
        False,
    )


def test_no_secret_reaches_logs_errors_or_usage_rows(
    mock_http: respx.MockRouter, caplog: pytest.LogCaptureFixture, keys: Any
) -> None:
    keys(DEMO_API_KEY=SECRET)

    class QueryClient(DemoClient):
        auth_style = "query"

    caplog.set_level(logging.DEBUG)
    mock_http.get("https://api.demo.test/v1/things/1").mock(
        side_effect=[
            httpx.ReadTimeout(f"timed out GET https://api.demo.test/v1/things/1?api_key={SECRET}"),
            httpx.Response(401, json={"message": f"invalid key {SECRET}"}),
        ]
    )
    with pytest.raises(AuthError) as caught:
        QueryClient(breaker=CircuitBreaker("demo", store=InProcessBreakerStore())).get(
            "things/1", operation="get_thing", model=Thing
        )
    assert SECRET not in str(caught.value)
    assert caplog.records, "the attempts were logged"
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    for row in ApiUsage.objects.values():
        assert SECRET not in repr(row)
    for log in ErrorLog.objects.values():
        assert SECRET not in repr(log)


def test_rate_limiter_makes_the_client_wait(mock_http: respx.MockRouter, sleeps: list[float]) -> None:
    class Limited(DemoClient):
        rate = Rate(capacity=1, per_second=2.0)

    fake_now = [100.0]
    client = make(Limited, limiter=InProcessLimiter(now=lambda: fake_now[0]))

    def advance(seconds: float) -> None:
        sleeps.append(seconds)
        fake_now[0] += seconds

    client._sleep = advance
    mock_http.get("https://api.demo.test/v1/things/1").respond(200, json={"id": "1", "count": 1})
    client.get("things/1", operation="get_thing", model=Thing)
    client.get("things/1", operation="get_thing", model=Thing)
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("soon", None), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_provider_errors_survive_pickling() -> None:
    import pickle

    error = RateLimitedError("slow down", provider="demo", operation="op", retry_after=3.0)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(copy), str(copy), copy.retry_after, copy.transient) == (RateLimitedError, str(error), 3.0, True)
