"""Proposal pricing and the signature lifecycle (sales/services/proposals.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sales.models import Proposal
from sales.services import proposals
from smarter_team import clock
from smarter_team.models import InvalidTransition
from tests.factories.crm import LeadFactory
from tests.factories.sales import ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_line_item_totals_are_exact_decimals() -> None:
    lines, total = proposals.price_line_items(
        [
            {"description": "Setup", "quantity": 1, "unit_price": "0.10"},
            {"description": "Setup 2", "quantity": "3", "unit_price": 0.1},
            {"description": "Hours", "quantity": "2.5", "unit_price": "150.333"},
        ]
    )

    assert total == Decimal("376.23")  # 0.10 + 0.30 + 375.83 (375.8325 rounded half up)
    assert isinstance(total, Decimal)
    assert lines[1] == {"description": "Setup 2", "quantity": "3", "unit_price": "0.10", "amount": "0.30"}
    assert lines[2]["amount"] == "375.83"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"description": "", "quantity": 1, "unit_price": 1}, "description"),
        ({"description": "x", "quantity": 0, "unit_price": 1}, "quantity must be greater"),
        ({"description": "x", "quantity": 1, "unit_price": -1}, "cannot be negative"),
        ({"description": "x", "quantity": "two", "unit_price": 1}, "not a number"),
        ({"description": "x", "quantity": 1, "unit_price": "NaN"}, "finite"),
        ({"description": "x", "quantity": True, "unit_price": 1}, "must be a number"),
        ({"description": "x", "quantity": 1, "unit_price": 1, "discount": 5}, "unknown fields"),
    ],
)
def test_invalid_line_items_are_refused_with_the_line_and_the_reason(item: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        proposals.price_line_items([{"description": "ok", "quantity": 1, "unit_price": 1}, item])


def test_a_draft_is_created_with_its_priced_lines() -> None:
    lead = LeadFactory.create()

    proposal = proposals.create_proposal_draft(
        title="AI assistant",
        lead=lead,
        currency="eur",
        line_items=[{"description": "Build", "quantity": "2", "unit_price": "1000"}],
    )

    assert (proposal.status, proposal.total, proposal.currency) == (Proposal.Status.DRAFT, Decimal("2000.00"), "EUR")
    assert proposal.company_id == lead.company_id


def test_a_sent_proposal_cannot_be_repriced() -> None:
    proposal = proposals.mark_proposal_sent(proposal=ProposalFactory.create(), document_id="pd_1")

    with pytest.raises(ValidationError, match="cannot be repriced"):
        proposals.set_proposal_line_items(
            proposal=proposal, line_items=[{"description": "x", "quantity": 1, "unit_price": 1}]
        )


def test_an_unpriced_proposal_cannot_be_sent() -> None:
    with pytest.raises(ValidationError, match="priced line items"):
        proposals.mark_proposal_sent(proposal=ProposalFactory.create(line_items=[], total=Decimal("0")))


def test_sent_viewed_signed_carry_their_timestamps() -> None:
    proposal = proposals.mark_proposal_sent(proposal=ProposalFactory.create(), document_id="pd_1")
    assert (proposal.status, proposal.sent_at, proposal.document_id) == ("sent", clock.now(), "pd_1")

    proposal = proposals.mark_proposal_viewed(proposal=proposal)
    assert proposal.status == Proposal.Status.VIEWED

    proposal = proposals.mark_proposal_signed(proposal=proposal)
    assert (proposal.status, proposal.signed_at) == ("signed", clock.now())

    # a late "viewed" webhook after the signature changes nothing
    assert proposals.mark_proposal_viewed(proposal=proposal).status == Proposal.Status.SIGNED


def test_a_declined_proposal_keeps_the_reason_and_cannot_be_signed() -> None:
    proposal = proposals.mark_proposal_sent(proposal=ProposalFactory.create())

    proposal = proposals.mark_proposal_declined(proposal=proposal, reason="too expensive")

    assert (proposal.status, proposal.decline_reason) == (Proposal.Status.DECLINED, "too expensive")
    with pytest.raises(InvalidTransition):
        proposals.mark_proposal_signed(proposal=proposal)


def test_a_draft_cannot_be_signed_without_being_sent() -> None:
    with pytest.raises(InvalidTransition):
        proposals.mark_proposal_signed(proposal=ProposalFactory.create())
