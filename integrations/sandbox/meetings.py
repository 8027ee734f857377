"""Sandbox calendar (Cal.com-like) and recorder (Fathom-like).

A booking is reported at once (BOOKING_CREATED). Whether the prospect's plans change is drawn then:
about one in five moves the call (BOOKING_RESCHEDULED) or cancels it (BOOKING_CANCELLED), some
hours ahead. Whether they come is decided when the call starts (a moment of the world,
integrations/sandbox/moments.py), from their fit and the reminders they received by then
(integrations/sandbox/attendance.py): the call is held (MEETING_ENDED, then Fathom's transcript a
few minutes later, its content planned at the start so that it may depend on what happened before
the call) or missed (BOOKING_NO_SHOW_UPDATED). Moves and cancellations by the agency are reported
too, and cancel what the world had planned for the old booking.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from integrations.http.errors import NotFoundError
from integrations.models import SandboxEvent, SandboxRecord
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox import attendance, moments, payloads
from integrations.sandbox.behaviour import meeting_fate
from integrations.sandbox.conversation import discovery_call
from integrations.sandbox.market import SandboxProvider, find_person
from integrations.sandbox.rng import rng_for, sandbox_id, stable_hash
from integrations.sandbox.store import cancel_pending, recall, records, ref_for, remember, schedule, update_record
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
            "booked_at": clock.now().astimezone(dt.UTC).isoformat(),
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


MEETING_STARTS = "meeting_starts"
PLANS_CHANGE = "plans_change"
NO_SHOW_MARKED_AFTER = dt.timedelta(minutes=15)  # the host waits a quarter of an hour, then marks it
_COPIED = ("title", "attendee_email", "attendee_name", "timezone", "metadata")


def _plan_fate(booking: dict[str, Any], *, may_move: bool) -> None:
    """What the prospect will do about this meeting, as moments on the project clock: a change of
    plans ahead (drawn now, for a booking the prospect has not moved yet), else the start, where
    attendance is decided."""
    now = clock.now()
    start = dt.datetime.fromisoformat(booking["start"])
    booking_id = booking["booking_id"]
    if may_move:
        person = find_person(booking["attendee_email"])
        fate = meeting_fate(attendee_email=person.email, start=start, fit=person.company.fit)
        if fate.kind != "keeps":
            moments.plan(
                key=f"world:{booking_id}:{PLANS_CHANGE}",
                kind=PLANS_CHANGE,
                subject=booking_id,
                at=max(start - fate.notice, now + dt.timedelta(minutes=1)),
                booking_id=booking_id,
                change=fate.kind,
                moved_by_days=fate.moved_by.days,
            )
            return
    moments.plan(
        key=f"world:{booking_id}:{MEETING_STARTS}",
        kind=MEETING_STARTS,
        subject=booking_id,
        at=start,
        booking_id=booking_id,
    )


@moments.on(PLANS_CHANGE)
def _plans_change(event: SandboxEvent) -> None:
    """The prospect moves or cancels the call (if it is still theirs to move: the agency may have
    moved or cancelled it since)."""
    booking = recall(kind="booking", ref=event.payload["booking_id"])
    if booking is None or booking.get("status") != "accepted":
        return
    now = clock.now()
    if event.payload["change"] == "cancelled":
        booking = update_record(kind="booking", ref=booking["booking_id"], status="cancelled")
        _report(booking, "BOOKING_CANCELLED", now, cancellationReason="Something came up on our side")
        return
    update_record(kind="booking", ref=booking["booking_id"], status="rescheduled")
    moved = _new_booking(
        booking_id=sandbox_id("bk", booking["booking_id"], "moved"),
        start=dt.datetime.fromisoformat(booking["start"]) + dt.timedelta(days=int(event.payload["moved_by_days"])),
        minutes=int(booking["minutes"]),
        **{k: booking[k] for k in _COPIED if k in booking},
        previous_booking_id=booking["booking_id"],
    )
    _report(moved, "BOOKING_RESCHEDULED", now, rescheduleUid=booking["booking_id"])
    _plan_fate(moved, may_move=False)


@moments.on(MEETING_STARTS)
def _meeting_starts(event: SandboxEvent) -> None:
    """The call starts: does the prospect come? From their fit and the reminders they had."""
    booking = recall(kind="booking", ref=event.payload["booking_id"])
    if booking is None or booking.get("status") != "accepted":
        return
    person = find_person(booking["attendee_email"])
    start, end = dt.datetime.fromisoformat(booking["start"]), dt.datetime.fromisoformat(booking["end"])
    reminders = attendance.reminders_received(
        attendee_email=person.email,
        start=start,
        booked_at=dt.datetime.fromisoformat(booking.get("booked_at") or booking["start"]),
        timezone=person.company.timezone,
    )
    came = attendance.shows_up(attendee_email=person.email, start=start, fit=person.company.fit, reminders=reminders)
    booking = update_record(
        kind="booking",
        ref=booking["booking_id"],
        no_show=not came,
        reminded={"day_before": reminders.day_before, "hour_before": reminders.hour_before},
    )
    if came:
        _report(booking, "MEETING_ENDED", end)
        _plan_recording(booking, person_email=person.email)
    else:
        _report(booking, "BOOKING_NO_SHOW_UPDATED", start + NO_SHOW_MARKED_AFTER, no_show=True)


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
        # Only the window's bookings, by the indexed start: every drafted reply and every booking asks
        # for slots, so reading all bookings each time would grow with the square of the calls.
        window = SandboxRecord.objects.filter(
            kind="booking",
            starts__gte=cursor.astimezone(dt.UTC).isoformat(),
            starts__lte=end.astimezone(dt.UTC).isoformat(),
            data__status="accepted",
        )
        booked = set(window.values_list("starts", flat=True))
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
        booking_id = booking_identity(attendee_email, start, idempotency_key)
        fresh = recall(kind="booking", ref=booking_id) is None
        booking = _new_booking(
            booking_id=booking_id,
            start=start,
            minutes=duration_minutes,
            title=title,
            attendee_email=attendee_email.strip().lower(),
            attendee_name=attendee_name,
            timezone=timezone,
            # Cal.com keeps a booking's metadata and echoes it in its webhooks.
            metadata={"idempotency_key": idempotency_key[:500]},
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
            **{k: old[k] for k in _COPIED if k in old},
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


def booking_identity(attendee_email: str, start: dt.datetime, idempotency_key: str) -> str:
    """A booking's id, from the market's identities: who meets when. The call's course, transcript and
    recording are drawn from it (conversation.py), so an id made from our key (which names our lead's
    and meeting's database ids) gave the same prospect another call on every database: CI's ids drew
    other proposals. The key still makes a booking once: a retry with it finds the booking it made; the
    same person at the same time under another key (booked again after a cancellation) is a new one."""
    who, when = attendee_email.strip().lower(), start.astimezone(dt.UTC).isoformat()
    return ref_for(
        kind="booking",
        key=idempotency_key[:500],
        made_by=lambda made: str((made.get("metadata") or {}).get("idempotency_key", "")),
        ref=lambda n: sandbox_id("bk", who, when, *(("again", n) if n else ())),
    )


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
