"""Clients: a signed proposal becomes a client (one per company)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from sales.models import Client, Proposal
from smarter_team import clock


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
        client, created = Client.objects.get_or_create(
            company_id=company_id,
            defaults={
                "primary_contact": proposal.lead,
                "currency": proposal.currency,
                "started_on": clock.today(),
            },
        )
        if not created and client.status in (Client.Status.CHURNED, Client.Status.OFFBOARDED):
            client.started_on = clock.today()
            client.transition_to(Client.Status.ONBOARDING, also=["started_on"])
        proposal.client = client
        proposal.save(update_fields=["client"])
        return client
