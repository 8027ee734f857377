"""Meetings: booking, rescheduling, outcomes. Status changes go through ``Meeting.transition_to``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import Lead
from sales.models import Client, Meeting, MeetingNote, MeetingParticipant

S = Meeting.Status


def _check_times(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    for value in (starts_at, ends_at):
        if value is not None and value.tzinfo is None:
            raise ValidationError("Meeting times must be time zone aware", code="naive_datetime")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError("The meeting must end after it starts", code="ends_before_start")


def create_meeting(
    *,
    lead: Lead | None = None,
    client: Client | None = None,
    kind: str = Meeting.Kind.DISCOVERY,
    title: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    time_zone: str = "UTC",
    join_url: str = "",
    booking_uid: str | None = None,
    participants: Sequence[Mapping[str, Any]] = (),
) -> Meeting:
    """A meeting with a lead and/or a client: proposed without a time, scheduled with one."""
    if lead is None and client is None:
        raise ValidationError("A meeting needs a lead or a client", code="no_counterpart")
    _check_times(starts_at, ends_at)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            lead=lead,
            client=client,
            kind=kind,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            join_url=join_url,
            booking_uid=booking_uid or None,
        )
        if starts_at is not None:
            meeting.transition_to(S.SCHEDULED)
        for participant in participants:
            add_participant(meeting=meeting, **participant)
        return meeting


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def schedule_meeting(
    *, meeting: Meeting, starts_at: dt.datetime, ends_at: dt.datetime | None = None, join_url: str = ""
) -> Meeting:
    """Proposed -> scheduled at a time."""
    _check_times(starts_at, ends_at)
    with transaction.atomic():
        meeting = _locked(meeting)
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        also = ["starts_at", "ends_at"]
        if join_url:
            meeting.join_url = join_url
            also.append("join_url")
        meeting.transition_to(S.SCHEDULED, also=also)
        return meeting


def reschedule_meeting(*, meeting: Meeting, starts_at: dt.datetime, ends_at: dt.datetime | None = None) -> Meeting:
    """Move a meeting; reminders are sent again for the new time."""
    _check_times(starts_at, ends_at)
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.starts_at == starts_at and meeting.ends_at == ends_at:
            return meeting  # a replayed reschedule
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        meeting.reminder_24h_sent_at = meeting.reminder_1h_sent_at = None
        meeting.transition_to(
            S.RESCHEDULED, also=["starts_at", "ends_at", "reminder_24h_sent_at", "reminder_1h_sent_at"]
        )
        return meeting


def cancel_meeting(*, meeting: Meeting) -> Meeting:
    with transaction.atomic():
        meeting = _locked(meeting)
        meeting.transition_to(S.CANCELED)
        return meeting


def mark_meeting_reminded(*, meeting: Meeting, when: dt.datetime, hours_before: int) -> Meeting:
    """Record that the 24h or the 1h reminder went out (so it is never sent twice)."""
    field = {24: "reminder_24h_sent_at", 1: "reminder_1h_sent_at"}.get(hours_before)
    if field is None:
        raise ValidationError("Reminders are sent 24 or 1 hours before", code="invalid_reminder")
    with transaction.atomic():
        meeting = _locked(meeting)
        if getattr(meeting, field) is not None:
            return meeting
        setattr(meeting, field, when)
        meeting.transition_to(S.REMINDED, also=[field])
        return meeting


def mark_meeting_held(*, meeting: Meeting) -> Meeting:
    with transaction.atomic():
        meeting = _locked(meeting)
        meeting.transition_to(S.HELD)
        return meeting


def mark_meeting_no_show(*, meeting: Meeting) -> Meeting:
    """The prospect did not come; counts attempts so the no-show agent knows when to stop."""
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status == S.NO_SHOW:
            return meeting
        meeting.no_show_attempts += 1
        meeting.transition_to(S.NO_SHOW, also=["no_show_attempts"])
        return meeting


def mark_meeting_followed_up(*, meeting: Meeting) -> Meeting:
    with transaction.atomic():
        meeting = _locked(meeting)
        meeting.transition_to(S.FOLLOWED_UP)
        return meeting


def upsert_meeting_from_booking(
    *,
    booking_uid: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    lead: Lead | None = None,
    client: Client | None = None,
    kind: str = Meeting.Kind.DISCOVERY,
    title: str = "",
    time_zone: str = "UTC",
    join_url: str = "",
    canceled: bool = False,
) -> tuple[Meeting, bool]:
    """Apply a booking (Cal.com) to its meeting; returns ``(meeting, created)``.

    Idempotent: replaying the same booking changes nothing; a new time reschedules, ``canceled``
    cancels. Safe against two deliveries of the same booking at once (unique booking_uid).
    """
    if not booking_uid:
        raise ValidationError("A booking needs its uid", code="missing_booking_uid")
    _check_times(starts_at, ends_at)
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().filter(booking_uid=booking_uid).first()
        created = False
        if meeting is None:
            try:
                with transaction.atomic():
                    meeting = create_meeting(
                        lead=lead,
                        client=client,
                        kind=kind,
                        title=title,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        time_zone=time_zone,
                        join_url=join_url,
                        booking_uid=booking_uid,
                    )
                created = True
            except IntegrityError:
                # Another delivery of this booking inserted it first; continue as an update.
                meeting = Meeting.objects.select_for_update().get(booking_uid=booking_uid)
        if canceled:
            if meeting.status != S.CANCELED:
                meeting.transition_to(S.CANCELED)
            return meeting, created
        if not created and (meeting.starts_at, meeting.ends_at) != (starts_at, ends_at):
            if meeting.status == S.PROPOSED:
                meeting = schedule_meeting(meeting=meeting, starts_at=starts_at, ends_at=ends_at)
            else:
                meeting = reschedule_meeting(meeting=meeting, starts_at=starts_at, ends_at=ends_at)
        if join_url and meeting.join_url != join_url:
            meeting.join_url = join_url
            meeting.save(update_fields=["join_url"])
        return meeting, created


def add_participant(
    *, meeting: Meeting, email: str, name: str = "", role: str = MeetingParticipant.Role.GUEST
) -> MeetingParticipant:
    """Add someone to a meeting, or update their name/role (one row per email)."""
    participant, _ = MeetingParticipant.objects.update_or_create(
        meeting=meeting, email=email.strip().lower(), defaults={"name": name, "role": role}
    )
    return participant


def record_attendance(*, meeting: Meeting, attended_emails: Iterable[str]) -> int:
    """Mark who came; everyone else on the invite did not. Returns how many attended."""
    emails = {e.strip().lower() for e in attended_emails}
    with transaction.atomic():
        participants = list(MeetingParticipant.objects.select_for_update().filter(meeting=meeting))
        for participant in participants:
            participant.attended = participant.email in emails
        MeetingParticipant.objects.bulk_update(participants, ["attended"])
        return sum(1 for p in participants if p.attended)


def save_meeting_note(
    *,
    meeting: Meeting,
    kind: str,
    content: str,
    action_items: Sequence[Mapping[str, Any]] = (),
    source: str = "",
) -> MeetingNote:
    """Write the meeting's prep, transcript or summary (one per kind; a rewrite replaces it)."""
    if not content.strip():
        raise ValidationError("A meeting note needs content", code="empty_note")
    note, _ = MeetingNote.objects.update_or_create(
        meeting=meeting,
        kind=kind,
        defaults={"content": content, "action_items": [dict(i) for i in action_items], "source": source},
    )
    return note
