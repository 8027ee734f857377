"""Invoices and payments: gapless numbering, payment events, refunds, voiding."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from sales.models import Client, Invoice, InvoiceSequence, Payment, Proposal
from sales.selectors import invoice_amount_paid
from smarter_team import clock

NUMBER_PREFIX = "INV"


def format_invoice_number(*, year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{sequence:05d}"


def next_invoice_number(*, year: int) -> tuple[str, int]:
    """Reserve the next number of ``year``; returns ``("INV-2026-00001", 1)``.

    Precondition: call inside the transaction that inserts the invoice. The year's sequence row
    stays locked (SELECT FOR UPDATE) until that transaction ends, so a rollback gives the number
    back and two writers never get the same one: numbers have no gaps and no duplicates.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_invoice_number must run inside the transaction that saves the invoice")
    # ON CONFLICT DO NOTHING: the first invoice of a year creates the row without racing another
    # writer into an IntegrityError; the locking read below then sees the one row either way.
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year, last_number=0)], ignore_conflicts=True)
    sequence_row = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence_row.last_number += 1
    sequence_row.save(update_fields=["last_number"])
    return format_invoice_number(year=year, sequence=sequence_row.last_number), sequence_row.last_number


def _check_amount(amount: Decimal, *, what: str) -> Decimal:
    if not isinstance(amount, Decimal):
        raise ValidationError(f"{what} must be a Decimal, not {type(amount).__name__}", code="not_decimal")
    if amount <= 0:
        raise ValidationError(f"{what} must be greater than zero", code="not_positive")
    return amount


def create_invoice(
    *,
    client: Client,
    kind: str,
    amount: Decimal,
    currency: str,
    due_on: dt.date,
    proposal: Proposal | None = None,
    key: str | None = None,
    description: str = "",
) -> Invoice:
    """A draft invoice with the next gapless number of the current year.

    ``key`` names the business event it bills (``client:3:retainer:2026-05``); it is unique, so a
    second invoice for the same event fails on insert and, its transaction rolled back, gives its
    number back: callers lock what the event belongs to (the client) and look the key up first.
    """
    _check_amount(amount, what="The invoice amount")
    if proposal is not None and proposal.client_id not in (None, client.pk):
        raise ValidationError("The proposal belongs to another client", code="proposal_client_mismatch")
    today = clock.today()
    with transaction.atomic():
        number, sequence = next_invoice_number(year=today.year)
        return Invoice.objects.create(
            client=client,
            proposal=proposal,
            number=number,
            year=today.year,
            sequence=sequence,
            kind=kind,
            amount=amount,
            currency=currency.upper(),
            due_on=due_on,
            key=key or None,
            description=description[:255],
        )


def issue_invoice(*, invoice: Invoice, provider_id: str | None = None, payment_url: str = "") -> Invoice:
    """Draft -> open: the invoice is sent and can be paid.

    An invoice already past draft (a payment recorded before the provider's answer was) keeps its
    status; only what is missing of the provider's identifiers is filled in.
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != Invoice.Status.DRAFT:
            missing = {"provider_id": provider_id, "payment_url": payment_url, "issued_on": clock.today()}
            filled = [name for name, value in missing.items() if value and not getattr(invoice, name)]
            for name in filled:
                setattr(invoice, name, missing[name])
            if filled:
                invoice.save(update_fields=filled)
            return invoice
        invoice.issued_on = clock.today()
        also = ["issued_on"]
        if provider_id:
            invoice.provider_id = provider_id
            also.append("provider_id")
        if payment_url:
            invoice.payment_url = payment_url
            also.append("payment_url")
        invoice.transition_to(Invoice.Status.OPEN, also=also)
        return invoice


def void_invoice(*, invoice: Invoice) -> Invoice:
    """Void an unpaid invoice. Its number stays used: a voided invoice is part of the gapless series."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice.transition_to(Invoice.Status.VOID)
        return invoice


def mark_invoice_uncollectible(*, invoice: Invoice) -> Invoice:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice.transition_to(Invoice.Status.UNCOLLECTIBLE)
        return invoice


def record_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    currency: str,
    provider_event_id: str,
    status: str,
    paid_at: dt.datetime | None = None,
    provider_payment_id: str = "",
    failure_reason: str = "",
) -> Payment:
    """Record one provider event about money for ``invoice`` (a charge or a refund) and settle the invoice.

    Idempotent on ``provider_event_id``: a replayed event returns the payment already recorded and
    changes nothing. When succeeded payments minus refunds cover the amount the invoice is paid;
    a refund that uncovers a paid invoice reopens it.
    """
    if not provider_event_id:
        raise ValidationError("A payment needs the provider event id", code="missing_event_id")
    if status not in Payment.Status.values:
        raise ValidationError(f"Unknown payment status {status!r}", code="invalid_status")
    _check_amount(amount, what="The payment amount")
    with transaction.atomic():
        # The invoice lock serialises every event of one invoice, so the existence check below and
        # the settlement that follows cannot interleave with a concurrent delivery of the same event.
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        existing = Payment.objects.filter(provider_event_id=provider_event_id).first()
        if existing is not None:
            return existing
        if currency.upper() != invoice.currency:
            raise ValidationError(
                f"Payment currency {currency.upper()} does not match invoice {invoice.number} ({invoice.currency})",
                code="currency_mismatch",
            )
        payment = Payment.objects.create(
            invoice=invoice,
            amount=amount,
            currency=currency.upper(),
            provider_event_id=provider_event_id,
            provider_payment_id=provider_payment_id,
            status=status,
            paid_at=paid_at or (clock.now() if status != Payment.Status.FAILED else None),
            failure_reason=failure_reason,
        )
        _settle(invoice, latest=payment)
        return payment


def record_manual_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    currency: str,
    status: str = Payment.Status.SUCCEEDED,
    paid_at: dt.datetime | None = None,
    reference: str = "",
) -> Payment:
    """A payment an operator records by hand (a bank transfer, a manual refund): it gets its own
    event id so it settles the invoice exactly like a provider event."""
    return record_payment(
        invoice=invoice,
        amount=amount,
        currency=currency,
        provider_event_id=f"manual:{uuid.uuid4()}",
        status=status,
        paid_at=paid_at,
        provider_payment_id=reference,
    )


def _settle(invoice: Invoice, *, latest: Payment) -> None:
    """Move the invoice to match its net payments. Call while holding the invoice row lock."""
    if invoice.status in (Invoice.Status.VOID,):
        # Money against a voided invoice is kept on record for an operator to reconcile; the
        # invoice itself stays void (a terminal status).
        return
    covered = invoice_amount_paid(invoice=invoice) >= invoice.amount
    if covered and invoice.status != Invoice.Status.PAID:
        if invoice.status == Invoice.Status.DRAFT:
            invoice.transition_to(Invoice.Status.OPEN)
        invoice.paid_at = latest.paid_at or clock.now()
        invoice.transition_to(Invoice.Status.PAID, also=["paid_at"])
    elif not covered and invoice.status == Invoice.Status.PAID:
        invoice.paid_at = None
        invoice.transition_to(Invoice.Status.OPEN, also=["paid_at"])
