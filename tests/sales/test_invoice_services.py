"""Invoice numbering, payments, refunds and voiding (sales/services/invoices.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from sales.models import Invoice, InvoiceSequence, Payment
from sales.selectors import invoice_amount_paid, invoice_balance_due
from sales.services.invoices import (
    create_invoice,
    issue_invoice,
    record_manual_payment,
    record_payment,
    void_invoice,
)
from smarter_team import clock
from smarter_team.models import InvalidTransition
from tests.factories.sales import ClientFactory, InvoiceFactory, ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

DUE = dt.date(2026, 3, 31)


def _invoice(**kwargs: object) -> Invoice:
    defaults: dict[str, object] = {
        "kind": Invoice.Kind.DEPOSIT,
        "amount": Decimal("1000.00"),
        "currency": "USD",
        "due_on": DUE,
    }
    defaults.update(kwargs)
    if "client" not in defaults:
        defaults["client"] = ClientFactory.create()
    return create_invoice(**defaults)  # type: ignore[arg-type]


def test_invoices_are_numbered_in_sequence_per_year() -> None:
    first, second = _invoice(), _invoice()

    assert (first.number, first.year, first.sequence) == ("INV-2026-00001", 2026, 1)
    assert (second.number, second.sequence) == ("INV-2026-00002", 2)
    assert first.status == Invoice.Status.DRAFT
    assert InvoiceSequence.objects.get(year=2026).last_number == 2


def test_a_new_year_starts_again_at_one(frozen_clock: clock.FrozenClock) -> None:
    _invoice()
    frozen_clock.set(dt.datetime(2027, 1, 1, 0, 5, tzinfo=dt.UTC))

    invoice = _invoice(due_on=dt.date(2027, 1, 31))

    assert invoice.number == "INV-2027-00001"


def test_a_rolled_back_invoice_gives_its_number_back() -> None:
    client = ClientFactory.create()
    with pytest.raises(RuntimeError), transaction.atomic():
        _invoice(client=client)
        raise RuntimeError("the caller failed after creating the invoice")

    assert _invoice(client=client).number == "INV-2026-00001"


def test_factory_invoices_share_the_sequence_with_the_service() -> None:
    InvoiceFactory.create()

    assert _invoice().sequence == 2


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00"), 10.5])
def test_invoice_amount_must_be_a_positive_decimal(amount: object) -> None:
    with pytest.raises(ValidationError):
        _invoice(amount=amount)
    assert not InvoiceSequence.objects.exists() or InvoiceSequence.objects.get().last_number == 0


def test_invoice_refuses_a_proposal_of_another_client() -> None:
    proposal = ProposalFactory.create(client=ClientFactory.create())

    with pytest.raises(ValidationError, match="another client"):
        _invoice(proposal=proposal)


def test_issuing_opens_the_invoice_and_dates_it() -> None:
    invoice = issue_invoice(invoice=_invoice(), provider_id="in_123")

    assert invoice.status == Invoice.Status.OPEN
    assert invoice.issued_on == dt.date(2026, 3, 2)
    assert invoice.provider_id == "in_123"


def _pay(invoice: Invoice, amount: str, event: str, status: str = Payment.Status.SUCCEEDED) -> Payment:
    return record_payment(
        invoice=invoice, amount=Decimal(amount), currency="USD", provider_event_id=event, status=status
    )


def test_a_payment_covering_the_amount_marks_the_invoice_paid() -> None:
    invoice = issue_invoice(invoice=_invoice())

    payment = _pay(invoice, "1000.00", "evt_1")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.paid_at == payment.paid_at == clock.now()


def test_partial_payments_leave_the_invoice_open_until_covered() -> None:
    invoice = issue_invoice(invoice=_invoice())

    _pay(invoice, "400.00", "evt_1")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice_balance_due(invoice=invoice) == Decimal("600.00")

    _pay(invoice, "600.00", "evt_2")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_a_replayed_payment_event_returns_the_same_payment_and_changes_nothing() -> None:
    invoice = issue_invoice(invoice=_invoice())
    first = _pay(invoice, "400.00", "evt_1")

    again = _pay(invoice, "400.00", "evt_1")

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice_amount_paid(invoice=invoice) == Decimal("400.00")


def test_a_failed_payment_is_recorded_but_settles_nothing() -> None:
    invoice = issue_invoice(invoice=_invoice())

    payment = record_payment(
        invoice=invoice,
        amount=Decimal("1000.00"),
        currency="USD",
        provider_event_id="evt_f",
        status=Payment.Status.FAILED,
        failure_reason="card_declined",
    )

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert payment.paid_at is None
    assert payment.failure_reason == "card_declined"


def test_a_refund_reopens_a_paid_invoice() -> None:
    invoice = issue_invoice(invoice=_invoice())
    _pay(invoice, "1000.00", "evt_paid")

    _pay(invoice, "250.00", "evt_refund", status=Payment.Status.REFUNDED)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.paid_at is None
    assert invoice_balance_due(invoice=invoice) == Decimal("250.00")


def test_a_replayed_refund_is_counted_once() -> None:
    invoice = issue_invoice(invoice=_invoice())
    _pay(invoice, "1000.00", "evt_paid")
    _pay(invoice, "250.00", "evt_refund", status=Payment.Status.REFUNDED)

    _pay(invoice, "250.00", "evt_refund", status=Payment.Status.REFUNDED)

    assert invoice_amount_paid(invoice=invoice) == Decimal("750.00")


def test_a_payment_in_another_currency_is_refused() -> None:
    invoice = issue_invoice(invoice=_invoice())

    with pytest.raises(ValidationError, match="currency"):
        record_payment(
            invoice=invoice, amount=Decimal("1000"), currency="EUR", provider_event_id="evt_x", status="succeeded"
        )
    assert not Payment.objects.exists()


def test_money_on_a_void_invoice_is_kept_but_the_invoice_stays_void() -> None:
    invoice = void_invoice(invoice=_invoice())

    _pay(invoice, "1000.00", "evt_late")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_paid_invoice_cannot_be_voided() -> None:
    invoice = issue_invoice(invoice=_invoice())
    _pay(invoice, "1000.00", "evt_1")

    with pytest.raises(InvalidTransition):
        void_invoice(invoice=invoice)


def test_a_manual_payment_settles_the_invoice_with_its_own_event_id() -> None:
    invoice = issue_invoice(invoice=_invoice())

    payment = record_manual_payment(invoice=invoice, amount=Decimal("1000.00"), currency="usd", reference="wire 42")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert payment.provider_event_id.startswith("manual:")
    assert payment.provider_payment_id == "wire 42"
