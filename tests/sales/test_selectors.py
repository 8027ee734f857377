"""Work lists the sales agents read (sales/selectors.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sales.models import Invoice, Meeting
from sales.selectors import (
    client_for_company,
    invoice_amount_paid,
    meetings_starting_between,
    overdue_invoices,
    proposals_awaiting_signature,
)
from smarter_team import clock
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, PaymentFactory, ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_overdue_invoices_are_open_ones_past_due_oldest_first() -> None:
    today = clock.today()
    late = InvoiceFactory.create(due_on=today - dt.timedelta(days=3))
    later = InvoiceFactory.create(due_on=today - dt.timedelta(days=10))
    InvoiceFactory.create(due_on=today)  # due today: not overdue yet
    InvoiceFactory.create(paid=True, due_on=today - dt.timedelta(days=30))
    InvoiceFactory.create(status=Invoice.Status.VOID, due_on=today - dt.timedelta(days=30))

    assert list(overdue_invoices(today=today)) == [later, late]


def test_amount_paid_counts_succeeded_minus_refunded_and_ignores_failures() -> None:
    invoice = InvoiceFactory.create(amount=Decimal("1000.00"))
    PaymentFactory.create(invoice=invoice, amount=Decimal("600.00"))
    PaymentFactory.create(invoice=invoice, amount=Decimal("400.00"), status="failed", paid_at=None)
    PaymentFactory.create(invoice=invoice, amount=Decimal("100.00"), status="refunded")

    assert invoice_amount_paid(invoice=invoice) == Decimal("500.00")
    assert invoice_amount_paid(invoice=InvoiceFactory.create()) == Decimal("0.00")


def test_meetings_in_a_window_skip_canceled_and_held_ones() -> None:
    now = clock.now()
    soon = MeetingFactory.create(starts_at=now + dt.timedelta(hours=20), ends_at=now + dt.timedelta(hours=21))
    MeetingFactory.create(
        status=Meeting.Status.CANCELED, starts_at=now + dt.timedelta(hours=20), ends_at=now + dt.timedelta(hours=21)
    )
    MeetingFactory.create(starts_at=now + dt.timedelta(days=3), ends_at=now + dt.timedelta(days=3, hours=1))

    assert list(meetings_starting_between(start=now, end=now + dt.timedelta(days=1))) == [soon]


def test_proposals_awaiting_signature_are_sent_before_the_cutoff() -> None:
    stale = ProposalFactory.create(sent=True, sent_at=clock.now() - dt.timedelta(days=5))
    ProposalFactory.create(sent=True)  # sent just now
    ProposalFactory.create(signed=True, sent_at=clock.now() - dt.timedelta(days=9))

    assert list(proposals_awaiting_signature(sent_before=clock.now() - dt.timedelta(days=3))) == [stale]


def test_client_for_company() -> None:
    client = ClientFactory.create()

    assert client_for_company(company_id=client.company_id) == client
