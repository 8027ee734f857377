"""meeting_lifecycle_orchestrator: booking webhooks move the meeting's status; the beat starts prep,
flags silent meetings and follows up no-shows, each once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents import outbox
from agents.models import Action, AgentRun, AuditLog, Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Lead
from sales.models import Meeting
from tests.factories.sales import MeetingFactory, MeetingParticipantFactory
from tests.sales.agents.meeting.conftest import wrote

pytestmark = pytest.mark.django_db


def event(kind: str, lead: Lead | None, uid: str, start: dt.datetime | None, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "booking_uid": uid,
        "title": "Discovery call",
        "start": start.isoformat() if start else None,
        "end": (start + dt.timedelta(minutes=30)).isoformat() if start else None,
        "attendee_email": extra.pop("email", lead.email if lead else ""),
        "attendee_name": lead.full_name if lead else "",
        "attendee_timezone": lead.time_zone if lead else "",
        "meeting_url": f"https://cal.com/video/{uid}",
        **extra,
    }


def booked(lead: Lead, frozen_clock: Any, *, days: int = 3, hours: int = 0, uid: str = "bk_A") -> Meeting:
    meeting = MeetingFactory.create(
        lead=lead, booking_uid=uid, time_zone=lead.time_zone,
        starts_at=frozen_clock.now.replace(minute=0) + dt.timedelta(days=days, hours=hours),
    )  # fmt: skip
    MeetingParticipantFactory.create(meeting=meeting, email=lead.email, role="prospect")
    return meeting


# --- webhooks ---------------------------------------------------------------------------------------


def test_a_booking_the_prospect_made_becomes_their_meeting(sydney_lead: Lead, frozen_clock: Any) -> None:
    start = frozen_clock.now + dt.timedelta(days=2)
    result = run_agent("meeting_lifecycle_orchestrator", event("created", sydney_lead, "bk_new", start))
    assert result.status == "succeeded", result.error
    meeting = Meeting.objects.get(booking_uid="bk_new")
    assert (meeting.lead, meeting.status, meeting.starts_at) == (sydney_lead, "scheduled", start)
    assert meeting.time_zone == "Australia/Sydney"
    assert list(meeting.participants.values_list("email", flat=True)) == [sydney_lead.email]
    sydney_lead.refresh_from_db()
    assert sydney_lead.status == Lead.Status.MEETING_BOOKED


def test_our_booking_reported_before_its_call_returned_is_matched_by_its_key(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    wrote(sydney_lead, "Let's talk.")
    scheduled = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk}, perform_acts=False)
    meeting = Meeting.objects.get(lead=sydney_lead)
    assert meeting.booking_uid is None and meeting.starts_at is not None
    [book] = scheduled.acts
    metadata = {"idempotency_key": book.idempotency_key}  # what Cal.com echoes of our booking
    data = event("created", sydney_lead, "bk_ours", meeting.starts_at, metadata=metadata)

    result = run_agent("meeting_lifecycle_orchestrator", data)

    assert result.output["matched_by"] == "our booking key"
    meeting.refresh_from_db()
    assert meeting.booking_uid == "bk_ours" and Meeting.objects.count() == 1
    Action.objects.filter(pk=book.pk).update(next_attempt_at=frozen_clock.now)
    outbox.perform_due()  # the call returns later, with its own uid for the same booking key
    meeting.refresh_from_db()
    assert Meeting.objects.count() == 1 and meeting.booking_uid == "bk_ours"


def test_a_reschedule_moves_the_meeting_and_its_reminders_start_again(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock)
    Meeting.objects.filter(pk=meeting.pk).update(status="reminded", reminder_24h_sent_at=frozen_clock.now)
    assert meeting.starts_at is not None
    moved_to = meeting.starts_at + dt.timedelta(days=1)
    data = event("rescheduled", sydney_lead, "bk_B", moved_to, previous_booking_uid="bk_A", reason="Conflict")

    result = run_agent("meeting_lifecycle_orchestrator", data)

    assert result.output["matched_by"] == "the booking it replaced"
    meeting.refresh_from_db()
    assert (meeting.booking_uid, meeting.starts_at, meeting.status) == ("bk_B", moved_to, "rescheduled")
    assert meeting.reminder_24h_sent_at is None
    assert AuditLog.objects.filter(action="meeting.moved", target_id=str(meeting.pk)).exists()


def test_a_reschedule_before_the_booking_it_moves_and_the_late_booking_after_it(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    start = frozen_clock.now + dt.timedelta(days=4)
    first = run_agent(
        "meeting_lifecycle_orchestrator", event("rescheduled", sydney_lead, "bk_B", start, previous_booking_uid="bk_A")
    )
    assert first.status == "succeeded"
    late_created = event("created", sydney_lead, "bk_A", start - dt.timedelta(days=1))
    late = run_agent("meeting_lifecycle_orchestrator", late_created)
    assert "moved to a later booking" in late.output["note"] and not late.escalations
    meeting = Meeting.objects.get()
    assert (meeting.booking_uid, meeting.starts_at) == ("bk_B", start)


def test_a_cancellation_cancels_and_the_lead_is_interested_again(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock)
    Lead.objects.filter(pk=sydney_lead.pk).update(status=Lead.Status.MEETING_BOOKED)
    result = run_agent("meeting_lifecycle_orchestrator", event("cancelled", sydney_lead, "bk_A", meeting.starts_at,
                                                                  reason="No longer needed"))  # fmt: skip
    meeting.refresh_from_db()
    sydney_lead.refresh_from_db()
    assert (meeting.status, sydney_lead.status) == ("canceled", "interested")
    assert "No longer needed" in result.output["note"]


def test_a_no_show_is_recorded_and_its_recovery_started(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock, days=0)
    frozen_clock.set(meeting.starts_at + dt.timedelta(minutes=15))  # type: ignore[operator]
    data = event("no_show", sydney_lead, "bk_A", meeting.starts_at, no_show_emails=[sydney_lead.email])

    result = run_agent("meeting_lifecycle_orchestrator", data)

    meeting.refresh_from_db()
    assert (meeting.status, meeting.no_show_attempts) == ("no_show", 1)
    assert meeting.participants.get(email=sydney_lead.email).attended is False
    assert [r.input for r in result.handed_to("no_show_recovery")] == [{"meeting_id": meeting.pk}]
    again = run_agent("meeting_lifecycle_orchestrator", data)  # the same webhook delivered twice
    assert again.output["note"] == "marked a no-show already" and not again.handoffs


def test_an_ended_call_is_held(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock, days=0)
    frozen_clock.set(meeting.ends_at)
    run_agent("meeting_lifecycle_orchestrator", event("ended", sydney_lead, "bk_A", meeting.starts_at))
    meeting.refresh_from_db()
    assert meeting.status == "held"


def test_a_replayed_booking_event_changes_nothing_twice(sydney_lead: Lead, frozen_clock: Any) -> None:
    data = event("created", sydney_lead, "bk_new", frozen_clock.now + dt.timedelta(days=2))
    assert_idempotent("meeting_lifecycle_orchestrator", data)
    assert Meeting.objects.count() == 1


def test_a_booking_for_an_address_no_lead_has_is_escalated_and_nothing_is_written(frozen_clock: Any) -> None:
    data = event("created", None, "bk_x", frozen_clock.now + dt.timedelta(days=2), email="stranger@nowhere.example")
    result = run_agent("meeting_lifecycle_orchestrator", data)
    assert result.status == "succeeded" and result.output["escalated"]
    [escalation] = result.escalations
    assert "stranger@nowhere.example" in escalation.reason and "no lead" in escalation.reason
    assert not Meeting.objects.exists()
    assert result.created == {"agents.Escalation": 1}


def test_a_second_live_booking_for_a_lead_is_escalated_not_recorded(sydney_lead: Lead, frozen_clock: Any) -> None:
    booked(sydney_lead, frozen_clock)
    second = event("created", sydney_lead, "bk_other", frozen_clock.now + dt.timedelta(days=5))
    result = run_agent("meeting_lifecycle_orchestrator", second)
    assert result.output["escalated"] and "one live meeting" in result.output["note"]
    assert Meeting.objects.count() == 1


def test_an_outcome_for_a_booking_we_never_saw_is_escalated(sydney_lead: Lead, frozen_clock: Any) -> None:
    result = run_agent("meeting_lifecycle_orchestrator", event("ended", sydney_lead, "bk_ghost", frozen_clock.now))
    assert result.output["escalated"] and "bk_ghost" in result.output["note"]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"kind": "created", "booking_uid": "", "attendee_email": "a@b.example"}, "without a booking uid"),
        ({"kind": "cancelled", "booking_uid": "bk_unknown"}, "not one of our meetings"),
    ],
)
def test_bad_or_unknown_booking_events_say_why_and_write_nothing(data: dict[str, Any], why: str) -> None:
    result = run_agent("meeting_lifecycle_orchestrator", data)
    assert why in (result.error or result.output.get("note", ""))
    assert not Meeting.objects.exists()


def test_a_created_event_without_a_start_is_escalated(sydney_lead: Lead) -> None:
    result = run_agent("meeting_lifecycle_orchestrator", event("created", sydney_lead, "bk_nostart", None))
    assert result.output["escalated"] and "no start time" in result.output["note"]


# --- the beat ---------------------------------------------------------------------------------------


def test_the_beat_asks_for_prep_once_about_a_day_before(
    sydney_lead: Lead, berlin_lead: Lead, frozen_clock: Any, prep_agent: None
) -> None:
    soon = booked(sydney_lead, frozen_clock, days=0, hours=23, uid="bk_soon")
    later = booked(berlin_lead, frozen_clock, days=3, uid="bk_later")

    first, second = assert_idempotent("meeting_lifecycle_orchestrator", {})

    assert first.output["prep"] == [soon.pk]
    assert [r.input for r in first.handed_to("meeting_prep")] == [{"meeting_id": soon.pk}]
    assert not second.handoffs
    frozen_clock.set(later.starts_at - dt.timedelta(hours=20))  # type: ignore[operator]
    assert run_agent("meeting_lifecycle_orchestrator", {}).output["prep"] == [later.pk]


def test_a_meeting_booked_for_today_gets_its_prep_when_it_is_booked(
    sydney_lead: Lead, frozen_clock: Any, prep_agent: None
) -> None:
    meeting = booked(sydney_lead, frozen_clock, days=0, hours=5)
    result = run_agent("meeting_lifecycle_orchestrator", {"meeting_id": meeting.pk})
    assert result.output["prep"] == [meeting.pk]


def test_a_meeting_past_its_end_without_an_outcome_goes_to_a_human_once(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock, days=0)
    frozen_clock.set(meeting.ends_at + dt.timedelta(hours=1))  # type: ignore[operator]
    assert run_agent("meeting_lifecycle_orchestrator", {}).output["overdue"] == []  # still within the grace
    frozen_clock.tick(dt.timedelta(hours=2))
    first, second = assert_idempotent("meeting_lifecycle_orchestrator", {})
    assert first.output["overdue"] == [meeting.pk] and second.output["overdue"] == []
    escalation = Escalation.objects.get(dedupe_key__startswith=f"meeting:{meeting.pk}:no-outcome")
    assert "held or a no-show" in escalation.reason


def test_the_beat_follows_up_a_no_show_nobody_followed_up(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = booked(sydney_lead, frozen_clock, days=0)
    Meeting.objects.filter(pk=meeting.pk).update(status="no_show", no_show_attempts=1)
    frozen_clock.set(meeting.starts_at + dt.timedelta(hours=1))  # type: ignore[operator]
    first, second = assert_idempotent("meeting_lifecycle_orchestrator", {})
    assert first.output["recovery"] == [meeting.pk] and second.output["recovery"] == []
    assert AgentRun.objects.filter(agent_name="no_show_recovery", input={"meeting_id": meeting.pk}).count() == 1


def test_the_demo_skip_stops_for_the_next_prep_or_outcome_check(frozen_clock: Any) -> None:
    from sales.agents.meeting.lifecycle import OUTCOME_GRACE, PREP_AHEAD, MeetingLifecycleOrchestrator

    now = frozen_clock.now
    assert MeetingLifecycleOrchestrator.next_work_at(now) is None
    start = now + dt.timedelta(days=2)
    MeetingFactory.create(starts_at=start)
    assert MeetingLifecycleOrchestrator.next_work_at(now) == start - PREP_AHEAD
    frozen_clock.tick(dt.timedelta(days=1, hours=1))  # past the prep: the outcome check is next
    assert MeetingLifecycleOrchestrator.next_work_at(frozen_clock.now) == start + OUTCOME_GRACE
