"""Rows the onboarding and offboarding tests start from: clients as a signature makes them."""

from __future__ import annotations

from typing import Any

from crm.models import Company, Lead
from sales.models import Client, Proposal
from sales.services.clients import create_client_from_proposal
from tests.factories.crm import CompanyFactory, LeadFactory
from tests.factories.sales import ProposalFactory

SCOPE = {
    "needs": ["connect HubSpot to the support inbox", "weekly reporting"],
    "current_tools": "Mostly HubSpot, Slack, but nothing is connected.",
}


def signed_client(
    *,
    requirements: dict[str, Any] | None = None,
    tech_stack: list[str] | None = None,
    contact: dict[str, Any] | None = None,
    company: Company | None = None,
) -> Client:
    """A client as contract_signature makes one: a signed proposal's company, its buyer the contact."""
    company = company or CompanyFactory.create(tech_stack=tech_stack or [])
    lead: Lead = LeadFactory.create(company=company, status=Lead.Status.PROPOSAL_SENT, **(contact or {}))
    proposal: Proposal = ProposalFactory.create(
        lead=lead, company=company, signed=True, requirements=SCOPE if requirements is None else requirements
    )
    return create_client_from_proposal(proposal=proposal)


def delivered_client(**kwargs: Any) -> Client:
    """An active client with work on record: a project, an accepted milestone with its criteria,
    a delivered deliverable with a passed QA review, and two accesses they gave us."""
    from delivery.models import ClientAccess, Deliverable, Milestone, Project
    from tests.factories.delivery import (
        ClientAccessFactory,
        DeliverableFactory,
        MilestoneFactory,
        ProjectFactory,
        QAReviewFactory,
    )

    client = signed_client(**kwargs)
    Client.objects.filter(pk=client.pk).update(status=Client.Status.ACTIVE)
    client.refresh_from_db()
    project = ProjectFactory.create(client=client, name="Support inbox assistant", status=Project.Status.ACTIVE)
    milestone = MilestoneFactory.create(
        project=project,
        name="Assistant live on email",
        status=Milestone.Status.ACCEPTED,
        acceptance_criteria=["answers 90% of the test questions", "hands off to a human"],
    )
    deliverable = DeliverableFactory.create(
        milestone=milestone,
        name="Email assistant",
        url="https://docs.example.com/assistant-runbook",
        description="Answers routine support emails from the knowledge base.",
        status=Deliverable.Status.DELIVERED,
    )
    QAReviewFactory.create(
        deliverable=deliverable,
        findings=[{"criterion": "answers 90% of the test questions", "met": True, "note": "93% on 200 questions"}],
    )
    ClientAccessFactory.create(client=client, system="HubSpot", kind=ClientAccess.Kind.USER_ACCOUNT)
    ClientAccessFactory.create(client=client, system="Slack", kind=ClientAccess.Kind.GUEST)
    return client
