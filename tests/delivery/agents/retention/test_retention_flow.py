"""Retention on simulated time: three weeks of the schedules, the sandbox answering through the real webhooks.

A troubled client is scored daily, found at high risk, its account owner told once and a check-in
call offered once (the sandbox client's mood lifts); every client past its first month is surveyed
once, and each answer the market gives is captured; a healthy client whose contract ends within
60 days gets one renewal draft, and one upsell grounded in the request it made.
"""

from __future__ import annotations

import datetime as dt

import pytest

from agents.models import AgentRun, Escalation
from agents.testing import advance, keep_schedules
from crm.models import Message
from delivery.models import HealthSnapshot, SurveyResponse, UpsellOpportunity
from integrations.models import SandboxEvent, SandboxRecord
from integrations.sandbox import accounts
from sales.models import Client, Proposal
from smarter_team import clock
from tests.delivery.agents.retention.conftest import a_client
from tests.delivery.agents.retention.conftest import troubled as troubled_client
from tests.factories.delivery import ChangeRequestFactory, ProjectFactory
from tests.factories.sales import InvoiceFactory

pytestmark = pytest.mark.django_db
RETENTION = ("client_health", "churn_risk", "upsell_detection", "satisfaction_survey", "renewal_manager")


def _set_mood(client: Client, mood: float) -> None:
    assert client.primary_contact is not None and client.primary_contact.email
    email = client.primary_contact.email
    accounts.mood(email)
    record = SandboxRecord.objects.get(kind=accounts.KIND, ref=email)
    record.data = {**record.data, "mood": mood}
    record.save(update_fields=["data"])


def test_three_weeks_of_retention_on_the_sandbox(frozen_clock: clock.FrozenClock) -> None:
    keep_schedules(lambda name: name in RETENTION)
    today = clock.today()
    troubled = troubled_client(started_on=today - dt.timedelta(days=100))
    _set_mood(troubled, 0.3)
    healthy = [a_client(started_on=today - dt.timedelta(days=40), health_score=85) for _ in range(6)]
    for client in healthy:
        _set_mood(client, 0.95)
        InvoiceFactory.create(client=client, paid=True, due_on=today - dt.timedelta(days=5))
    renewing = healthy[0]
    Client.objects.filter(pk=renewing.pk).update(contract_end=today + dt.timedelta(days=70))
    ChangeRequestFactory.create(
        project=ProjectFactory.create(client=renewing),
        description="Automate the weekly client report",
        status="rejected",
    )

    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(days=21), step=dt.timedelta(hours=6))

    assert not AgentRun.objects.filter(status__in=["failed", "running"]).exists(), list(
        AgentRun.objects.filter(status="failed").values_list("agent_name", "error")
    )
    # Scored every day, once a day.
    assert HealthSnapshot.objects.filter(client=troubled).count() == 22  # the first morning and 21 more
    troubled.refresh_from_db()
    assert troubled.status == Client.Status.AT_RISK and troubled.health_score is not None
    # One escalation and one offer for the whole episode, and the sandbox client felt it.
    assert Escalation.objects.filter(dedupe_key__startswith=f"churn:client:{troubled.pk}:").count() == 1
    contact = troubled.primary_contact
    assert contact is not None and contact.email
    offers = Message.objects.filter(intent="save_play")
    offer = offers.get(conversation__lead=contact)
    assert offer.status == "sent"
    # Another client may earn one in these weeks, once: when the market signs the upsell (a draw on
    # the company's name), its new project's milestones slip here, where no delivery agent works.
    for other in offers.exclude(pk=offer.pk):
        client = Client.objects.get(primary_contact=other.conversation.lead)
        assert client.status == Client.Status.AT_RISK
        assert offers.filter(conversation__lead=other.conversation.lead).count() == 1
    assert accounts.mood(contact.email) > 0.3
    # Surveyed once this month; every answer the market gave is captured.
    surveys = SurveyResponse.objects.filter(kind__in=["nps", "csat"])
    assert surveys.count() == 7
    assert surveys.get(client=troubled).kind == "nps"
    answers = SandboxEvent.objects.filter(kind="survey_answer", status="delivered")
    assert answers.exists()
    answered = surveys.filter(responded_at__isnull=False)
    assert answered.count() == answers.count()
    assert all(s.score is not None or s.answers.get("problem") for s in answered)
    # The renewal is drafted once; the upsell rests on the request.
    renewals = Proposal.objects.filter(requirements__kind="renewal")
    assert [p.client_id for p in renewals] == [renewing.pk]
    # Proposed as a draft the pricing chain carries on to the client, so within three weeks the market may
    # already have decided it; the opportunity follows its proposal's fate.
    upsell = UpsellOpportunity.objects.get(client=renewing)
    assert upsell.title == "Automated client reporting" and upsell.proposal is not None
    assert upsell.proposal.requirements["kind"] == "upsell" and upsell.proposal.requirements["cites"]
    fate = {"signed": "won", "declined": "lost", "expired": "lost"}.get(upsell.proposal.status, "proposed")
    assert upsell.status == fate
    assert not UpsellOpportunity.objects.filter(client=troubled).exists()
