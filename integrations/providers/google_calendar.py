"""Google Calendar: free/busy and events on the agency's primary calendar (the Calendar role).

API reference: https://developers.google.com/calendar/api/v3/reference
Events get an id derived from the idempotency key (Google lets the client choose it), so a
retried booking meets a 409 and returns the event created the first time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

import pydantic

from integrations.providers._google import GoogleClient
from integrations.registry import register_provider
from integrations.values import Booking, Slot

FREEBUSY = "freeBusy"  # https://developers.google.com/calendar/api/v3/reference/freebusy/query
EVENTS = "calendars/primary/events"  # https://developers.google.com/calendar/api/v3/reference/events/insert
EVENT = "calendars/primary/events/{id}"  # .../events/get, .../events/patch, .../events/delete
CALENDAR_LIST = "users/me/calendarList"  # https://developers.google.com/calendar/api/v3/reference/calendarList/list
WORKDAY = (dt.time(9), dt.time(17))  # slots offered when only busy times are known


class _Busy(pydantic.BaseModel):
    start: dt.datetime
    end: dt.datetime


class _CalendarBusy(pydantic.BaseModel):
    busy: list[_Busy] = []


class FreeBusy(pydantic.BaseModel):
    calendars: dict[str, _CalendarBusy]


class _When(pydantic.BaseModel):
    dateTime: dt.datetime


class _Attendee(pydantic.BaseModel):
    email: str


class Event(pydantic.BaseModel):
    id: str
    status: str = "confirmed"
    start: _When
    end: _When
    hangoutLink: str | None = None
    htmlLink: str = ""
    attendees: list[_Attendee] = []


class CalendarList(pydantic.BaseModel):
    items: list[dict[str, Any]] = []


def event_id_for(idempotency_key: str) -> str:
    # Event ids use base32hex characters (a-v, 0-9); lowercase hex is a subset.
    return "st" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _booking(event: Event) -> Booking:
    status = "cancelled" if event.status == "cancelled" else "accepted" if event.status == "confirmed" else "pending"
    return Booking(
        booking_id=event.id,
        start=event.start.dateTime,
        end=event.end.dateTime,
        status=status,
        meeting_url=event.hangoutLink or event.htmlLink,
        attendee_email=event.attendees[0].email if event.attendees else "",
    )


def free_slots(
    busy: list[tuple[dt.datetime, dt.datetime]],
    *,
    start: dt.datetime,
    end: dt.datetime,
    length: dt.timedelta,
    timezone: str,
) -> list[Slot]:
    """Slots of ``length`` on a grid of ``length``, on working hours of weekdays, overlapping nothing busy."""
    zone = ZoneInfo(timezone)
    slots: list[Slot] = []
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        if day.weekday() < 5:
            cursor = dt.datetime.combine(day, WORKDAY[0], tzinfo=zone)
            day_end = dt.datetime.combine(day, WORKDAY[1], tzinfo=zone)
            while cursor + length <= day_end:
                slot_end = cursor + length
                if cursor >= start and slot_end <= end and not any(b0 < slot_end and cursor < b1 for b0, b1 in busy):
                    slots.append(Slot(start=cursor.astimezone(dt.UTC), end=slot_end.astimezone(dt.UTC)))
                cursor = slot_end
        day += dt.timedelta(days=1)
    return slots


@register_provider("calendar", "google_calendar")
class GoogleCalendarClient(GoogleClient):
    name = "google_calendar"
    base_url = "https://www.googleapis.com/calendar/v3"

    def available_slots(
        self, *, start: dt.datetime, end: dt.datetime, duration_minutes: int = 30, timezone: str = "UTC"
    ) -> list[Slot]:
        result = self.post(
            FREEBUSY,
            operation="available_slots",
            model=FreeBusy,
            idempotent=True,
            json={
                "timeMin": start.isoformat(),
                "timeMax": end.isoformat(),
                "timeZone": timezone,
                "items": [{"id": "primary"}],
            },
        )
        busy = [(b.start, b.end) for cal in result.calendars.values() for b in cal.busy]
        return free_slots(busy, start=start, end=end, length=dt.timedelta(minutes=duration_minutes), timezone=timezone)

    def get_event(self, event_id: str) -> Event:
        return self.get(EVENT.format(id=event_id), operation="get_event", model=Event)

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
        event_id = event_id_for(idempotency_key)
        end = start + dt.timedelta(minutes=duration_minutes)
        response = self.request(
            "POST",
            EVENTS,
            operation="book",
            accept=(409,),
            params={"sendUpdates": "all", "conferenceDataVersion": 1},
            json={
                "id": event_id,
                "summary": title,
                "description": notes,
                "start": {"dateTime": start.isoformat(), "timeZone": timezone},
                "end": {"dateTime": end.isoformat(), "timeZone": timezone},
                "attendees": [{"email": attendee_email, "displayName": attendee_name}],
                "conferenceData": {"createRequest": {"requestId": event_id}},
            },
            idempotent=True,  # the event id makes a second insert a 409, not a second meeting
        )
        if response.status_code == 409:
            return _booking(self.get_event(event_id))
        return _booking(self.parse(response, Event, operation="book"))

    def reschedule(self, *, booking_id: str, start: dt.datetime, reason: str = "") -> Booking:
        current = self.get_event(booking_id)
        end = start + (current.end.dateTime - current.start.dateTime)
        moved = self.request_json(
            "PATCH",
            EVENT.format(id=booking_id),
            operation="reschedule",
            model=Event,
            idempotent=True,
            params={"sendUpdates": "all"},
            json={"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}},
        )
        return _booking(moved)

    def cancel(self, *, booking_id: str, reason: str = "") -> None:
        # 410 Gone / 404: already cancelled or deleted, which is what we wanted.
        self.request(
            "DELETE", EVENT.format(id=booking_id), operation="cancel", params={"sendUpdates": "all"}, accept=(404, 410)
        )

    def ping(self) -> str:
        self.get(CALENDAR_LIST, operation="health_check", model=CalendarList, params={"maxResults": 1}, attempts=1)
        return "calendar readable"
