"""meeting_scheduler: the slot the prospect named, in their zone; once; never two live meetings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from agents.testing import assert_idempotent, crash_and_finish, run_agent
from crm.models import Lead
from integrations.models import SandboxRecord
from integrations.roles import get_role
from sales.agents.meeting.common import in_business_hours
from sales.models import Meeting
from tests.factories.sales import MeetingFactory
from tests.sales.agents.meeting.conftest import market_lead, person_in, wrote

pytestmark = pytest.mark.django_db
SYDNEY, BERLIN = zoneinfo.ZoneInfo("Australia/Sydney"), zoneinfo.ZoneInfo("Europe/Berlin")


def free_local(zone: zoneinfo.ZoneInfo, day: dt.date, hours: tuple[int, ...] = (10, 11, 14, 15)) -> dt.datetime:
    """A time the sandbox calendar has free on ``day`` in ``zone`` (its busy times are seeded)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    free = get_role("calendar").available_slots(start=start, end=start + dt.timedelta(days=1), timezone=zone.key)
    local = [s.start.astimezone(zone) for s in free]
    return next(t for t in local if t.hour in hours and t.minute == 0)


def bookings() -> list[dict[str, Any]]:
    return [r.data for r in SandboxRecord.objects.filter(kind="booking").order_by("created_at", "id")]


def test_the_time_the_prospect_named_is_booked_in_their_zone(sydney_lead: Lead, frozen_clock: Any) -> None:
    # Monday 20:00 in Sydney: "Wednesday" is the day after tomorrow there.
    wanted = free_local(SYDNEY, dt.date(2026, 3, 4))
    wrote(sydney_lead, f"Wednesday at {wanted:%H:%M} works for me, I've put it in my calendar. Talk then.")

    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})

    assert result.status == "succeeded", result.error
    meeting = Meeting.objects.get(lead=sydney_lead)
    assert meeting.starts_at == wanted
    assert (meeting.status, meeting.time_zone) == ("scheduled", "Australia/Sydney")
    assert result.output["action"] == "booked" and "AEDT" in result.output["local_time"]
    assert set(meeting.participants.values_list("role", flat=True)) == {"host", "prospect"}
    [booking] = bookings()
    assert booking["attendee_email"] == sydney_lead.email
    assert dt.datetime.fromisoformat(booking["start"]) == wanted
    assert meeting.booking_uid == booking["booking_id"]  # written back when the call returned
    assert booking["metadata"]["idempotency_key"].endswith(f"lead:{sydney_lead.pk}:meeting:{meeting.pk}:booking")
    sydney_lead.refresh_from_db()
    assert sydney_lead.status == Lead.Status.MEETING_BOOKED
    assert [r.input["meeting_id"] for r in result.handed_to("meeting_lifecycle_orchestrator")] == [meeting.pk]


def test_without_a_named_time_the_earliest_business_slot_a_day_out_is_booked(
    berlin_lead: Lead, frozen_clock: Any
) -> None:
    wrote(berlin_lead, "Sounds relevant, let's talk.")
    result = run_agent("meeting_scheduler", {"lead_id": berlin_lead.pk})
    meeting = Meeting.objects.get(lead=berlin_lead)
    assert meeting.starts_at is not None
    assert meeting.starts_at >= frozen_clock.now + dt.timedelta(hours=24)
    assert in_business_hours(meeting.starts_at, zone=BERLIN, country="DE")
    free = get_role("calendar").available_slots(
        start=frozen_clock.now + dt.timedelta(hours=24), end=meeting.starts_at, timezone="Europe/Berlin"
    )
    earlier = [s for s in free if s.start < meeting.starts_at and in_business_hours(s.start, zone=BERLIN, country="DE")]
    assert not earlier, "nothing suitable was free before the booked slot"
    assert result.output["why"] == "the earliest free time in the lead's business hours"


def test_public_holidays_in_the_leads_country_are_not_business_days(frozen_clock: Any) -> None:
    frozen_clock.set(dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC))  # Thursday before Easter
    lead = market_lead(person_in("Berlin"))
    wrote(lead, "Yes, let's set up a call.")
    run_agent("meeting_scheduler", {"lead_id": lead.pk})
    start = Meeting.objects.get(lead=lead).starts_at
    assert start is not None
    # Good Friday (3 April) and Easter Monday (6 April) are German public holidays.
    assert start.astimezone(BERLIN).date() == dt.date(2026, 4, 7)


def test_a_named_time_across_the_dst_change_is_read_in_the_new_offset(frozen_clock: Any) -> None:
    frozen_clock.set(dt.datetime(2026, 3, 27, 9, 0, tzinfo=dt.UTC))  # Friday; Berlin moves to CEST on Sunday
    lead = market_lead(person_in("Berlin"))
    wanted = free_local(BERLIN, dt.date(2026, 3, 30))
    wrote(lead, f"Monday at {wanted:%H:%M} works for me.")
    run_agent("meeting_scheduler", {"lead_id": lead.pk})
    start = Meeting.objects.get(lead=lead).starts_at
    assert start == wanted
    assert start is not None and start.astimezone(dt.UTC).hour == wanted.hour - 2  # CEST, not CET


