"""reactivation: win-back after the cool-off, through a campaign, never for the suppressed or too soon."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.registry import is_registered
from agents.testing import assert_idempotent, run_agent
from crm.agents.campaign.campaign_manager import copy_state
from crm.models import Campaign, Enrollment, Lead
from crm.services.suppression import record_opt_out
from delivery.agents.offboarding.common import CHECKLIST
from delivery.models import Offboarding
from delivery.services.offboarding import start_offboarding
from sales.models import Client, Proposal
from smarter_team import clock
from tests.delivery.agents.lifecycle import delivered_client
from tests.factories.crm import LeadFactory, MailboxFactory
from tests.factories.sales import ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def mailbox() -> None:
    MailboxFactory.create()


def former_client(*, cool_off_days: int = 90, **contact: Any) -> Client:
    """A client who left today, with the usual cool-off before anyone writes to them again."""
    client = delivered_client(contact=contact or None)
    start_offboarding(
        client=client, reason="Budget cut", checklist=CHECKLIST,
        reactivation_after=clock.today() + dt.timedelta(days=cool_off_days),
    )  # fmt: skip
    Client.objects.filter(pk=client.pk).update(status=Client.Status.OFFBOARDED)
    return client


def lost_deal(days_ago: int) -> Lead:
    lead = LeadFactory.create(status=Lead.Status.LOST)
    proposal = ProposalFactory.create(lead=lead, status=Proposal.Status.DECLINED, decline_reason="Too expensive")
    Proposal.objects.filter(pk=proposal.pk).update(updated_at=clock.now() - days_ago * DAY)
    return lead


def reactivate() -> dict[str, Any]:
    result = run_agent("reactivation")
    assert result.status == "succeeded", result.error
    if result.output["enrolled"] and is_registered("campaign_manager"):
        assert [r.agent_name for r in result.handoffs] == ["campaign_manager"]
    return result.output


def test_nobody_is_written_to_before_the_cool_off_ends(frozen_clock: Any) -> None:
    former_client()
    lost_deal(days_ago=30)

    assert reactivate()["enrolled"] == {}
    frozen_clock.tick(59 * DAY)  # the lost deal's 90 days: one to go
    assert reactivate()["enrolled"] == {}
    frozen_clock.tick(30 * DAY)  # the former client's: one to go
    assert list(reactivate()["enrolled"]) == ["lost_deals"]
    assert not Enrollment.objects.filter(campaign__name__contains="former clients").exists()


def test_after_the_cool_off_former_clients_and_lost_deals_get_a_checked_win_back_campaign(frozen_clock: Any) -> None:
    client = former_client()
    lead = lost_deal(days_ago=30)
    frozen_clock.tick(90 * DAY)

    out = reactivate()

    assert out["enrolled"] == {"former_clients": [client.primary_contact_id], "lost_deals": [lead.pk]}
    clients_campaign = Campaign.objects.get(pk=out["campaigns"]["former_clients"])
    assert clients_campaign.name == "Win-back: former clients (2026)"
    assert clients_campaign.mailboxes.exists() and copy_state(clients_campaign) == "passed"
    steps = list(clients_campaign.steps.order_by("order"))
    assert len(steps) == 2 and steps[1].delay_business_days == 5
    assert "{{first_name}}" in steps[0].body_template
    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED  # a lost lead is reactivated as its status machine allows
    assert Campaign.objects.get(pk=out["campaigns"]["lost_deals"]).name == "Win-back: lost deals (2026)"


def test_the_suppressed_and_do_not_contact_are_never_enrolled(frozen_clock: Any) -> None:
    opted_out = former_client()
    assert opted_out.primary_contact is not None and opted_out.primary_contact.email
    record_opt_out(email=opted_out.primary_contact.email, reason="unsubscribe", source="test")
    former_client(do_not_contact=True)
    frozen_clock.tick(91 * DAY)

    out = reactivate()

    assert out["enrolled"] == {} and not Enrollment.objects.exists()
    assert len(out["skipped"]) == 2


def test_a_client_without_a_cool_off_on_record_or_back_as_a_client_is_left_alone(frozen_clock: Any) -> None:
    churned = delivered_client()
    Client.objects.filter(pk=churned.pk).update(status=Client.Status.CHURNED)  # no offboarding, no date
    back = former_client()
    Client.objects.filter(pk=back.pk).update(status=Client.Status.ONBOARDING)
    frozen_clock.tick(200 * DAY)

    assert reactivate()["enrolled"] == {}


def test_once_per_person_per_cool_off(frozen_clock: Any) -> None:
    former_client()
    frozen_clock.tick(90 * DAY)
    reactivate()

    frozen_clock.tick(7 * DAY)
    out = reactivate()

    assert out["enrolled"] == {} and any("had a win-back since" in s for s in out["skipped"])
    assert Enrollment.objects.count() == 1


def test_a_second_cool_off_after_leaving_again_allows_one_more_win_back(frozen_clock: Any) -> None:
    client = former_client()
    frozen_clock.tick(90 * DAY)
    reactivate()
    Offboarding.objects.filter(client=client).update(status=Offboarding.Status.COMPLETED, completed_at=clock.now())
    frozen_clock.set(dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC))  # came back, left again, waited again
    start_offboarding(client=client, reason="Left again", checklist=CHECKLIST, reactivation_after=clock.today())

    out = reactivate()

    assert out["enrolled"] == {"former_clients": [client.primary_contact_id]}
    assert Campaign.objects.filter(name="Win-back: former clients (2027)").exists()


def test_copy_with_a_variable_no_sender_fills_is_replaced_by_the_heuristic(frozen_clock: Any) -> None:
    former_client()
    frozen_clock.tick(90 * DAY)
    bad = {"steps": [{"subject": "Hi {{first_name}}", "body": "We miss {{project_name}}."}]}

    result = run_agent("reactivation", answers=[bad])

    assert result.status == "succeeded", result.error
    step = Campaign.objects.get().steps.order_by("order").first()
    assert step is not None and "project_name" not in step.body_template and step.spam_check["passed"]


def test_a_second_run_the_same_day_changes_nothing(frozen_clock: Any) -> None:
    former_client()
    frozen_clock.tick(90 * DAY)

    assert_idempotent("reactivation")


def test_a_former_clients_answer_to_the_win_back_is_a_sales_reply_not_delivery_work() -> None:
    client = former_client()
    contact = client.primary_contact
    assert contact is not None

    handled = run_agent(
        "email_response_handler",
        {"kind": "reply", "lead_email": contact.email, "subject": "Re: a quick catch-up?",
         "text": "Good timing, actually. Could we talk next week?", "message_id": "sbx_msg_win_back"},
    )  # fmt: skip

    assert handled.status == "succeeded", handled.error
    assert handled.output["intent"] == "interested"
    assert "reply_drafting" in handled.output["routed"] and "change_request" not in handled.output["routed"]
