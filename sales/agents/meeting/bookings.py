"""The calendar's side effects, performed after the scheduler's act commits (agents/outbox.py).

A booking is made under the key ``lead:{lead}:meeting:{meeting}:booking`` (domain identity), which
the provider receives as its idempotency key (Cal.com keeps it in the booking's metadata and echoes
it in its webhooks): a worker that dies after the call and is retried books nothing twice. The
booking's uid is written back onto the Meeting when the call returns; the Cal.com webhook that
reports the same booking may arrive first, and meeting_lifecycle_orchestrator then matches it by
that key. The invitation reaches the attendee, so the suppression list is checked before each try.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from pydantic import BaseModel

from agents.models import Action
from agents.outbox import register_performer
from sales.models import Meeting
from sales.services.meetings import cancel_meeting

logger = logging.getLogger(__name__)

BOOK = "calendar.book"
MOVE = "calendar.reschedule"
_KEY = re.compile(r"\blead:(?P<lead>\d+):meeting:(?P<meeting>\d+):booking")


def booking_key(*, lead_id: int, meeting_id: int, start: dt.datetime | None = None) -> str:
    """The booking's key; a meeting booked again after its first booking failed adds the time."""
    key = f"lead:{lead_id}:meeting:{meeting_id}:booking"
    return f"{key}:{start.astimezone(dt.UTC):%Y%m%dT%H%MZ}" if start is not None else key


def move_key(*, lead_id: int, meeting_id: int, start: dt.datetime) -> str:
    return f"lead:{lead_id}:meeting:{meeting_id}:move:{start.astimezone(dt.UTC):%Y%m%dT%H%MZ}"


def meeting_of_key(key: str) -> tuple[int, int] | None:
    """(lead id, meeting id) named by a booking key, as Cal.com echoes it in a webhook's metadata."""
    match = _KEY.search(key or "")
    return (int(match["lead"]), int(match["meeting"])) if match else None


class BookCall(BaseModel):
    meeting_id: int
    attendee_email: str
    attendee_name: str
    start: dt.datetime
    duration_minutes: int
    title: str
    timezone: str
    notes: str = ""


class MoveCall(BaseModel):
    meeting_id: int
    attendee_email: str
    booking_uid: str
    start: dt.datetime
    reason: str = ""


def _booked(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("booking_uid", "start", "end", "meeting_url") if k in result}


@register_performer(BOOK, payload=BookCall, contacts=("attendee_email",))
class BookCallPerformer:
    """A call booked in the calendar under the act's key, its uid written back onto the meeting.

    Every booking the agency makes goes through this class: the kickoff's performer
    (delivery/agents/onboarding/orchestrator.py) extends it with its checklist tick.
    """

    def perform(self, payload: BookCall, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        booking = get_role("calendar").book(
            idempotency_key=key,
            start=payload.start,
            duration_minutes=payload.duration_minutes,
            attendee_email=payload.attendee_email,
            attendee_name=payload.attendee_name,
            title=payload.title,
            timezone=payload.timezone,
            notes=payload.notes,
        )
        return _booked(
            {
                "booking_uid": booking.booking_id,
                "start": booking.start.isoformat(),
                "end": booking.end.isoformat(),
                "meeting_url": booking.meeting_url,
            }
        )

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        attach_booking(meeting_id=int(action.payload["meeting_id"]), uid=str(result.get("booking_uid") or ""),
                       join_url=str(result.get("meeting_url") or ""))  # fmt: skip

    def on_failed(self, action: Action, reason: str, *, blocked: bool) -> None:
        # No booking exists: the meeting must not stay live (it would block the lead's next booking,
        # and an unbooked kickoff leaves its checklist item open for the stuck detector to chase).
        meeting = Meeting.objects.filter(pk=action.payload["meeting_id"], booking_uid__isnull=True).first()
        if meeting is not None and meeting.STATUS_MACHINE.allowed(meeting.status, Meeting.Status.CANCELED):
            cancel_meeting(meeting=meeting)
        logger.warning("booking for meeting %s %s: %s", action.payload["meeting_id"],
                       "blocked" if blocked else "failed", reason)  # fmt: skip


@register_performer(MOVE, payload=MoveCall, contacts=("attendee_email",))
class MoveCallPerformer:
    def perform(self, payload: MoveCall, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        booking = get_role("calendar").reschedule(
            booking_id=payload.booking_uid, start=payload.start, reason=payload.reason
        )
        return {"booking_uid": booking.booking_id, "previous_booking_uid": payload.booking_uid,
                "meeting_url": booking.meeting_url}  # fmt: skip

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        # Cal.com gives a moved booking a new uid; the meeting follows it.
        meeting = Meeting.objects.select_for_update().filter(pk=action.payload["meeting_id"]).first()
        uid = str(result.get("booking_uid") or "")
        if meeting is None or not uid or meeting.booking_uid == uid:
            return
        if meeting.booking_uid not in (None, "", result.get("previous_booking_uid")):
            return  # moved again since: a later move owns the uid
        if Meeting.objects.filter(booking_uid=uid).exclude(pk=meeting.pk).exists():
            return
        meeting.booking_uid = uid
        fields = ["booking_uid"]
        if result.get("meeting_url"):
            meeting.join_url = str(result["meeting_url"])[:500]
            fields.append("join_url")
        meeting.save(update_fields=fields)


def attach_booking(*, meeting_id: int, uid: str, join_url: str = "") -> Meeting | None:
    """Put the provider's booking uid onto our meeting (once; another meeting never loses its own)."""
    meeting = Meeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None or not uid:
        return meeting
    if meeting.booking_uid and meeting.booking_uid != uid:
        return meeting  # the meeting has moved on to a later booking
    if Meeting.objects.filter(booking_uid=uid).exclude(pk=meeting.pk).exists():
        logger.warning("booking %s is already on another meeting; meeting %s keeps none", uid, meeting_id)
        return meeting
    fields = []
    if meeting.booking_uid != uid:
        meeting.booking_uid = uid
        fields.append("booking_uid")
    if join_url and meeting.join_url != join_url:
        meeting.join_url = join_url[:500]
        fields.append("join_url")
    if fields:
        meeting.save(update_fields=fields)
    return meeting
