"""no_show_recovery: a kind follow-up with new times in the lead's zone, a nudge, then no more: two tries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Lead, Message
from sales.agents.meeting.common import in_business_hours
from sales.agents.meeting.no_show import WAIT
from sales.models import Meeting
from tests.factories.sales import MeetingFactory
from tests.sales.agents.meeting.conftest import wrote

pytestmark = pytest.mark.django_db
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def missed(lead: Lead, frozen_clock: Any, *, attempts: int = 1) -> Meeting:
    start = frozen_clock.now.replace(minute=0) - dt.timedelta(hours=2)
    return MeetingFactory.create(
        lead=lead, starts_at=start, status=Meeting.Status.NO_SHOW, no_show_attempts=attempts, time_zone=lead.time_zone
    )


def follow_ups(lead: Lead) -> list[Message]:
    return list(Message.objects.filter(idempotency_key__startswith=f"no-show:lead:{lead.pk}:").order_by("pk"))


def test_the_first_follow_up_is_kind_and_offers_new_times_in_the_leads_zone(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk})

    assert result.status == "succeeded", result.error
    [message] = follow_ups(sydney_lead)
    assert message.idempotency_key == f"no-show:lead:{sydney_lead.pk}:meeting:{meeting.pk}:1"
    assert message.status == Message.Status.SENT and message.to_email == sydney_lead.email
    body = message.body
    assert body.startswith(f"Hi {sydney_lead.first_name},") and "missed each other" in body
    assert "(AEDT)" in body  # the missed call, in their time
    offered = [dt.datetime.fromisoformat(t) for t in result.output["offered"]]
    assert len(offered) == 3 and len({t.astimezone(SYDNEY).date() for t in offered}) == 3
    for start in offered:
        local = start.astimezone(SYDNEY)
        assert f"{local:%A} {local.day} {local:%B}, {local:%H:%M}" in body
        assert in_business_hours(start, zone=SYDNEY, country="AU")
        assert start >= frozen_clock.now + dt.timedelta(hours=24)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.NO_SHOW  # waiting for their answer


def test_a_brain_email_offering_a_time_we_do_not_have_is_replaced_by_the_heuristic(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    made_up = (frozen_clock.now + dt.timedelta(days=2)).replace(hour=3, minute=17)
    answer = {"subject": "Missed you", "body": "How about 03:17?", "offered": [made_up.isoformat()]}
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk}, answers=[answer])
    [message] = follow_ups(sydney_lead)
    assert "03:17" not in message.body and "missed each other" in message.body
    assert made_up.isoformat() not in result.output["offered"]


def test_a_good_brain_email_goes_out_as_written(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    heuristic = run_agent("no_show_recovery", {"meeting_id": meeting.pk}, perform_acts=False)
    offered = heuristic.output["offered"]
    Message.objects.all().delete()
    times = [dt.datetime.fromisoformat(t).astimezone(SYDNEY) for t in offered[:2]]
    body = "Sorry we missed each other! " + " or ".join(f"{t:%A} {t.day} {t:%B}, {t:%H:%M}" for t in times) + "?"
    answer = {"subject": "New time?", "body": body, "offered": offered[:2]}
    run_agent("no_show_recovery", {"meeting_id": meeting.pk}, answers=[answer])
    [message] = follow_ups(sydney_lead)
    assert message.body == body


def test_unanswered_it_nudges_once_then_closes_without_more_mail(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    frozen_clock.tick(WAIT - dt.timedelta(hours=1))
    assert run_agent("no_show_recovery", {"meeting_id": meeting.pk}).output["step"] == ""  # still waiting
    frozen_clock.tick(dt.timedelta(hours=2))
    nudge = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert nudge.output["step"] == "nudge"
    assert follow_ups(sydney_lead)[-1].idempotency_key.endswith(":1:nudge")
    frozen_clock.tick(WAIT + dt.timedelta(hours=1))
    closed = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert closed.output["step"] == "close" and "no answer to 2 follow-ups" in closed.output["note"]
    assert len(follow_ups(sydney_lead)) == 2
    meeting.refresh_from_db()
    sydney_lead.refresh_from_db()
    assert (meeting.status, sydney_lead.status) == ("followed_up", "lost")


def test_two_tries_per_lead_a_third_no_show_gets_no_mail(sydney_lead: Lead, frozen_clock: Any) -> None:
    earlier = missed(sydney_lead, frozen_clock)
    run_agent("no_show_recovery", {"meeting_id": earlier.pk})
    Meeting.objects.filter(pk=earlier.pk).update(no_show_attempts=2)  # rebooked and missed again
    run_agent("no_show_recovery", {"meeting_id": earlier.pk})
    assert len(follow_ups(sydney_lead)) == 2
    Meeting.objects.filter(pk=earlier.pk).update(no_show_attempts=3)
    result = run_agent("no_show_recovery", {"meeting_id": earlier.pk})
    assert result.output["step"] == "close" and "2 follow-ups after no-shows already" in result.output["note"]
    assert len(follow_ups(sydney_lead)) == 2


def test_a_prospect_who_wrote_back_with_a_time_is_rebooked_not_emailed(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    wrote(sydney_lead, "So sorry, I got stuck. Could we do Thursday at 10:00 instead?")
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert result.output["step"] == "rebook" and not follow_ups(sydney_lead)
    [handoff] = result.handed_to("meeting_scheduler")
    assert handoff.input["lead_id"] == sydney_lead.pk and handoff.input["meeting_id"] == meeting.pk


def test_a_prospect_who_answered_without_a_time_is_left_to_the_reply_agents(
    sydney_lead: Lead, frozen_clock: Any
) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    frozen_clock.tick(dt.timedelta(hours=3))
    wrote(sydney_lead, "Thanks, what would the call cover exactly?")
    frozen_clock.tick(WAIT * 2)
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert result.output["step"] == "" and "wrote back" in result.output["note"]
    assert len(follow_ups(sydney_lead)) == 1


def test_a_lead_who_may_not_be_contacted_is_closed_without_mail(sydney_lead: Lead, frozen_clock: Any) -> None:
    Lead.objects.filter(pk=sydney_lead.pk).update(do_not_contact=True)
    meeting = missed(sydney_lead, frozen_clock)
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert result.output["step"] == "close" and not follow_ups(sydney_lead)
    meeting.refresh_from_db()
    assert meeting.status == "followed_up"


def test_a_meeting_that_is_not_a_no_show_is_skipped(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = MeetingFactory.create(lead=sydney_lead)
    result = run_agent("no_show_recovery", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "not a no-show" in result.error


def test_following_up_twice_sends_once(sydney_lead: Lead, frozen_clock: Any) -> None:
    meeting = missed(sydney_lead, frozen_clock)
    assert_idempotent("no_show_recovery", {"meeting_id": meeting.pk})
    assert len(follow_ups(sydney_lead)) == 1
