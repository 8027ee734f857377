"""Cal.com and Google Calendar, the two Calendar providers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import respx

from integrations.http import NotFoundError
from integrations.providers import calcom
from integrations.providers.calcom import CalComClient
from integrations.providers.google_calendar import GoogleCalendarClient, event_id_for
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
CAL = "https://api.cal.com/v2"
GCAL = "https://www.googleapis.com/calendar/v3"
UTC = dt.UTC


@pytest.fixture
def cal(keys: Callable[..., None], mock_http: respx.MockRouter) -> Iterator[CalComClient]:
    keys(CALCOM_API_KEY="cal_test_secret_0001")
    calcom._event_type_ids.clear()
    mock_http.get(f"{CAL}/event-types").respond(200, json=load_fixture("calcom", "event_types"))
    chosen = get_role("calendar")
    assert isinstance(chosen, CalComClient)
    yield chosen
    calcom._event_type_ids.clear()


def test_calcom_slots_for_the_event_type_of_that_length(cal: CalComClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{CAL}/slots").respond(200, json=load_fixture("calcom", "slots"))
    slots = cal.available_slots(
        start=dt.datetime(2026, 3, 3, tzinfo=UTC),
        end=dt.datetime(2026, 3, 5, tzinfo=UTC),
        duration_minutes=30,
        timezone="America/Chicago",
    )
    assert [s.start.isoformat() for s in slots] == [
        "2026-03-03T14:30:00+00:00",
        "2026-03-03T15:00:00+00:00",
        "2026-03-04T16:00:00+00:00",
    ]
    assert slots[0].end - slots[0].start == dt.timedelta(minutes=30)
    request = route.calls.last.request
    assert request.headers["cal-api-version"] == "2024-09-04"
    assert request.url.params["eventTypeId"] == "102"
    assert request.headers["Authorization"] == "Bearer cal_test_secret_0001"


def test_calcom_book_reschedule_cancel(cal: CalComClient, mock_http: respx.MockRouter) -> None:
    booked = mock_http.post(f"{CAL}/bookings").respond(201, json=load_fixture("calcom", "booking"))
    booking = cal.book(
        idempotency_key="meet-1",
        start=dt.datetime(2026, 3, 3, 15, tzinfo=UTC),
        duration_minutes=30,
        attendee_email="dana@acmedental.example",
        attendee_name="Dana Lee",
        title="Discovery call",
        timezone="America/Chicago",
    )
    assert (booking.booking_id, booking.status) == ("booking_uid_123", "accepted")
    assert booked.calls.last.request.headers["cal-api-version"] == "2024-08-13"
    assert body(booked)["attendee"] == {
        "name": "Dana Lee",
        "email": "dana@acmedental.example",
        "timeZone": "America/Chicago",
    }
    assert body(booked)["start"] == "2026-03-03T15:00:00Z"
    mock_http.post(f"{CAL}/bookings/booking_uid_123/reschedule").respond(
        201, json=load_fixture("calcom", "rescheduled")
    )
    moved = cal.reschedule(booking_id="booking_uid_123", start=dt.datetime(2026, 3, 4, 16, tzinfo=UTC), reason="clash")
    assert moved.booking_id == "booking_uid_124"
    cancel = mock_http.post(f"{CAL}/bookings/booking_uid_124/cancel").respond(
        200, json=load_fixture("calcom", "cancelled")
    )
    cal.cancel(booking_id="booking_uid_124", reason="no longer needed")
    assert body(cancel) == {"cancellationReason": "no longer needed"}


def test_calcom_without_an_event_type_of_that_length(cal: CalComClient) -> None:
    with pytest.raises(NotFoundError):
        cal.available_slots(
            start=dt.datetime(2026, 3, 3, tzinfo=UTC), end=dt.datetime(2026, 3, 4, tzinfo=UTC), duration_minutes=45
        )


@pytest.fixture
def gcal(google: respx.Route) -> GoogleCalendarClient:
    chosen = get_role("calendar")
    assert isinstance(chosen, GoogleCalendarClient)
    return chosen


def test_google_free_slots_skip_busy_time(gcal: GoogleCalendarClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{GCAL}/freeBusy").respond(200, json=load_fixture("google_calendar", "freebusy"))
    slots = gcal.available_slots(
        start=dt.datetime(2026, 3, 3, tzinfo=UTC),
        end=dt.datetime(2026, 3, 4, tzinfo=UTC),
        duration_minutes=30,
        timezone="UTC",
    )
    starts = [s.start.strftime("%H:%M") for s in slots]
    assert starts[0] == "10:30"  # 09:00-10:30 is busy
    assert starts[-1] == "16:30" and len(starts) == 13


def test_google_booking_is_idempotent_through_the_event_id(
    gcal: GoogleCalendarClient, mock_http: respx.MockRouter
) -> None:
    event_id = event_id_for("meet-1")
    event = {**load_fixture("google_calendar", "event"), "id": event_id}
    insert = mock_http.post(f"{GCAL}/calendars/primary/events").mock(
        side_effect=[
            respx.MockResponse(200, json=event),
            respx.MockResponse(409, json=load_fixture("google_calendar", "duplicate")),
        ]
    )
    mock_http.get(f"{GCAL}/calendars/primary/events/{event_id}").respond(200, json=event)
    kwargs = {
        "idempotency_key": "meet-1",
        "start": dt.datetime(2026, 3, 3, 15, tzinfo=UTC),
        "duration_minutes": 30,
        "attendee_email": "dana@acmedental.example",
        "attendee_name": "Dana Lee",
        "title": "Discovery call",
    }
    first = gcal.book(**kwargs)  # type: ignore[arg-type]
    again = gcal.book(**kwargs)  # type: ignore[arg-type]
    assert first == again and first.meeting_url == "https://meet.google.com/abc-defg-hij"
    assert body(insert, 0)["id"] == event_id and insert.calls[0].request.url.params["sendUpdates"] == "all"


def test_google_reschedule_keeps_the_length_and_cancel_tolerates_gone(
    gcal: GoogleCalendarClient, mock_http: respx.MockRouter
) -> None:
    event = load_fixture("google_calendar", "event")
    mock_http.get(f"{GCAL}/calendars/primary/events/ev1").respond(200, json=event)
    patch = mock_http.patch(f"{GCAL}/calendars/primary/events/ev1").respond(200, json=event)
    gcal.reschedule(booking_id="ev1", start=dt.datetime(2026, 3, 4, 10, tzinfo=UTC))
    assert body(patch)["end"]["dateTime"] == "2026-03-04T10:30:00+00:00"
    mock_http.delete(f"{GCAL}/calendars/primary/events/ev1").respond(
        410, json={"error": {"message": "Resource has been deleted"}}
    )
    gcal.cancel(booking_id="ev1")