def test_sydney_leaving_daylight_time_is_respected(frozen_clock: Any) -> None:
    frozen_clock.set(dt.datetime(2026, 4, 2, 0, 0, tzinfo=dt.UTC))  # Thursday; Sydney leaves AEDT on Sunday
    lead = market_lead(person_in("Sydney"))
    wanted = free_local(SYDNEY, dt.date(2026, 4, 7))
    wrote(lead, f"Tuesday 7 April at {wanted:%H:%M} suits me")
    result = run_agent("meeting_scheduler", {"lead_id": lead.pk})
    start = Meeting.objects.get(lead=lead).starts_at
    assert start == wanted and wanted.utcoffset() == dt.timedelta(hours=10)
    assert "AEST" in result.output["local_time"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"do_not_contact": True}, "may not be contacted"),
        ({"status": Lead.Status.LOST}, "is lost"),
    ],
)
def test_a_lead_we_may_not_call_is_skipped_with_the_reason(
    sydney_lead: Lead, change: dict[str, Any], reason: str
) -> None:
    Lead.objects.filter(pk=sydney_lead.pk).update(**change)
    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    assert result.status == "skipped" and reason in result.error
    assert not Meeting.objects.exists() and not bookings()


def test_a_lead_with_a_live_meeting_gets_no_second_one(sydney_lead: Lead) -> None:
    MeetingFactory.create(lead=sydney_lead)
    wrote(sydney_lead, "Thursday at 10:00 works for me")
    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    assert result.status == "skipped" and "already has a live meeting" in result.error
    assert Meeting.objects.filter(lead=sydney_lead).count() == 1 and not bookings()


def test_a_prospect_who_asks_to_move_their_call_is_moved_not_booked_twice(sydney_lead: Lead) -> None:
    wrote(sydney_lead, "Let's talk.", n=1)
    run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    meeting = Meeting.objects.get(lead=sydney_lead)
    wanted = free_local(SYDNEY, dt.date(2026, 3, 12))
    wrote(sydney_lead, f"Something came up, could we move it to Thursday 12 March at {wanted:%H:%M} instead?", n=2)

    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})

    assert result.output["action"] == "moved"
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.status) == (wanted, "rescheduled")
    assert Meeting.objects.filter(lead=sydney_lead).count() == 1
    old, moved = bookings()
    assert (old["status"], moved["previous_booking_id"]) == ("rescheduled", old["booking_id"])
    assert meeting.booking_uid == moved["booking_id"]


def test_a_no_show_is_rebooked_into_the_same_meeting_and_booking(sydney_lead: Lead, frozen_clock: Any) -> None:
    wrote(sydney_lead, "Let's talk.", n=1)
    run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    meeting = Meeting.objects.get(lead=sydney_lead)
    assert meeting.starts_at is not None
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.NO_SHOW, no_show_attempts=1)
    frozen_clock.set(meeting.starts_at + dt.timedelta(hours=3))
    wanted = free_local(SYDNEY, dt.date(2026, 3, 10))
    wrote(sydney_lead, f"So sorry I missed our call. {wanted:%A} at {wanted:%H:%M} works for me.", n=2)

    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk, "meeting_id": meeting.pk})

    assert result.output["action"] == "moved", result.error
    meeting.refresh_from_db()
    assert (meeting.status, meeting.starts_at, meeting.no_show_attempts) == ("rescheduled", wanted, 1)
    assert meeting.reminder_24h_sent_at is None and meeting.reminder_1h_sent_at is None
    assert len(bookings()) == 2 and meeting.booking_uid == bookings()[1]["booking_id"]


def test_a_meeting_of_another_lead_is_refused(sydney_lead: Lead, berlin_lead: Lead) -> None:
    other = MeetingFactory.create(lead=berlin_lead, status=Meeting.Status.NO_SHOW)
    result = run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk, "meeting_id": other.pk})
    assert result.status == "skipped" and "is not" in result.error


def test_scheduling_twice_books_once(sydney_lead: Lead) -> None:
    wrote(sydney_lead, "Tuesday at 10:00 works for me")
    first, second = assert_idempotent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    assert first.output["action"] == "booked" and second.status == "skipped"
    assert len(bookings()) == 1


def test_a_rebooking_run_twice_moves_once(sydney_lead: Lead, frozen_clock: Any) -> None:
    wrote(sydney_lead, "Let's talk.", n=1)
    run_agent("meeting_scheduler", {"lead_id": sydney_lead.pk})
    meeting = Meeting.objects.get(lead=sydney_lead)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.NO_SHOW, no_show_attempts=1)
    assert meeting.starts_at is not None
    frozen_clock.set(meeting.starts_at + dt.timedelta(hours=2))
    wrote(sydney_lead, "Sorry! Could we do Friday at 11:00?", n=2)
    first, second = assert_idempotent("meeting_scheduler", {"lead_id": sydney_lead.pk, "meeting_id": meeting.pk})
    assert first.output["action"] == "moved"
    assert second.status == "skipped" or second.output["action"] == "unchanged"
    assert len(bookings()) == 2


def test_a_worker_dying_after_the_booking_call_books_nothing_twice(sydney_lead: Lead) -> None:
    wrote(sydney_lead, "Tuesday at 10:00 works for me")
    result = crash_and_finish("meeting_scheduler", {"lead_id": sydney_lead.pk}, at="after_call")
    assert result.status == "succeeded"
    [booking] = bookings()
    meeting = Meeting.objects.get(lead=sydney_lead)
    assert meeting.booking_uid == booking["booking_id"]
    assert [a.status for a in result.acts] == ["done"]
