"""Cal.com (API v2): free slots and bookings (the Calendar role).

API reference: https://cal.com/docs/api-reference/v2/introduction
Every endpoint family is versioned by the ``cal-api-version`` header; each call sends its own.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, ClassVar, Literal

import pydantic

from integrations.http import BaseClient, NotFoundError, Rate
from integrations.registry import register_provider
from integrations.values import Booking, Slot

SLOTS = "slots"  # https://cal.com/docs/api-reference/v2/slots/get-available-time-slots-for-an-event-type
SLOTS_VERSION = "2024-09-04"
BOOKINGS = "bookings"  # https://cal.com/docs/api-reference/v2/bookings/create-a-booking
BOOKING_RESCHEDULE = "bookings/{uid}/reschedule"  # https://cal.com/docs/api-reference/v2/bookings/reschedule-a-booking
BOOKING_CANCEL = "bookings/{uid}/cancel"  # https://cal.com/docs/api-reference/v2/bookings/cancel-a-booking
BOOKINGS_VERSION = "2024-08-13"
EVENT_TYPES = "event-types"  # https://cal.com/docs/api-reference/v2/event-types/get-all-event-types
EVENT_TYPES_VERSION = "2024-06-14"
ME = "me"  # https://cal.com/docs/api-reference/v2/me/get-my-profile

BookingState = Literal["accepted", "pending", "cancelled", "rescheduled", "unknown"]
# Cal.com's booking statuses; a rejected booking is a declined request: no meeting, as if cancelled.
_STATUSES: dict[str, BookingState] = {
    "accepted": "accepted",
    "pending": "pending",
    "cancelled": "cancelled",
    "rejected": "cancelled",
}
_event_type_ids: dict[int, int] = {}
_lock = threading.Lock()


class _SlotStart(pydantic.BaseModel):
    start: dt.datetime


class SlotsResponse(pydantic.BaseModel):
    status: str
    data: dict[str, list[_SlotStart]]


class _Booking(pydantic.BaseModel):
    uid: str
    start: dt.datetime
    end: dt.datetime
    status: str = "accepted"
    meetingUrl: str | None = None
    location: str | None = None


class BookingResponse(pydantic.BaseModel):
    status: str
    data: _Booking


class _EventType(pydantic.BaseModel):
    id: int
    lengthInMinutes: int
    slug: str = ""


class EventTypesResponse(pydantic.BaseModel):
    status: str
    data: list[_EventType]


class _Me(pydantic.BaseModel):
    id: int
    email: str = ""


class MeResponse(pydantic.BaseModel):
    status: str
    data: _Me


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _booking(booking: _Booking, attendee_email: str = "") -> Booking:
    status = _STATUSES.get(booking.status, "unknown")
    return Booking(
        booking_id=booking.uid,
        start=booking.start,
        end=booking.end,
        status=status,
        meeting_url=booking.meetingUrl or booking.location or "",
        attendee_email=attendee_email,
    )


@register_provider("calendar", "calcom")
class CalComClient(BaseClient):
    name = "calcom"
    base_url = "https://api.cal.com/v2"
    api_key_name = "CALCOM_API_KEY"
    required_keys = ("CALCOM_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=2.0)  # 120 requests/minute per key

    def event_type_id(self, duration_minutes: int) -> int:
        """The account's event type of that length (a 30-minute call is a 30-minute event type)."""
        with _lock:
            if duration_minutes not in _event_type_ids:
                types = self.get(
                    EVENT_TYPES,
                    operation="event_types",
                    model=EventTypesResponse,
                    headers={"cal-api-version": EVENT_TYPES_VERSION},
                ).data
                match = next((t for t in types if t.lengthInMinutes == duration_minutes), None)
                if match is None:
                    raise NotFoundError(
                        f"no {duration_minutes}-minute event type", provider=self.name, operation="event_types"
                    )
                _event_type_ids[duration_minutes] = match.id
            return _event_type_ids[duration_minutes]

    def available_slots(
        self, *, start: dt.datetime, end: dt.datetime, duration_minutes: int = 30, timezone: str = "UTC"
    ) -> list[Slot]:
        response = self.get(
            SLOTS,
            operation="available_slots",
            model=SlotsResponse,
            headers={"cal-api-version": SLOTS_VERSION},
            params={
                "eventTypeId": self.event_type_id(duration_minutes),
                "start": _iso(start),
                "end": _iso(end),
                "timeZone": timezone,
            },
        )
        length = dt.timedelta(minutes=duration_minutes)
        starts = sorted(s.start for day in response.data.values() for s in day)
        return [Slot(start=s, end=s + length) for s in starts]

    def book(
        self,
        *,
        idempotency_key: str,
        start: dt.datetime,
        duration_minutes: int,
        attendee_email: str,
        attendee_name: str,
        title: str,
        timezone: str = "UTC",
        notes: str = "",
    ) -> Booking:
        body: dict[str, Any] = {
            "start": _iso(start),
            "eventTypeId": self.event_type_id(duration_minutes),
            "attendee": {"name": attendee_name, "email": attendee_email, "timeZone": timezone},
            "metadata": {"idempotency_key": idempotency_key[:500]},
            "bookingFieldsResponses": {"notes": notes} if notes else {},
        }
        booked = self.post(
            BOOKINGS, operation="book", model=BookingResponse, json=body, headers={"cal-api-version": BOOKINGS_VERSION}
        )
        return _booking(booked.data, attendee_email)

    def reschedule(self, *, booking_id: str, start: dt.datetime, reason: str = "") -> Booking:
        moved = self.post(
            BOOKING_RESCHEDULE.format(uid=booking_id),
            operation="reschedule",
            model=BookingResponse,
            json={"start": _iso(start), "reschedulingReason": reason},
            headers={"cal-api-version": BOOKINGS_VERSION},
        )
        return _booking(moved.data)

    def cancel(self, *, booking_id: str, reason: str = "") -> None:
        self.post(
            BOOKING_CANCEL.format(uid=booking_id),
            operation="cancel",
            model=BookingResponse,
            json={"cancellationReason": reason or "cancelled"},
            headers={"cal-api-version": BOOKINGS_VERSION},
            idempotent=True,  # cancelling twice leaves it cancelled
        )

    def ping(self) -> str:
        return f"user {self.get(ME, operation='health_check', model=MeResponse, attempts=1).data.id}"
