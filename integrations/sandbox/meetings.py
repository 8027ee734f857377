"""Sandbox calendar (Cal.com-like) and recorder (Fathom-like).

A booking is reported at once (BOOKING_CREATED); then the prospect's fate plays out on the
project clock: the meeting is held (MEETING_ENDED, then Fathom's transcript a few minutes
later), missed (BOOKING_NO_SHOW_UPDATED), moved by the prospect (BOOKING_RESCHEDULED) or
cancelled (BOOKING_CANCELLED). Moves and cancellations by the agency are reported too.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from integrations.http.errors import NotFoundError
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox import payloads
from integrations.sandbox.behaviour import meeting_fate
from integrations.sandbox.conversation import discovery_call
from integrations.sandbox.market import SandboxProvider, find_person
from integrations.sandbox.rng import rng_for, sandbox_id, stable_hash
from integrations.sandbox.store import cancel_pending, recall, records, remember, schedule, update_record
from integrations.values import Booking, Recording, Slot, Transcript, TranscriptSegment
from smarter_team import clock

HOST_NAME = "Alex (Smarter Team)"
MAX_SLOTS = 40


def _tz(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _booking_value(booking: dict[str, Any]) -> Booking:
    return Booking(
        booking_id=booking["booking_id"],
        start=dt.datetime.fromisoformat(booking["start"]),
        end=dt.datetime.fromisoformat(booking["end"]),
        status=booking.get("status", "accepted"),
        meeting_url=booking["meeting_url"],
        attendee_email=booking["attendee_email"],
    )


def _booking(booking_id: str) -> dict[str, Any]:
    booking = recall(kind="booking", ref=booking_id)
    if booking is None:
        raise NotFoundError(f"no booking {booking_id}", provider=SANDBOX, operation="booking")
    return booking


def _new_booking(*, booking_id: str, start: dt.datetime, minutes: int, **fields: Any) -> dict[str, Any]:
    return remember(
        kind="booking",
        ref=booking_id,
        data={
            "booking_id": booking_id,
            "number": stable_hash(booking_id) % 10_000_000,
            "start": start.astimezone(dt.UTC).isoformat(),
            "end": (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC).isoformat(),
            "minutes": minutes,
            "meeting_url": f"https://cal.com/video/{booking_id}",
            "status": "accepted",
            **fields,
        },
    )


def _report(booking: dict[str, Any], trigger: str, at: dt.datetime, **extra: Any) -> None:
    schedule(
        key=f"calcom:{booking['booking_id']}:{trigger}",
        provider="calcom",
        kind=trigger.lower(),
        subject=booking["booking_id"],
        payload=payloads.calcom_booking(trigger=trigger, booking=booking, at=at, **extra),
        due_at=at,
    )


def _plan_fate(booking: dict[str, Any], *, may_move: bool) -> None:
    """What the prospect will do about this meeting, scheduled on the project clock."""
    now = clock.now()
    start, end = dt.datetime.fromisoformat(booking["start"]), dt.datetime.fromisoformat(booking["end"])
    person = find_person(booking["attendee_email"])
    fate = meeting_fate(booking_id=booking["booking_id"], fit=person.company.fit)
    kind = fate.kind if may_move or fate.kind in ("held", "no_show") else "held"
    notice_at = max(start - fate.notice, now + dt.timedelta(minutes=1))
    if kind == "held":
        _report(booking, "MEETING_ENDED", end)
        _plan_recording(booking, person_email=person.email)
    elif kind == "no_show":
        _report(booking, "BOOKING_NO_SHOW_UPDATED", start + dt.timedelta(minutes=15), no_show=True)
    elif kind == "cancelled":
        _report(booking, "BOOKING_CANCELLED", notice_at, cancellationReason="Something came up on our side")
    else:
        moved = _new_booking(
            booking_id=sandbox_id("bk", booking["booking_id"], "moved"),
            start=start + fate.moved_by,
            minutes=int(booking["minutes"]),
            **{k: booking[k] for k in ("title", "attendee_email", "attendee_name", "timezone")},
            previous_booking_id=booking["booking_id"],
        )
        _report(moved, "BOOKING_RESCHEDULED", notice_at, rescheduleUid=booking["booking_id"])
        _plan_fate(moved, may_move=False)


def _plan_recording(booking: dict[str, Any], *, person_email: str) -> None:
    recording_id = sandbox_id("rec", booking["booking_id"])
    start, end = dt.datetime.fromisoformat(booking["start"]), dt.datetime.fromisoformat(booking["end"])
    lines = discovery_call(
        booking_id=booking["booking_id"],
        person=find_person(person_email),
        host_name=HOST_NAME,
        minutes=booking["minutes"],
    )
    summary = f"Discovery call with {booking['attendee_name']}: needs, budget and timeline discussed; proposal next."
    recording = remember(
        kind="recording",
        ref=recording_id,
        data={
            "recording_id": recording_id,
            "booking_id": booking["booking_id"],
            "title": booking["title"],
            "started_at": start.isoformat(),
            "duration_seconds": int((end - start).total_seconds()),
            "lines": lines,
        },
    )
    ready_at = end + dt.timedelta(minutes=rng_for("recording-ready", recording_id).randint(3, 20))
    schedule(
        key=f"fathom:{recording_id}:ready",
        provider="fathom",
        kind="recording_ready",
        subject=booking["booking_id"],
        payload=payloads.fathom_meeting(
            recording_id=recording_id,
            booking=booking,
            lines=recording["lines"],
            summary=summary,
            started=start,
            ended=end,
        ),
        due_at=ready_at,
    )


@register_provider("calendar", SANDBOX, keys=())
class SandboxCalendar(SandboxProvider):
    def available_slots(
        self, *, start: dt.datetime, end: dt.datetime, duration_minutes: int = 30, timezone: str = "UTC"
    ) -> list[Slot]:
        """Weekday business hours (9-17) in ``timezone``, minus the host's seeded busy times."""
        tz, slots = _tz(timezone), list[Slot]()
        cursor = max(start, clock.now()).astimezone(tz).replace(minute=0, second=0, microsecond=0)
        step = dt.timedelta(minutes=30)
        booked = {b["start"] for b in records(kind="booking", status="accepted")}
        while cursor + dt.timedelta(minutes=duration_minutes) <= end and len(slots) < MAX_SLOTS:
            slot_end = cursor + dt.timedelta(minutes=duration_minutes)
            in_hours = cursor.weekday() < 5 and cursor.hour >= 9 and slot_end <= cursor.replace(hour=17, minute=0)
            key = cursor.astimezone(dt.UTC).isoformat()
            if in_hours and key not in booked and rng_for("busy", key).random() >= 0.3:
                slots.append(Slot(start=cursor.astimezone(dt.UTC), end=slot_end.astimezone(dt.UTC)))
            cursor += step
        return slots

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
        booking_id = sandbox_id("bk", idempotency_key)
        fresh = recall(kind="booking", ref=booking_id) is None
        booking = _new_booking(
            booking_id=booking_id,
            start=start,
            minutes=duration_minutes,
            title=title,
            attendee_email=attendee_email.strip().lower(),
            attendee_name=attendee_name,
            timezone=timezone,
        )
        if fresh:
            _report(booking, "BOOKING_CREATED", clock.now())
            _plan_fate(booking, may_move=True)
        return _booking_value(booking)

    def reschedule(self, *, booking_id: str, start: dt.datetime, reason: str = "") -> Booking:
        old = _booking(booking_id)
        cancel_pending(subject=booking_id)
        update_record(kind="booking", ref=booking_id, status="rescheduled")
        moved = _new_booking(
            booking_id=sandbox_id("bk", booking_id, start.isoformat()),
            start=start,
            minutes=int(old["minutes"]),
            **{k: old[k] for k in ("title", "attendee_email", "attendee_name", "timezone")},
            previous_booking_id=booking_id,
        )
        _report(moved, "BOOKING_RESCHEDULED", clock.now(), rescheduleUid=booking_id, rescheduleReason=reason)
        _plan_fate(moved, may_move=False)
        return _booking_value(moved)

    def cancel(self, *, booking_id: str, reason: str = "") -> None:
        booking = _booking(booking_id)
        if booking.get("status") == "cancelled":
            return
        cancel_pending(subject=booking_id)
        booking = update_record(kind="booking", ref=booking_id, status="cancelled")
        _report(booking, "BOOKING_CANCELLED", clock.now(), cancellationReason=reason)


