"""Shared rows and settings of the payment agents' tests: the embedded sandbox plays Stripe and
QuickBooks, money is Decimal with its currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from sales.models import Client, Invoice, Proposal
from smarter_team import clock
from tests.factories.sales import ClientFactory, InvoiceFactory, ProposalFactory


@pytest.fixture(autouse=True)
def sandbox_world(sandbox_world: None) -> None:
    """Every test here lives on the embedded default's sandbox market (tests/conftest.py)."""


def signed_proposal(client: Client, *, total: str = "10000.00", currency: str = "USD", **fields: Any) -> Proposal:
    return ProposalFactory.create(
        signed=True,
        lead=client.primary_contact,
        company=client.company,
        client=client,
        total=Decimal(total),
        currency=currency,
        **fields,
    )


def project_client(**fields: Any) -> Client:
    """A client on a project (no retainer)."""
    return ClientFactory.create(monthly_value=Decimal("0.00"), **fields)


def open_invoice(
    *, amount: str = "1000.00", provider_id: str = "in_test1", currency: str = "USD", days_overdue: int | None = None
) -> Invoice:
    due = (
        clock.today() + dt.timedelta(days=14)
        if days_overdue is None
        else clock.today() - dt.timedelta(days=days_overdue)
    )
    return InvoiceFactory.create(
        client=project_client(),
        amount=Decimal(amount),
        currency=currency,
        provider_id=provider_id,
        due_on=due,
        description="Deposit (50%) for an AI support assistant",
        payment_url=f"https://invoice.stripe.com/i/{provider_id}",
    )
