"""Sandbox documents (PandaDoc-like), payments (Stripe-like) and accounting (QuickBooks-like).

A sent proposal is viewed, then signed or declined (or left to go stale until it expires),
reported as PandaDoc ``document_state_changed`` events; the buyer weighs the price against their
hidden budget and hears our follow-ups (integrations/sandbox/proposals.py). A finalized invoice is
paid, fails and is paid on a retry, fails, or stays unpaid, reported as Stripe ``invoice.*`` events;
a refund as ``charge.refunded``. Probabilities follow the buyer's hidden fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.http.errors import NotFoundError, PermanentError
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox import payloads, proposals
from integrations.sandbox.behaviour import invoice_fate
from integrations.sandbox.market import SandboxProvider, find_person
from integrations.sandbox.rng import sandbox_id, stable_hash
from integrations.sandbox.store import cancel_pending, latest_happened, recall, remember, schedule, update_record
from integrations.values import (
    AccountingInvoice,
    AccountingPayment,
    Customer,
    Document,
    Invoice,
    InvoiceLine,
    Recipient,
    Refund,
)
from smarter_team import clock

DOCUMENT_KINDS = ("doc_sent", "doc_viewed", "doc_completed", "doc_declined", "doc_voided")
INVOICE_PAID, INVOICE_FAILED = "invoice_paid", "invoice_failed"


def _get(kind: str, ref: str) -> dict[str, Any]:
    record = recall(kind=kind, ref=ref)
    if record is None:
        raise NotFoundError(f"no {kind} {ref}", provider=SANDBOX, operation=kind)
    return record


# --- documents --------------------------------------------------------------------------------
@register_provider("documents", SANDBOX, keys=())
class SandboxDocuments(SandboxProvider):
    def create_document(
        self,
        *,
        idempotency_key: str,
        name: str,
        recipients: Sequence[Recipient],
        template_id: str = "",
        fields: Mapping[str, str] | None = None,
        content: str = "",
    ) -> Document:
        document_id = sandbox_id("doc", idempotency_key)
        document = remember(
            kind="document",
            ref=document_id,
            data={
                "document_id": document_id,
                "name": name,
                "recipients": [r.model_dump() for r in recipients],
                "buyer": recipients[0].email.strip().lower() if recipients else "",
                "fields": dict(fields or {}),
                # As PandaDoc's client stores it: our key in the document's metadata (st_key).
                "metadata": {"st_key": idempotency_key[:200]},
                "status": "draft",
            },
        )
        return self._value(document, document["status"])

    def send_document(self, *, document_id: str, subject: str = "", message: str = "") -> Document:
        document = _get("document", document_id)
        if document["status"] == "draft":
            document = update_record(kind="document", ref=document_id, status="sent")
            buyer = find_person(document["buyer"]) if document.get("buyer") else None
            proposals.on_sent(document, buyer=buyer, now=clock.now())
        return self.get_status(document_id)

    def get_status(self, document_id: str) -> Document:
        document = _get("document", document_id)
        last = latest_happened(subject=document_id, kinds=DOCUMENT_KINDS)
        return self._value(document, last.kind.removeprefix("doc_") if last else document["status"])

    @staticmethod
    def _value(document: dict[str, Any], status: str) -> Document:
        return Document(
            document_id=document["document_id"],
            name=document["name"],
            status=status,
            url=f"https://app.pandadoc.com/a/#/documents/{document['document_id']}",
        )


# --- payments ---------------------------------------------------------------------------------
def _invoice_report(invoice: dict[str, Any], kind: str, at: dt.datetime, attempt: int) -> None:
    paid = kind == INVOICE_PAID
    obj = payloads.stripe_invoice(
        invoice=invoice,
        status="paid" if paid else "open",
        paid=paid,
        failure="" if paid else "Your card was declined.",
        attempt_count=attempt,
    )
    key = f"stripe:{invoice['invoice_id']}:{kind}:{attempt}"
    schedule(
        key=key,
        provider="stripe",
        kind=kind,
        subject=invoice["invoice_id"],
        payload=payloads.stripe_event(
            key=key, event_type="invoice.paid" if paid else "invoice.payment_failed", obj=obj, at=at
        ),
        due_at=at,
    )


@register_provider("payments", SANDBOX, keys=())
class SandboxPayments(SandboxProvider):
    def create_customer(
        self, *, idempotency_key: str, email: str, name: str, metadata: Mapping[str, str] | None = None
    ) -> Customer:
        customer_id = sandbox_id("cus", idempotency_key).replace("sbx_cus_", "cus_sbx")
        remember(kind="customer", ref=customer_id, data={"email": email.strip().lower(), "name": name})
        return Customer(customer_id=customer_id, email=email, name=name)

    def create_invoice(
        self,
        *,
        idempotency_key: str,
        customer_id: str,
        lines: Sequence[InvoiceLine],
        currency: str,
        due_days: int = 14,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> Invoice:
        invoice_id = sandbox_id("in", idempotency_key).replace("sbx_in_", "in_sbx")
        invoice = remember(
            kind="invoice",
            ref=invoice_id,
            data={
                "invoice_id": invoice_id,
                "customer_id": customer_id,
                "currency": currency.upper(),
                "amount_due": str(sum((line.total for line in lines), Decimal("0"))),
                "number": f"SBX-{stable_hash(invoice_id) % 1_000_000:06d}",
                "metadata": dict(metadata or {}),
                "status": "draft",
            },
        )
        return self._value(invoice)

    def finalize_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice:
        invoice = _get("invoice", invoice_id)
        if invoice["status"] == "draft":
            invoice = update_record(kind="invoice", ref=invoice_id, status="open")
            customer = recall(kind="customer", ref=invoice["customer_id"]) or {}
            fit = find_person(customer["email"]).company.fit if customer.get("email") else 0.5
            fate, now = invoice_fate(invoice_id=invoice_id, fit=fit), clock.now()
            first = now + fate.first_after
            if fate.kind == "paid":
                _invoice_report(invoice, INVOICE_PAID, first, 1)
            elif fate.kind in ("failed_then_paid", "failed"):
                _invoice_report(invoice, INVOICE_FAILED, first, 1)
                second = INVOICE_PAID if fate.kind == "failed_then_paid" else INVOICE_FAILED
                _invoice_report(invoice, second, first + fate.retry_after, 2)
        return self.get_invoice(invoice_id)

    def get_invoice(self, invoice_id: str) -> Invoice:
        invoice = _get("invoice", invoice_id)
        status = invoice["status"]
        if status == "open" and latest_happened(subject=invoice_id, kinds=(INVOICE_PAID,)) is not None:
            status = "paid"
        return self._value(invoice, status)

    def void_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice:
        if self.get_invoice(invoice_id).status == "paid":
            raise PermanentError("a paid invoice cannot be voided", provider=SANDBOX, operation="void_invoice")
        cancel_pending(subject=invoice_id)
        return self._value(update_record(kind="invoice", ref=invoice_id, status="void"))

    def refund(self, *, idempotency_key: str, invoice_id: str, amount: Decimal | None = None) -> Refund:
        invoice = self.get_invoice(invoice_id)
        if invoice.status != "paid":
            raise PermanentError("only a paid invoice can be refunded", provider=SANDBOX, operation="refund")
        refund_id = sandbox_id("re", idempotency_key).replace("sbx_re_", "re_sbx")
        refunded = amount if amount is not None else invoice.amount_due
        key = f"stripe:{invoice_id}:refund:{refund_id}"
        at = clock.now()
        schedule(
            key=key,
            provider="stripe",
            kind="refunded",
            subject=invoice_id,
            payload=payloads.stripe_event(
                key=key,
                event_type="charge.refunded",
                obj=payloads.stripe_refunded_charge(invoice=_get("invoice", invoice_id), refunded=refunded),
                at=at,
            ),
            due_at=at,
        )
        return Refund(refund_id=refund_id, status="pending", amount=refunded, currency=invoice.currency)

    @staticmethod
    def _value(invoice: dict[str, Any], status: str | None = None) -> Invoice:
        return Invoice(
            invoice_id=invoice["invoice_id"],
            status=status or invoice["status"],
            amount_due=Decimal(invoice["amount_due"]),
            currency=invoice["currency"],
            number=invoice["number"],
            hosted_url=f"https://invoice.stripe.com/i/{invoice['invoice_id']}",
        )


# --- accounting -------------------------------------------------------------------------------
@register_provider("accounting", SANDBOX, keys=())
class SandboxAccounting(SandboxProvider):
    """Books that accept everything and remember it, keyed like QuickBooks by our reference."""

    def upsert_invoice(
        self,
        *,
        idempotency_key: str,
        external_ref: str,
        customer_name: str,
        customer_email: str,
        lines: Sequence[InvoiceLine],
        currency: str,
        due_date: dt.date,
    ) -> AccountingInvoice:
        invoice_id = sandbox_id("qbinv", external_ref)
        total = sum((line.total for line in lines), Decimal("0"))
        book = remember(
            kind="books_invoice",
            ref=invoice_id,
            data={"invoice_id": invoice_id, "doc_number": external_ref, "total": str(total), "paid": "0"},
        )
        return self._value(book)

    def record_payment(
        self, *, idempotency_key: str, invoice_id: str, amount: Decimal, paid_on: dt.date, reference: str = ""
    ) -> AccountingPayment:
        book = _get("books_invoice", invoice_id)
        payment_id = sandbox_id("qbpay", idempotency_key)
        if recall(kind="books_payment", ref=payment_id) is None:
            remember(kind="books_payment", ref=payment_id, data={"invoice_id": invoice_id, "amount": str(amount)})
            update_record(kind="books_invoice", ref=invoice_id, paid=str(Decimal(book["paid"]) + amount))
        return AccountingPayment(payment_id=payment_id, amount=amount)

    @staticmethod
    def _value(book: dict[str, Any]) -> AccountingInvoice:
        total = Decimal(book["total"])
        return AccountingInvoice(
            invoice_id=book["invoice_id"],
            doc_number=book["doc_number"],
            total=total,
            balance=total - Decimal(book["paid"]),
        )
