"""From the draft transcript_processing leaves to a signed contract, on simulated time and the sandbox:
pricing -> proposal_creation -> (the buyer reads, is chased, decides) -> contract_signature."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from agents.models import AgentRun
from agents.testing import advance, run_agent
from crm.models import Message
from integrations.models import WebhookEvent
from sales.models import Client, Proposal
from tests.sales.agents.proposal.conftest import buyer_lead, draft, market_people

pytestmark = pytest.mark.django_db

BUYERS = 14


def thousands(amount: float) -> int:
    return max(1000, round(amount / 1000) * 1000)


def test_priced_proposals_are_sent_chased_and_signed_or_lost(frozen_clock: Any) -> None:
    call_command("sync_schedules", verbosity=0)
    PeriodicTask.objects.exclude(name="agent:proposal_follow_up").update(enabled=False)  # only this stage's beat
    by_company = {p.company.domain: p for p in reversed(market_people(200)) if p.company.fit >= 0.6}
    people = list(by_company.values())[:BUYERS]  # one buyer per company, the first one found
    stated: dict[int, int] = {}
    for person in people:
        # What the buyer said on the call: a range whose top is about their hidden budget.
        budget = person.company.budget
        proposal = draft(buyer_lead(person), low=thousands(budget * 0.6), high=thousands(budget))
        stated[proposal.pk] = thousands(budget)
        assert run_agent("pricing", {"proposal_id": proposal.pk}).status == "succeeded"
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(days=40), step=dt.timedelta(hours=4))

    proposals = list(Proposal.objects.select_related("lead", "client"))
    assert len(proposals) == BUYERS
    # Every proposal was priced to the buyer's stated budget where the limits allowed, then sent.
    for proposal in proposals:
        assert proposal.document_id and proposal.sent_at is not None
        if proposal.pricing["fits_budget"]:
            assert proposal.total <= Decimal(stated[proposal.pk])
    # Forty days on, each has an outcome: signed, declined with its reason, or expired unsigned.
    statuses = {p.status for p in proposals}
    assert statuses <= {Proposal.Status.SIGNED, Proposal.Status.DECLINED, Proposal.Status.EXPIRED}
    signed = [p for p in proposals if p.status == Proposal.Status.SIGNED]
    assert signed, "buyers who fit, priced within their budget, sign"
    assert Client.objects.count() == len({p.company_id for p in signed})
    for proposal in signed:
        assert proposal.client is not None and proposal.lead.status == "won"  # type: ignore[union-attr]
        children = AgentRun.objects.filter(parent__agent_name="contract_signature", input__client_id=proposal.client_id)
        started = sorted(children.values_list("agent_name", flat=True))
        assert started == ["invoice_generation", "onboarding_orchestrator"]
        assert children.get(agent_name="invoice_generation").input["proposal_id"] == proposal.pk
    for proposal in proposals:
        if proposal.status != Proposal.Status.SIGNED:
            assert proposal.reactivate_after is not None and proposal.lead.status == "lost"  # type: ignore[union-attr]
        if proposal.status == Proposal.Status.DECLINED:
            assert proposal.decline_reason
    # Chased on the cadence, never more than three times, never after they decided.
    chased = Message.objects.filter(idempotency_key__contains=":follow-up:")
    assert chased.exists()
    for proposal in proposals:
        notes = chased.filter(idempotency_key__startswith=f"proposal:{proposal.pk}:")
        assert notes.count() <= 3
        if proposal.signed_at is not None:
            assert not notes.filter(created_at__gt=proposal.signed_at).exists()
    # The buyers' answers arrived through the signed PandaDoc endpoint, each processed.
    assert WebhookEvent.objects.filter(provider="pandadoc").exclude(status="processed").count() == 0
    # Signed clients write in about their projects now that delivery runs; a change request waits for an
    # operator's approval by design, and that is the only run allowed to stop short.
    awaiting = AgentRun.objects.filter(
        agent_name="change_request", status="escalated", waiting_on__kind="approval", waiting_on__status="open"
    )
    assert not AgentRun.objects.filter(status__in=["failed", "running", "escalated"]).exclude(pk__in=awaiting).exists()
