"""meeting_reminder: 24 h and 1 h before, once each, never late, never after the start, in the lead's zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Lead, Message
from sales.models import Meeting
from tests.factories.sales import MeetingFactory
from tests.sales.agents.meeting.conftest import market_lead, person_in

pytestmark = pytest.mark.django_db
BEAT = dt.timedelta(minutes=15)


def meeting_for(lead: Lead, frozen_clock: Any, ahead: dt.timedelta) -> Meeting:
    start = (frozen_clock.now + ahead).replace(second=0, microsecond=0)
    return MeetingFactory.create(lead=lead, starts_at=start, time_zone=lead.time_zone)


def beat_until(until: dt.datetime, frozen_clock: Any, *, start: dt.datetime | None = None) -> None:
    """Run the beat every 15 minutes near ``start``'s reminder windows and every three hours
    elsewhere (where it must send nothing either), up to ``until``."""
    start = start or until
    fine = [(start - dt.timedelta(hours=25), start - dt.timedelta(hours=22)), (start - dt.timedelta(hours=2), until)]
    while frozen_clock.now < until:
        step = frozen_clock.now + BEAT
        if not any(a <= step <= b for a, b in fine):
            ahead = [a for a, _ in fine if a > frozen_clock.now]
            step = min([frozen_clock.now + dt.timedelta(hours=3), *ahead, until])
        frozen_clock.set(step)
        result = run_agent("meeting_reminder", {})
        assert result.status == "succeeded", result.error


def reminders(meeting: Meeting) -> list[Message]:
    return list(Message.objects.filter(idempotency_key__startswith=f"meeting:{meeting.pk}:reminder:").order_by("pk"))


def test_each_reminder_goes_once_in_its_window_and_none_after_the_start(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(days=3))
    start = meeting.starts_at
    assert start is not None
    beat_until(start + dt.timedelta(hours=2), frozen_clock, start=start)

    day, hour = reminders(meeting)
    assert ":24h:" in day.idempotency_key and ":1h:" in hour.idempotency_key
    assert day.status == hour.status == Message.Status.SENT
    assert day.sent_at is not None and start - dt.timedelta(hours=24) <= day.sent_at < start - dt.timedelta(hours=23)
    assert hour.sent_at is not None and start - dt.timedelta(hours=1) <= hour.sent_at < start
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.REMINDED
    assert (meeting.reminder_24h_sent_at, meeting.reminder_1h_sent_at) == (day.sent_at, hour.sent_at)


def test_the_time_is_shown_in_the_leads_zone(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(days=2))
    assert meeting.starts_at is not None
    frozen_clock.set(meeting.starts_at - dt.timedelta(hours=24))
    run_agent("meeting_reminder", {})
    [message] = reminders(meeting)
    local = meeting.starts_at.astimezone(dt.timezone(dt.timedelta(hours=11)))  # AEDT in March
    assert f"{local:%H:%M} (AEDT)" in message.subject and f"{local:%A}" in message.subject
    assert message.subject.startswith("Reminder: our call tomorrow")
    assert meeting.join_url in message.body and message.to_email == sydney_lead.email


def test_a_call_booked_less_than_a_day_ahead_gets_only_the_hour_before_reminder(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(hours=23, minutes=45))
    assert meeting.starts_at is not None
    beat_until(meeting.starts_at, frozen_clock)
    [hour] = reminders(meeting)
    assert ":1h:" in hour.idempotency_key
    meeting.refresh_from_db()
    assert meeting.reminder_24h_sent_at is None


def test_a_call_moved_to_less_than_a_day_away_gets_no_late_day_before_reminder(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(days=5))
    frozen_clock.tick(dt.timedelta(days=1))
    moved_to = frozen_clock.now + dt.timedelta(hours=23, minutes=30)
    data = {"kind": "rescheduled", "booking_uid": "bk_moved", "previous_booking_uid": meeting.booking_uid,
            "start": moved_to.isoformat(), "attendee_email": sydney_lead.email}  # fmt: skip
    assert run_agent("meeting_lifecycle_orchestrator", data).status == "succeeded"
    beat_until(moved_to, frozen_clock)
    assert [":1h:" in m.idempotency_key for m in reminders(meeting)] == [True]


def test_a_moved_call_is_reminded_again_for_its_new_time(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(days=2))
    assert meeting.starts_at is not None
    frozen_clock.set(meeting.starts_at - dt.timedelta(hours=24))
    run_agent("meeting_reminder", {})
    moved_to = meeting.starts_at + dt.timedelta(days=2)
    data = {"kind": "rescheduled", "booking_uid": "bk_moved", "previous_booking_uid": meeting.booking_uid,
            "start": moved_to.isoformat(), "attendee_email": sydney_lead.email}  # fmt: skip
    run_agent("meeting_lifecycle_orchestrator", data)
    beat_until(moved_to, frozen_clock, start=moved_to)
    keys = [m.idempotency_key for m in reminders(meeting)]
    assert len(keys) == 3 and len(set(keys)) == 3  # old 24 h, new 24 h, new 1 h
    assert keys[1].endswith(f"{moved_to.astimezone(dt.UTC):%Y%m%dT%H%MZ}")


def test_nothing_is_sent_after_the_start_even_when_the_beat_was_down(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(days=2))
    assert meeting.starts_at is not None
    frozen_clock.set(meeting.starts_at + dt.timedelta(minutes=1))
    assert run_agent("meeting_reminder", {}).output["sent"] == []
    frozen_clock.set(meeting.starts_at - dt.timedelta(hours=20))  # the day-before window passed unseen
    assert run_agent("meeting_reminder", {}).output["sent"] == []
    assert not reminders(meeting)


def test_a_lead_who_may_not_be_contacted_gets_no_reminder(frozen_clock: Any) -> None:
    lead = market_lead(person_in("Berlin"))
    Lead.objects.filter(pk=lead.pk).update(do_not_contact=True)
    meeting = meeting_for(lead, frozen_clock, dt.timedelta(minutes=50))
    result = run_agent("meeting_reminder", {})
    assert result.output["sent"] == [] and "may not be contacted" in result.output["not_sent"][0]
    meeting.refresh_from_db()
    assert meeting.reminder_1h_sent_at is None and not reminders(meeting)


def test_reminding_twice_sends_once(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = meeting_for(sydney_lead, frozen_clock, dt.timedelta(minutes=45))
    first, second = assert_idempotent("meeting_reminder", {})
    assert first.output["sent"] == [f"meeting #{meeting.pk}: 1h"] and second.output["sent"] == []


def test_the_demo_skip_stops_for_the_next_reminder_only(frozen_clock: Any) -> None:
    from sales.agents.meeting.reminder import MeetingReminder

    now = frozen_clock.now
    assert MeetingReminder.next_work_at(now) is None  # no meeting: only a booking brings work
    far_start, near_start = now + dt.timedelta(days=3), now + dt.timedelta(hours=5)
    far = MeetingFactory.create(starts_at=far_start)
    near = MeetingFactory.create(starts_at=near_start, reminder_24h_sent_at=now)
    # The near call's hour-before reminder comes before the far call's day-before one.
    assert MeetingReminder.next_work_at(now) == near_start - dt.timedelta(hours=1)
    Meeting.objects.filter(pk=near.pk).update(reminder_1h_sent_at=now)
    assert MeetingReminder.next_work_at(now) == far_start - dt.timedelta(days=1)
    Meeting.objects.filter(pk=far.pk).update(status=Meeting.Status.CANCELED)
    assert MeetingReminder.next_work_at(now) is None