@register_provider("recorder", SANDBOX, keys=())
class SandboxRecorder(SandboxProvider):
    def _happened(self, recording: dict[str, Any]) -> bool:
        ended = dt.datetime.fromisoformat(recording["started_at"]) + dt.timedelta(seconds=recording["duration_seconds"])
        return ended <= clock.now()

    def _get(self, recording_id: str) -> dict[str, Any]:
        recording = recall(kind="recording", ref=recording_id)
        if recording is None or not self._happened(recording):
            raise NotFoundError(f"no recording {recording_id}", provider=SANDBOX, operation="recording")
        return recording

    def list_recordings(self, *, since: dt.datetime | None = None) -> list[Recording]:
        found = [self._value(r) for r in records(kind="recording") if self._happened(r)]
        return [r for r in found if since is None or (r.started_at is not None and r.started_at >= since)]

    def get_recording(self, recording_id: str) -> Recording:
        return self._value(self._get(recording_id))

    def get_transcript(self, recording_id: str) -> Transcript:
        recording = self._get(recording_id)
        segments = []
        for line in recording["lines"]:
            hours, minutes, seconds = (int(p) for p in line["timestamp"].split(":"))
            segments.append(
                TranscriptSegment(
                    speaker=line["speaker"], text=line["text"], start_seconds=hours * 3600 + minutes * 60 + seconds
                )
            )
        return Transcript(recording_id=recording_id, segments=tuple(segments))

    @staticmethod
    def _value(recording: dict[str, Any]) -> Recording:
        return Recording(
            recording_id=recording["recording_id"],
            title=recording["title"],
            url=f"https://fathom.video/calls/{recording['recording_id']}",
            share_url=f"https://fathom.video/share/{recording['recording_id']}",
            started_at=dt.datetime.fromisoformat(recording["started_at"]),
            duration_seconds=recording["duration_seconds"],
        )
