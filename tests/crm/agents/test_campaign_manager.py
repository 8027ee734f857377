"""campaign_manager: campaigns per ICP and persona, enrollment within daily limits, launch and pause."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Campaign, Enrollment, Lead, Mailbox, Message
from crm.services.suppression import suppress
from integrations.models import SandboxRecord
from smarter_team import clock
from tests.factories.crm import IdealCustomerProfileFactory, LeadFactory, MailboxFactory, PersonaFactory

pytestmark = pytest.mark.django_db

MONDAY_10_BERLIN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FINDING = {
    "kind": "news",
    "claim": "The clinic opened a second practice in Potsdam",
    "source_url": "https://clinic.example/news",
    "provider": "web",
    "fetched_at": "2026-02-20T10:00:00+00:00",
}


@pytest.fixture
def monday() -> Iterator[clock.FrozenClock]:
    with clock.frozen(MONDAY_10_BERLIN) as handle:
        yield handle


def qualified(n: int, **kw: Any) -> list[Lead]:
    return [
        LeadFactory.create(status=Lead.Status.QUALIFIED, score=80 - i, research={"findings": [FINDING]}, **kw)
        for i in range(n)
    ]


def test_one_campaign_per_icp_and_persona_enrolled_within_the_daily_limit(monday: clock.FrozenClock) -> None:
    MailboxFactory.create()
    icp = IdealCustomerProfileFactory.create(pains=["missed calls"])
    owners, managers = PersonaFactory.create(), PersonaFactory.create()
    qualified(3, icp=icp, persona=owners)
    qualified(2, icp=icp, persona=managers)
    suppressed = qualified(1, icp=icp, persona=owners)[0]
    suppress(email_or_domain=suppressed.email or "", reason="unsubscribe", source="test")
    LeadFactory.create(status=Lead.Status.VERIFIED, icp=icp, persona=owners)  # not qualified: not enrolled
    result = run_agent("campaign_manager")
    assert result.status == "succeeded", result.error
    campaigns = Campaign.objects.order_by("pk")
    assert [(c.icp_id, c.persona_id, c.status) for c in campaigns] == [
        (icp.pk, owners.pk, "draft"),
        (icp.pk, managers.pk, "draft"),
    ]
    assert all(c.mailboxes.count() == 1 for c in campaigns)
    assert result.output["enrolled"] == 5
    assert not Enrollment.objects.filter(lead=suppressed).exists()
    names = sorted(r.agent_name for r in result.handoffs)
    assert names == ["copywriting"] * 2 + ["personalization"] * 5


def test_enrollment_stops_at_the_daily_limit_and_continues_the_next_day(monday: clock.FrozenClock) -> None:
    icp = IdealCustomerProfileFactory.create()
    qualified(5, icp=icp)
    run_agent("campaign_manager")
    campaign = Campaign.objects.get()
    Campaign.objects.filter(pk=campaign.pk).update(daily_limit=3)
    Enrollment.objects.all().delete()
    run_agent("campaign_manager")
    assert Enrollment.objects.count() == 3
    run_agent("campaign_manager")
    assert Enrollment.objects.count() == 3
    monday.tick(dt.timedelta(days=1))
    run_agent("campaign_manager")
    assert Enrollment.objects.count() == 5


def test_from_qualified_leads_to_sent_emails_after_one_approval(
    monday: clock.FrozenClock, django_user_model: Any
) -> None:
    MailboxFactory.create()
    icp = IdealCustomerProfileFactory.create(pains=["missed calls after hours"])
    leads = qualified(3, icp=icp, persona=PersonaFactory.create())
    run_agent("campaign_manager")
    drain()  # copywriting -> spam_check; personalization -> send_time_optimization
    campaign = Campaign.objects.get()
    assert campaign.steps.count() == 4 and all(s.spam_check["passed"] for s in campaign.steps.all())
    launched = run_agent("campaign_manager")
    assert launched.output["launched"] == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    run_agent("sequence_scheduler")
    drain()
    assert not Message.objects.exists()
    escalation = Escalation.objects.get(dedupe_key=f"approval:campaign:{campaign.pk}:first-batch")
    assert len(escalation.payload["messages"]) == 3
    assert all("second practice in Potsdam" in m["body"] for m in escalation.payload["messages"])
    run_agent("sequence_scheduler")  # a second beat tick does not ask again
    assert AgentRun.objects.filter(agent_name="sequence_scheduler", status="escalated").count() == 1
    decide(escalation=escalation, approve=True, user=django_user_model.objects.create_user("ops"), note="go")
    drain()
    assert Message.objects.filter(status=Message.Status.SENT).count() == 3
    assert SandboxRecord.objects.filter(kind="email").count() == 3
    assert {m.to_email for m in Message.objects.all()} == {lead.email for lead in leads}


def test_a_campaign_without_an_unpaused_mailbox_pauses_and_resumes(monday: clock.FrozenClock) -> None:
    mailbox = MailboxFactory.create()
    qualified(1, icp=IdealCustomerProfileFactory.create())
    run_agent("campaign_manager")
    drain()
    run_agent("campaign_manager")
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.ACTIVE
    Mailbox.objects.filter(pk=mailbox.pk).update(paused=True)
    assert run_agent("campaign_manager").output["paused"] == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and campaign.paused_reason == "no unpaused sending mailbox"
    Mailbox.objects.filter(pk=mailbox.pk).update(paused=False)
    assert run_agent("campaign_manager").output["resumed"] == [campaign.pk]


def test_a_campaign_whose_copy_fails_the_spam_check_is_paused(monday: clock.FrozenClock) -> None:
    MailboxFactory.create()
    qualified(1, icp=IdealCustomerProfileFactory.create())
    run_agent("campaign_manager")
    drain()
    run_agent("campaign_manager")
    campaign = Campaign.objects.get()
    step = campaign.steps.get(order=0)
    step.spam_check = {**step.spam_check, "passed": False}
    step.save()
    run_agent("campaign_manager")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and campaign.paused_reason == "copy failed the spam check"


def test_campaign_manager_is_idempotent(monday: clock.FrozenClock) -> None:
    MailboxFactory.create()
    qualified(2, icp=IdealCustomerProfileFactory.create())
    assert_idempotent("campaign_manager")
