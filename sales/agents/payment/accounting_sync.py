"""accounting_sync: invoices and payments into QuickBooks, each exactly once.

On a handoff (``{"invoice_id"}``, from stripe_payment_processing when money moved) and nightly
(``{}``: whatever is not in the books yet). An issued invoice goes in once (outbox key
``invoice:<id>``; QuickBooks also finds it by DocNumber = our number before creating it, and
dedupes the create by its ``requestid``, our key); its QuickBooks id is set on
``Invoice.accounting_id`` once. Each succeeded payment goes in once (key ``payment:<id>``), against
that invoice; its QuickBooks id lands on ``Payment.accounting_id``. A retry replays the same keys,
so a worker dying between QuickBooks' answer and our write records nothing twice.

A payment's act runs after its invoice's (the outbox performs one run's acts in order); if the
invoice is not in the books yet the payment's act waits and retries. Money given back (a refund, a
lost dispute) has no place in the Accounting role: it is escalated once for the bookkeeper to enter
as a refund receipt. Drafts (never issued) and voided invoices stay out of the books.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import TransientError
from agents.models import Action, Escalation
from agents.outbox import acted_on, register_performer
from agents.registry import register
from integrations.values import InvoiceLine
from sales.agents.payment.common import lines_of, money
from sales.models import Invoice, Payment

NAME = "accounting_sync"
INVOICE_KIND, PAYMENT_KIND = "accounting.invoice", "accounting.payment"
IN_BOOKS = (Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE)
BATCH = 200


class BooksInvoice(BaseModel):
    invoice_pk: int
    external_ref: str
    customer_name: str
    customer_email: str
    lines: list[InvoiceLine]
    currency: str
    due_date: dt.date


class BooksPayment(BaseModel):
    payment_pk: int
    invoice_pk: int
    amount: Decimal
    paid_on: dt.date
    reference: str


@register_performer(INVOICE_KIND, payload=BooksInvoice, contacts=())
class BookInvoice:
    def perform(self, payload: BooksInvoice, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        book = get_role("accounting").upsert_invoice(
            idempotency_key=key,
            external_ref=payload.external_ref,
            customer_name=payload.customer_name,
            customer_email=payload.customer_email,
            lines=payload.lines,
            currency=payload.currency,
            due_date=payload.due_date,
        )
        return {"invoice_id": book.invoice_id, "doc_number": book.doc_number, "total": str(book.total)}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        Invoice.objects.filter(pk=action.payload["invoice_pk"], accounting_id="").update(
            accounting_id=str(result["invoice_id"])[:64]
        )


@register_performer(PAYMENT_KIND, payload=BooksPayment, contacts=())
class BookPayment:
    def perform(self, payload: BooksPayment, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        books_id = Invoice.objects.filter(pk=payload.invoice_pk).values_list("accounting_id", flat=True).first()
        if not books_id:
            raise TransientError(f"invoice {payload.invoice_pk} is not in the books yet: its payment waits")
        entry = get_role("accounting").record_payment(
            idempotency_key=key,
            invoice_id=books_id,
            amount=payload.amount,
            paid_on=payload.paid_on,
            reference=payload.reference,
        )
        return {"payment_id": entry.payment_id, "amount": str(entry.amount)}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        Payment.objects.filter(pk=action.payload["payment_pk"], accounting_id="").update(
            accounting_id=str(result["payment_id"])[:64]
        )


class SyncRequest(BaseModel):
    invoice_id: int | None = None


class Unsynced(Facts):
    invoices: list[Invoice] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    given_back: list[Payment] = Field(default_factory=list)
    note: str = ""


class Synced(BaseModel):
    invoices: list[str] = Field(default_factory=list)
    payments: list[str] = Field(default_factory=list)
    for_the_bookkeeper: list[str] = Field(default_factory=list)
    note: str = ""


def bookkeeper_key(refund: Payment) -> str:
    return f"payment:{refund.pk}:books"


def _acted(kind: str) -> QuerySet[Action, Any]:
    """Rows whose act is recorded already (pending, done or failed): the act itself decides."""
    return acted_on(kind, "invoice_pk" if kind == INVOICE_KIND else "payment_pk")


@register
class AccountingSync(Agent[SyncRequest, Synced]):
    name, category, trigger, queue = NAME, "payment", ("handoff", "schedule"), "sales"
    Input, Facts, Output = SyncRequest, Unsynced, Synced
    schedule = "30 2 * * *"  # nightly

    def load(self, ctx: RunContext, data: SyncRequest) -> Unsynced:
        invoices = Invoice.objects.filter(status__in=IN_BOOKS).select_related(
            "client__company", "client__primary_contact"
        )
        payments = Payment.objects.filter(accounting_id="").select_related("invoice")
        if data.invoice_id is not None:
            invoice = Invoice.objects.get(pk=data.invoice_id)
            if invoice.status not in IN_BOOKS:
                return Unsynced(note=f"{invoice.number} is {invoice.status}: it stays out of the books")
            invoices, payments = invoices.filter(pk=invoice.pk), payments.filter(invoice=invoice)
        else:
            # Nightly: only what no act covers yet (an act, even a failed one, is the record of it).
            invoices = invoices.exclude(pk__in=_acted(INVOICE_KIND))
            payments = payments.exclude(pk__in=_acted(PAYMENT_KIND))
        payments = payments.filter(invoice__status__in=IN_BOOKS)
        return Unsynced(
            invoices=list(invoices.filter(accounting_id="").order_by("pk")[:BATCH]),
            payments=list(payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk")[:BATCH]),
            given_back=[
                p
                for p in payments.filter(status=Payment.Status.REFUNDED).order_by("pk")[:BATCH]
                if not Escalation.objects.filter(dedupe_key=bookkeeper_key(p)).exists()
            ],
        )

    def act(self, ctx: RunContext, facts: Unsynced) -> Synced:
        out = Synced(note=facts.note)
        for invoice in facts.invoices:
            contact = invoice.client.primary_contact
            ctx.act(
                INVOICE_KIND,
                f"invoice:{invoice.pk}",
                BooksInvoice(
                    invoice_pk=invoice.pk,
                    external_ref=invoice.number,
                    customer_name=str(invoice.client.company),
                    customer_email=contact.email if contact is not None else "",
                    lines=lines_of(invoice),
                    currency=invoice.currency,
                    due_date=invoice.due_on,
                ),
            )
            out.invoices.append(invoice.number)
        for payment in facts.payments:
            paid = payment.paid_at or ctx.now()
            ctx.act(
                PAYMENT_KIND,
                f"payment:{payment.pk}",
                BooksPayment(
                    payment_pk=payment.pk,
                    invoice_pk=payment.invoice_id,
                    amount=payment.amount,
                    paid_on=paid.date(),
                    reference=payment.provider_payment_id or payment.provider_event_id,
                ),
            )
            out.payments.append(f"{payment.invoice.number}: {payment.amount} {payment.currency}")
        for refund in facts.given_back:
            ctx.escalate(
                Escalation.Kind.POLICY,
                f"enter the {money(refund.amount, refund.currency)} given back on {refund.invoice.number} in "
                f"QuickBooks as a refund receipt ({refund.failure_reason or 'refund'}): the role takes no refunds",
                payload={"payment_id": refund.pk, "invoice_id": refund.invoice_id, "amount": str(refund.amount)},
                dedupe_key=bookkeeper_key(refund),
                subject=refund,
                wait=False,
            )
            out.for_the_bookkeeper.append(f"{refund.invoice.number}: -{refund.amount} {refund.currency}")
        return out
