"""Meeting lifecycle and booking upserts (sales/services/meetings.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from sales.models import Meeting, MeetingNote, MeetingParticipant
from sales.services import meetings
from smarter_team.models import InvalidTransition
from tests.factories.crm import LeadFactory
from tests.factories.sales import MeetingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

T0 = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=30)


def test_a_meeting_without_a_time_is_proposed_and_with_one_scheduled() -> None:
    lead = LeadFactory.create()

    proposed = meetings.create_meeting(lead=lead)
    scheduled = meetings.create_meeting(
        lead=lead, starts_at=T0, ends_at=T1, participants=[{"email": "Ana@Example.com", "role": "prospect"}]
    )

    assert proposed.status == Meeting.Status.PROPOSED
    assert scheduled.status == Meeting.Status.SCHEDULED
    assert list(scheduled.participants.values_list("email", flat=True)) == ["ana@example.com"]


def test_a_meeting_needs_a_lead_or_a_client() -> None:
    with pytest.raises(ValidationError, match="lead or a client"):
        meetings.create_meeting()


def test_a_meeting_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="end after"):
        meetings.create_meeting(lead=LeadFactory.create(), starts_at=T1, ends_at=T0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        meetings.create_meeting(lead=LeadFactory.create(), starts_at=T0.replace(tzinfo=None))


def test_rescheduling_moves_the_time_and_resets_reminders() -> None:
    meeting = MeetingFactory.create(reminder_24h_sent_at=T0 - dt.timedelta(days=1))

    meeting = meetings.reschedule_meeting(meeting=meeting, starts_at=T0 + dt.timedelta(days=1))

    assert meeting.status == Meeting.Status.RESCHEDULED
    assert meeting.starts_at == T0 + dt.timedelta(days=1)
    assert meeting.reminder_24h_sent_at is None


def test_a_reminder_is_recorded_once() -> None:
    meeting = MeetingFactory.create()
    sent_at = T0 - dt.timedelta(hours=24)

    meetings.mark_meeting_reminded(meeting=meeting, when=sent_at, hours_before=24)
    meeting = meetings.mark_meeting_reminded(meeting=meeting, when=sent_at + dt.timedelta(hours=1), hours_before=24)

    assert meeting.status == Meeting.Status.REMINDED
    assert meeting.reminder_24h_sent_at == sent_at


def test_a_no_show_counts_attempts_once_per_miss() -> None:
    meeting = MeetingFactory.create()

    meetings.mark_meeting_no_show(meeting=meeting)
    meeting = meetings.mark_meeting_no_show(meeting=meeting)
    assert meeting.no_show_attempts == 1

    meeting = meetings.reschedule_meeting(meeting=meeting, starts_at=T0 + dt.timedelta(days=2))
    meeting = meetings.mark_meeting_no_show(meeting=meeting)
    assert (meeting.status, meeting.no_show_attempts) == (Meeting.Status.NO_SHOW, 2)


def test_a_held_meeting_cannot_be_canceled() -> None:
    meeting = meetings.mark_meeting_held(meeting=MeetingFactory.create())

    with pytest.raises(InvalidTransition):
        meetings.cancel_meeting(meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


def test_a_proposed_meeting_cannot_be_held() -> None:
    with pytest.raises(InvalidTransition):
        meetings.mark_meeting_held(meeting=MeetingFactory.create(proposed=True))


def test_a_booking_creates_its_meeting_once() -> None:
    lead = LeadFactory.create()

    meeting, created = meetings.upsert_meeting_from_booking(booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1)
    again, created_again = meetings.upsert_meeting_from_booking(booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1)

    assert (created, created_again) == (True, False)
    assert again.pk == meeting.pk
    assert again.status == Meeting.Status.SCHEDULED
    assert Meeting.objects.count() == 1


def test_a_booking_with_a_new_time_reschedules() -> None:
    lead = LeadFactory.create()
    meetings.upsert_meeting_from_booking(booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1)

    meeting, _ = meetings.upsert_meeting_from_booking(
        booking_uid="bk_1", lead=lead, starts_at=T0 + dt.timedelta(hours=2), ends_at=T1 + dt.timedelta(hours=2)
    )

    assert meeting.status == Meeting.Status.RESCHEDULED
    assert meeting.starts_at == T0 + dt.timedelta(hours=2)


def test_a_canceled_booking_cancels_and_stays_canceled_on_replay() -> None:
    lead = LeadFactory.create()
    meetings.upsert_meeting_from_booking(booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1)

    meetings.upsert_meeting_from_booking(booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1, canceled=True)
    meeting, _ = meetings.upsert_meeting_from_booking(
        booking_uid="bk_1", lead=lead, starts_at=T0, ends_at=T1, canceled=True
    )

    assert meeting.status == Meeting.Status.CANCELED


def test_participants_and_notes_are_one_per_email_and_kind() -> None:
    meeting = MeetingFactory.create()

    meetings.add_participant(meeting=meeting, email="ana@example.com", name="Ana")
    meetings.add_participant(meeting=meeting, email="ANA@example.com", name="Ana Diaz", role="prospect")
    meetings.save_meeting_note(meeting=meeting, kind="summary", content="first")
    meetings.save_meeting_note(meeting=meeting, kind="summary", content="second", action_items=[{"text": "x"}])
    attended = meetings.record_attendance(meeting=meeting, attended_emails=["Ana@example.com"])

    participant = MeetingParticipant.objects.get(meeting=meeting)
    assert (participant.name, participant.role, participant.attended, attended) == ("Ana Diaz", "prospect", True, 1)
    assert MeetingNote.objects.get(meeting=meeting).content == "second"


def test_a_second_reschedule_keeps_the_newest_time() -> None:
    meeting = MeetingFactory.create()
    meetings.reschedule_meeting(meeting=meeting, starts_at=T0 + dt.timedelta(days=1))

    meetings.reschedule_meeting(meeting=meeting, starts_at=T0 + dt.timedelta(days=2))

    meeting.refresh_from_db()
    assert meeting.starts_at == T0 + dt.timedelta(days=2)


def test_both_reminders_are_recorded() -> None:
    meeting = MeetingFactory.create()

    meetings.mark_meeting_reminded(meeting=meeting, when=T0 - dt.timedelta(hours=24), hours_before=24)
    meetings.mark_meeting_reminded(meeting=meeting, when=T0 - dt.timedelta(hours=1), hours_before=1)

    meeting.refresh_from_db()
    assert (meeting.reminder_24h_sent_at, meeting.reminder_1h_sent_at) == (
        T0 - dt.timedelta(hours=24),
        T0 - dt.timedelta(hours=1),
    )


def test_scheduling_a_scheduled_meeting_saves_the_new_time() -> None:
    meeting = MeetingFactory.create()

    meetings.schedule_meeting(meeting=meeting, starts_at=T0, ends_at=T1)

    meeting.refresh_from_db()
    assert (meeting.status, meeting.starts_at, meeting.ends_at) == (Meeting.Status.SCHEDULED, T0, T1)
