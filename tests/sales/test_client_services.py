"""A signed proposal becomes a client, once per company (sales/services/clients.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sales.models import Client
from sales.services.clients import DEFAULT_BUILD_MONTHS, contract_term_months, create_client_from_proposal
from smarter_team import clock
from smarter_team.dates import add_months
from tests.factories.sales import ClientFactory, ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_a_signed_proposal_creates_an_onboarding_client_for_its_company() -> None:
    proposal = ProposalFactory.create(signed=True, currency="EUR")

    client = create_client_from_proposal(proposal=proposal)

    assert client.company_id == proposal.company_id
    assert (client.status, client.currency, client.primary_contact_id) == ("onboarding", "EUR", proposal.lead_id)
    proposal.refresh_from_db()
    assert proposal.client_id == client.pk


@pytest.mark.parametrize(
    ("requirements", "lines", "months"),
    [
        ({}, [], DEFAULT_BUILD_MONTHS),
        ({"timeline_weeks": 6}, [], 2),
        ({"timeline_weeks": 6}, [{"service": "Support", "kind": "retainer"}], 5),
        ({"timeline_weeks": "soon"}, [{"service": "Build", "kind": "automation"}], DEFAULT_BUILD_MONTHS),
    ],
)
def test_the_contract_runs_for_the_build_and_a_retainers_term(
    requirements: dict[str, object], lines: list[dict[str, str]], months: int
) -> None:
    proposal = ProposalFactory.create(signed=True, requirements=requirements, pricing={"lines": lines})
    assert contract_term_months(proposal) == months

    client = create_client_from_proposal(proposal=proposal)

    # renewal_manager works from this date: without it no client is ever renewed or let go.
    assert (client.started_on, client.contract_end) == (clock.today(), add_months(clock.today(), months))


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
