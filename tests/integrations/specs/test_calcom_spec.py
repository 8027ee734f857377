"""Cal.com v2 against the operations pinned from its OpenAPI document (AGPL: facts only; see calcom_v2.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from integrations.providers import calcom
from integrations.providers.calcom import CalComClient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.calcom_v2 import DOCUMENT
from tests.integrations.specs.contract import OpenApi, recorded_requests

pytestmark = pytest.mark.django_db
SPEC = OpenApi(DOCUMENT, base_url="https://api.cal.com")
CAL = "https://api.cal.com/v2"
UTC = dt.UTC


@pytest.fixture
def client(keys: Callable[..., None]) -> Iterator[CalComClient]:
    keys(CALCOM_API_KEY="cal_test_secret_0001")
    calcom._event_type_ids.clear()
    yield CalComClient()
    calcom._event_type_ids.clear()


def _documented_version(request: httpx.Request) -> str:
    operation = SPEC.operation(request.method, str(request.url))
    header = next(p for p in operation.parameters if p["name"] == "cal-api-version")
    return str(header["schema"]["default"])


def test_every_request_the_client_makes_is_an_operation_of_the_spec(
    client: CalComClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{CAL}/event-types").respond(200, json=load_fixture("calcom", "event_types"))
    mock_http.get(f"{CAL}/slots").respond(200, json=load_fixture("calcom", "slots"))
    mock_http.post(f"{CAL}/bookings").respond(201, json=load_fixture("calcom", "booking"))
    mock_http.post(f"{CAL}/bookings/booking_uid_123/reschedule").respond(
        201, json=load_fixture("calcom", "rescheduled")
    )
    mock_http.post(f"{CAL}/bookings/booking_uid_124/cancel").respond(200, json=load_fixture("calcom", "cancelled"))
    mock_http.get(f"{CAL}/me").respond(200, json=load_fixture("calcom", "me"))
    start = dt.datetime(2026, 3, 3, 15, tzinfo=UTC)

    client.available_slots(start=start, end=start + dt.timedelta(days=2), timezone="America/Chicago")
    client.book(
        idempotency_key="meet-1",
        start=start,
        duration_minutes=30,
        attendee_email="dana@acmedental.example",
        attendee_name="Dana Lee",
        title="Discovery call",
        notes="Bring X-rays",
    )
    client.reschedule(booking_id="booking_uid_123", start=start + dt.timedelta(days=1), reason="clash")
    client.cancel(booking_id="booking_uid_124", reason="no longer needed")
    client.health_check()

    requests = recorded_requests(mock_http)
    assert len(requests) == 6
    assert [f"{r.method} {r.url.path}: {e}" for r in requests for e in SPEC.request_errors(r)] == []


def test_each_versioned_call_sends_the_version_the_spec_documents(
    client: CalComClient, mock_http: respx.MockRouter
) -> None:
    mock_http.get(f"{CAL}/event-types").respond(200, json=load_fixture("calcom", "event_types"))
    mock_http.get(f"{CAL}/slots").respond(200, json=load_fixture("calcom", "slots"))
    mock_http.post(f"{CAL}/bookings/booking_uid_124/cancel").respond(200, json=load_fixture("calcom", "cancelled"))
    start = dt.datetime(2026, 3, 3, tzinfo=UTC)
    client.available_slots(start=start, end=start + dt.timedelta(days=1))
    client.cancel(booking_id="booking_uid_124")

    sent = {r.url.path: r.headers["cal-api-version"] for r in recorded_requests(mock_http)}
    assert sent == {r.url.path: _documented_version(r) for r in recorded_requests(mock_http)}
    assert all(r.headers["Authorization"] == "Bearer cal_test_secret_0001" for r in recorded_requests(mock_http))


@pytest.mark.parametrize(
    ("method", "path", "status", "fixture"),
    [
        ("GET", "/v2/slots", 200, "slots"),
        ("POST", "/v2/bookings", 201, "booking"),
        ("POST", "/v2/bookings/booking_uid_123/reschedule", 201, "rescheduled"),
        ("POST", "/v2/bookings/booking_uid_124/cancel", 200, "cancelled"),
        ("GET", "/v2/event-types", 200, "event_types"),
        ("GET", "/v2/me", 200, "me"),
    ],
)
def test_fixture_is_an_answer_the_spec_allows(method: str, path: str, status: int, fixture: str) -> None:
    assert SPEC.response_errors(method, f"https://api.cal.com{path}", status, load_fixture("calcom", fixture)) == []


def test_the_checker_rejects_a_booking_without_what_cal_com_always_sends() -> None:
    bare = {"status": "success", "data": {"id": 1, "uid": "b1", "status": "accepted", "start": "s", "end": "e"}}
    errors = SPEC.response_errors("POST", f"{CAL}/bookings", 201, bare)
    assert "data: 'hosts' is a required property" in errors


def test_the_checker_rejects_a_field_the_booking_input_does_not_declare() -> None:
    request = httpx.Request(
        "POST",
        f"{CAL}/bookings",
        headers={"cal-api-version": "2024-08-13"},
        json={"start": "2026-03-03T15:00:00Z", "attendee": {"name": "D", "timeZone": "UTC"}, "title": "x"},
    )
    assert SPEC.request_errors(request) == [
        "body <root>: Additional properties are not allowed ('title' was unexpected)"
    ]


def test_every_booking_status_the_spec_lists_is_mapped(client: CalComClient) -> None:
    statuses = DOCUMENT["components"]["schemas"]["BookingOutput_2024_08_13"]["properties"]["status"]["enum"]
    booking = load_fixture("calcom", "booking")["data"]
    mapped = {s: calcom._booking(calcom._Booking.model_validate({**booking, "status": s})).status for s in statuses}
    assert "unknown" not in mapped.values()
    assert mapped["rejected"] == "cancelled"  # a declined request is a meeting that will not happen
