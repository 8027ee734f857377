"""The allowed status transitions of sales models: one place, enforced by ``transition_to``."""

from __future__ import annotations

from typing import Any

import pytest

from sales.models import Client, Invoice, Meeting, Payment, Proposal
from smarter_team.models import InvalidTransition
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, PaymentFactory, ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

FACTORIES: dict[type, Any] = {
    Meeting: MeetingFactory,
    Proposal: ProposalFactory,
    Client: ClientFactory,
    Invoice: InvoiceFactory,
    Payment: PaymentFactory,
}

ALLOWED = [
    (Meeting, "proposed", "scheduled"),
    (Meeting, "scheduled", "reminded"),
    (Meeting, "reminded", "held"),
    (Meeting, "no_show", "rescheduled"),
    (Meeting, "held", "followed_up"),
    (Proposal, "draft", "awaiting_approval"),
    (Proposal, "sent", "viewed"),
    (Proposal, "declined", "draft"),
    (Client, "onboarding", "active"),
    (Client, "churned", "onboarding"),
    (Invoice, "draft", "open"),
    (Invoice, "open", "uncollectible"),
    (Invoice, "uncollectible", "void"),
]

REFUSED = [
    (Meeting, "held", "scheduled"),
    (Meeting, "canceled", "scheduled"),
    (Meeting, "followed_up", "held"),
    (Proposal, "draft", "viewed"),
    (Proposal, "signed", "declined"),
    (Client, "offboarded", "active"),
    (Client, "active", "onboarding"),
    (Invoice, "void", "open"),
    (Invoice, "draft", "paid"),
    (Payment, "succeeded", "failed"),
    (Payment, "refunded", "succeeded"),
]


def _make(model: type, status: str) -> Any:
    # Only the in-memory status matters to the state machine; save=False keeps constraints out of it.
    obj = FACTORIES[model].build(status=status)
    return obj


@pytest.mark.parametrize(("model", "current", "new"), ALLOWED)
def test_allowed_transition(model: type, current: str, new: str) -> None:
    obj = _make(model, current)

    assert obj.transition_to(new, save=False) is True
    assert obj.status == new


@pytest.mark.parametrize(("model", "current", "new"), REFUSED)
def test_refused_transition(model: type, current: str, new: str) -> None:
    obj = _make(model, current)

    with pytest.raises(InvalidTransition):
        obj.transition_to(new, save=False)
    assert obj.status == current


def test_moving_to_the_current_status_is_an_idempotent_no_op() -> None:
    invoice = InvoiceFactory.create(draft=True)

    assert invoice.transition_to(Invoice.Status.DRAFT) is False


def test_a_transition_saves_only_the_status() -> None:
    meeting = MeetingFactory.create()
    meeting.title = "not saved"

    meeting.transition_to(Meeting.Status.HELD)

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.title != "not saved"
