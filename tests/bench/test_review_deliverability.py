"""bench.arms.review_deliverability: the bench team resumes a first deliverability pause, never a second."""

from __future__ import annotations

import pytest

from agents.models import Escalation
from bench.arms import review_deliverability
from crm.models import Campaign
from smarter_team import clock
from tests.factories.crm import CampaignFactory, CampaignStepFactory, MailboxFactory

pytestmark = pytest.mark.django_db


def paused_alert(kind: str, pk: int, *, status: str = Escalation.Status.OPEN) -> Escalation:
    decided = {} if status == Escalation.Status.OPEN else {"decided_at": clock.now()}
    return Escalation.objects.create(
        **decided,
        kind=Escalation.Kind.POLICY,
        reason=f"{kind} paused: complaint rate above the line",
        payload={"kind": kind, "id": pk, "breach": "complaint"},
        dedupe_key=f"deliverability:{kind}:{pk}:complaint",
        status=status,
    )


def test_a_first_pause_is_resumed_and_its_alert_closed():
    campaign = CampaignFactory.create(status=Campaign.Status.PAUSED, paused_reason="deliverability: complaint")
    CampaignStepFactory.create(campaign=campaign)
    mailbox = MailboxFactory.create(paused=True, paused_reason="deliverability: bounce rate over the line")
    alerts = [paused_alert("campaign", campaign.pk), paused_alert("mailbox", mailbox.pk)]

    assert review_deliverability() == 2

    campaign.refresh_from_db()
    mailbox.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE and campaign.paused_reason == ""
    assert not mailbox.paused
    assert {a.status for a in Escalation.objects.filter(pk__in=[a.pk for a in alerts])} == {"approved"}
    assert review_deliverability() == 0  # nothing left open


def test_a_subject_paused_again_for_the_same_breach_stays_paused():
    campaign = CampaignFactory.create(status=Campaign.Status.PAUSED, paused_reason="deliverability: complaint")
    CampaignStepFactory.create(campaign=campaign)
    paused_alert("campaign", campaign.pk, status=Escalation.Status.APPROVED)  # the first, reviewed
    second = paused_alert("campaign", campaign.pk)

    assert review_deliverability() == 0

    campaign.refresh_from_db()
    second.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and second.status == Escalation.Status.OPEN
