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
