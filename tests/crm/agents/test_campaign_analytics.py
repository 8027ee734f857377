"""campaign_analytics (rates per campaign, step and variant from the rows) and campaign_optimizer
(proposals from the reading, applied only after an operator's approval)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.agents.campaign_optimizer import propose
from crm.models import Campaign, CampaignStats, Message
from tests.crm.agents.campaign_rows import sends
from tests.factories.crm import CampaignFactory, CampaignStepFactory, EnrollmentFactory, VariantFactory
from tests.factories.sales import MeetingFactory

pytestmark = pytest.mark.django_db
S = Message.Status


def _campaign_with_a_funnel() -> Campaign:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    one = CampaignStepFactory.create(campaign=campaign, order=1)
    two = CampaignStepFactory.create(campaign=campaign, order=2)
    a, b = VariantFactory.create(step=one, label="A"), VariantFactory.create(step=one, label="B")
    sends(50, campaign=campaign, step=one, variant=a)
    sends(30, campaign=campaign, step=one, variant=b, status=S.OPENED)
    liked = EnrollmentFactory.create(campaign=campaign)
    [replied] = sends(1, enrollment=liked, step=one, variant=b, status=S.REPLIED)
    Message.objects.create(
        conversation=replied.conversation, direction="in", intent="interested", idempotency_key="test:in:1"
    )
    MeetingFactory.create(lead=liked.lead)
    sends(1, campaign=campaign, step=one, variant=b, status=S.REPLIED)
    sends(18, campaign=campaign, step=two, status=S.BOUNCED)
    return campaign


def test_rates_per_campaign_step_and_variant_come_from_the_rows() -> None:
    campaign = _campaign_with_a_funnel()
    first, _ = assert_idempotent("campaign_analytics")
    assert first.status == "succeeded", first.error
    stats = CampaignStats.objects.get(campaign=campaign)
    t = stats.totals
    assert (t["sent"], t["opened"], t["replied"], t["positive"], t["meetings"], t["bounced"]) == (100, 32, 2, 1, 1, 18)
    assert t["replied_rate"] == 0.02 and t["bounced_rate"] == 0.18
    assert stats.by_step["1"]["sent"] == 82 and stats.by_step["2"]["bounced"] == 18
    assert stats.by_variant["1/A"]["opened"] == 0 and stats.by_variant["1/B"]["replied"] == 2
    assert [r.agent_name for r in first.handoffs] == ["campaign_optimizer"]


def test_a_campaign_with_no_messages_gets_no_reading_and_no_handoff() -> None:
    CampaignFactory.create(status=Campaign.Status.ACTIVE)
    result = run_agent("campaign_analytics")
    assert result.status == "succeeded" and result.output["campaigns"] == 0
    assert not CampaignStats.objects.exists() and not result.handoffs


def test_a_small_campaign_is_read_but_not_sent_to_the_optimizer() -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    sends(20, campaign=campaign, step=CampaignStepFactory.create(campaign=campaign, order=1))
    result = run_agent("campaign_analytics")
    assert CampaignStats.objects.get(campaign=campaign).totals["sent"] == 20 and not result.handoffs


def test_the_optimizer_asks_approval_for_its_changes_then_goes_on(django_user_model: Any) -> None:
    campaign = _campaign_with_a_funnel()
    run_agent("campaign_analytics")
    result = run_agent("campaign_optimizer", {"campaign_id": campaign.pk})
    assert result.status == "escalated", result.error
    [escalation] = result.escalations
    assert escalation.kind == Escalation.Kind.APPROVAL
    kinds = {(c["kind"], c["step"]) for c in escalation.payload["changes"]}
    assert ("targeting", None) in kinds  # 18% bounces
    assert ("copy", 1) not in kinds  # step 1 has under 100 sends: not judged
    user = django_user_model.objects.create_user("op", "op@example.com", "pw")
    decide(escalation=escalation, approve=True, user=user)
    done = rerun(result.run)
    assert done.status == "succeeded" and done.output["approved"], done.error


def test_the_optimizer_skips_a_campaign_without_a_reading() -> None:
    campaign = CampaignFactory.create()
    result = run_agent("campaign_optimizer", {"campaign_id": campaign.pk})
    assert result.status == "skipped" and not Escalation.objects.exists()


def test_the_rules_name_the_first_weak_stage_of_each_step() -> None:
    by_step = {
        "1": {"sent": 400, "opened_rate": 0.12, "replied_rate": 0.01, "replied": 4, "positive": 0},
        "2": {"sent": 400, "opened_rate": 0.55, "replied_rate": 0.005, "replied": 2, "positive": 0},
        "3": {"sent": 400, "opened_rate": 0.55, "replied_rate": 0.05, "replied": 20, "positive": 2},
        "4": {"sent": 400, "opened_rate": 0.55, "replied_rate": 0.05, "replied": 20, "positive": 12},
        "5": {"sent": 40, "opened_rate": 0.0, "replied_rate": 0.0, "replied": 0, "positive": 0},
    }
    changes = propose(totals={"sent": 1640, "bounced_rate": 0.01}, by_step=by_step, winners={}).changes
    assert [(c.kind, c.step) for c in changes] == [("copy", 1), ("copy", 2), ("targeting", 3)]
    assert "subject" in changes[0].what and "body" in changes[1].what and "12.0%" in changes[0].evidence
    assert propose(totals={}, by_step={}, winners={}).changes == []
