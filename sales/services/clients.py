"""Clients: a signed proposal becomes a client (one per company)."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sales.models import Client, Proposal
from sales.services.pricing import RETAINER_MONTHS
from smarter_team import clock
from smarter_team.dates import add_months

# A first contract with no stated timeline runs this long: a small agency's usual build of an
# automation, handover included (a judgement). renewal_manager works from the end date, so a client
# without one would never be offered a renewal nor offboarded at the end of its contract.
DEFAULT_BUILD_MONTHS = 3
WEEKS_PER_MONTH = 52 / 12


def contract_term_months(proposal: Proposal) -> int:
    """How long a signed first contract runs: the build (the buyer's stated timeline, else
    DEFAULT_BUILD_MONTHS) and then, when the proposal includes a retainer, its minimum term."""
    requirements: dict[str, Any] = proposal.requirements if isinstance(proposal.requirements, dict) else {}
    pricing: dict[str, Any] = proposal.pricing if isinstance(proposal.pricing, dict) else {}
    weeks = requirements.get("timeline_weeks")
    build = math.ceil(weeks / WEEKS_PER_MONTH) if isinstance(weeks, int) and weeks > 0 else DEFAULT_BUILD_MONTHS
    listed = pricing.get("lines")
    lines = listed if isinstance(listed, list) else []
    retainer = any(isinstance(line, dict) and line.get("kind") == "retainer" for line in lines)
    return build + (RETAINER_MONTHS if retainer else 0)


def create_client_from_proposal(*, proposal: Proposal) -> Client:
    """The client for a signed proposal's company, created once; links the proposal to it.

    Idempotent on the company: a second proposal (or a replayed signature) of the same company
    returns its existing client. A churned or offboarded client who signs again is won back: it
    starts onboarding again.
    """
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("lead").get(pk=proposal.pk)
        if proposal.status != Proposal.Status.SIGNED:
            raise ValidationError(
                f"Only a signed proposal makes a client (this one is {proposal.status})", code="not_signed"
            )
        if proposal.client_id is not None:
            return Client.objects.get(pk=proposal.client_id)
        company_id = proposal.company_id or (proposal.lead.company_id if proposal.lead else None)
        if company_id is None:
            raise ValidationError("The proposal has no company to make a client of", code="no_company")
        # get_or_create retries the read after an IntegrityError in a savepoint, so two signatures
        # processed at once still end with one client (Client.company is one-to-one).
        today = clock.today()
        contract_end = add_months(today, contract_term_months(proposal))
        client, created = Client.objects.get_or_create(
            company_id=company_id,
            defaults={
                "primary_contact": proposal.lead,
                "currency": proposal.currency,
                "started_on": today,
                "contract_end": contract_end,
            },
        )
        if not created and client.status in (Client.Status.CHURNED, Client.Status.OFFBOARDED):
            client.started_on, client.contract_end = today, contract_end
            client.transition_to(Client.Status.ONBOARDING, also=["started_on", "contract_end"])
        proposal.client = client
        proposal.save(update_fields=["client"])
        return client
