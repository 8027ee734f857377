"""A signed proposal becomes a client, once per company (sales/services/clients.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sales.models import Client
from sales.services.clients import create_client_from_proposal
from tests.factories.sales import ClientFactory, ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_a_signed_proposal_creates_an_onboarding_client_for_its_company() -> None:
    proposal = ProposalFactory.create(signed=True, currency="EUR")

    client = create_client_from_proposal(proposal=proposal)

    assert client.company_id == proposal.company_id
    assert (client.status, client.currency, client.primary_contact_id) == ("onboarding", "EUR", proposal.lead_id)
    proposal.refresh_from_db()
    assert proposal.client_id == client.pk


def test_creating_the_client_twice_returns_the_same_client() -> None:
    proposal = ProposalFactory.create(signed=True)
    first = create_client_from_proposal(proposal=proposal)

    second_proposal = ProposalFactory.create(signed=True, lead=proposal.lead)
    again = create_client_from_proposal(proposal=second_proposal)

    assert again.pk == first.pk == create_client_from_proposal(proposal=proposal).pk
    assert Client.objects.count() == 1


def test_a_churned_client_who_signs_again_is_won_back() -> None:
    client = ClientFactory.create(status=Client.Status.CHURNED)
    proposal = ProposalFactory.create(signed=True, lead=client.primary_contact)

    won_back = create_client_from_proposal(proposal=proposal)

    assert won_back.pk == client.pk
    assert won_back.status == Client.Status.ONBOARDING


def test_an_unsigned_proposal_makes_no_client() -> None:
    with pytest.raises(ValidationError, match="signed"):
        create_client_from_proposal(proposal=ProposalFactory.create(sent=True))
    assert not Client.objects.exists()
