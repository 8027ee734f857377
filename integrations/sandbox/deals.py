"""Sandbox documents (PandaDoc-like), payments (Stripe-like) and accounting (QuickBooks-like).

A sent proposal is viewed, then signed or declined (or left to go stale until it expires),
reported as PandaDoc ``document_state_changed`` events; the buyer weighs the price against their
hidden budget and hears our follow-ups (integrations/sandbox/proposals.py), and a client decides a
renewal or an upsell by how they feel (integrations/sandbox/retention.py). A finalized invoice is
paid on time or late, after a declined card, refunded in part or in full, or never
(integrations/sandbox/paying.py: the payer's hidden fit, the terms and the reminders received),
reported as Stripe ``invoice_payment.paid``, ``invoice.paid``, ``invoice.payment_failed`` and
``charge.refunded`` events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.http.errors import NotFoundError, PermanentError
from integrations.models import SandboxEvent
from integrations.registry import SANDBOX, register_provider
from integrations.sandbox import payloads, proposals, retention
from integrations.sandbox.behaviour import InvoiceFate, invoice_fate
from integrations.sandbox.market import SandboxProvider, find_person
from integrations.sandbox.rng import sandbox_id, stable_hash
from integrations.sandbox.store import (
    cancel_pending,
    latest_happened,
    recall,
    records,
    ref_for,
    remember,
    schedule,
    update_record,
)
from integrations.values import (
    AccountingInvoice,
    AccountingPayment,
    Customer,
    Document,
    Invoice,
    InvoiceLine,
    InvoicePayment,
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
        # Who it is for and what it is: its fate (document-fate, document-reaction) is drawn from its id.
        buyer = recipients[0].email.strip().lower() if recipients else ""
        document_id = ref_for(
            kind="document",
            key=idempotency_key[:200],
            made_by=lambda made: str((made.get("metadata") or {}).get("st_key", "")),
            ref=lambda n: sandbox_id("doc", buyer, name, *(("again", n) if n else ())),
        )
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
                "content": content[:5000],  # what the reader reads (a client's needs are matched on it)
                "status": "draft",
            },
        )
        return self._value(document, document["status"])

    def send_document(self, *, document_id: str, subject: str = "", message: str = "") -> Document:
        document = _get("document", document_id)
        if document["status"] == "draft":
            document = update_record(kind="document", ref=document_id, status="sent")
            buyer = find_person(document["buyer"]) if document.get("buyer") else None
            fate = retention.client_document_fate(document)
            if fate is None:
                proposals.on_sent(document, buyer=buyer, now=clock.now())
            else:  # a client's renewal or upsell: decided by how the client feels (retention.py)
                now = clock.now()
                update_record(kind="document", ref=document_id, sent_at=now.isoformat(), client_offer=True)
                proposals.report(document, "sent", now)
                if fate.viewed:
                    viewed_at = now + fate.viewed_after
                    proposals.report(document, "viewed", viewed_at)
                    if fate.outcome != "silent":
                        decided = viewed_at + fate.decided_after
                        proposals.report(document, fate.outcome, decided, reason=fate.decline_reason)
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
# The world's payments as Stripe reports them (API 2025-03-31.basil): each payment is an
# ``invoice_payment.paid`` (the money, with its PaymentIntent) followed by ``invoice.paid``; a
# declined card an ``invoice.payment_failed``; a refund a ``charge.refunded`` whose charge names its
# PaymentIntent, not the invoice. When the payer pays comes from paying.invoice_fate; a reminder
# that names an open invoice past its due date plans the payment again (payment_reminder).
INVOICE_SETTLED, REFUNDED = "invoice_settled", "refunded"
PAYMENT_KINDS = (INVOICE_PAID, INVOICE_FAILED, INVOICE_SETTLED, REFUNDED)
SETTLE_LAG = dt.timedelta(seconds=5)  # Stripe sends invoice.paid a moment after the payment


def _intent(invoice_id: str, plan: int) -> str:
    return sandbox_id("pi", invoice_id, plan).replace("sbx_pi_", "pi_sbx")


def _schedule_stripe(invoice: dict[str, Any], kind: str, event_type: str, obj: dict[str, Any], at: dt.datetime) -> None:
    key = f"stripe:{invoice['invoice_id']}:p{invoice.get('plan', 0)}:{kind}:{int(at.timestamp())}"
    schedule(
        key=key,
        provider="stripe",
        kind=kind,
        subject=invoice["invoice_id"],
        payload=payloads.stripe_event(key=key, event_type=event_type, obj=obj, at=at),
        due_at=at,
    )


def _plan_payment(invoice: dict[str, Any], fate: InvoiceFate, *, since: dt.datetime) -> None:
    """Schedule what ``fate`` says happens from ``since`` on (earlier steps already happened or were
    overtaken by this plan)."""
    start = dt.datetime.fromisoformat(invoice["finalized_at"])
    intent = _intent(invoice["invoice_id"], int(invoice.get("plan", 0)))
    for attempt, after in enumerate(fate.failed_after, start=1):
        at = start + after
        if at >= since:
            obj = payloads.stripe_invoice(invoice=invoice, status="open", paid=False, attempt_count=attempt)
            _schedule_stripe(invoice, INVOICE_FAILED, "invoice.payment_failed", obj, at)
    if fate.pays_after is None:
        return
    paid_at = max(start + fate.pays_after, since)
    payment = payloads.stripe_invoice_payment(invoice=invoice, payment_intent=intent, paid_at=paid_at)
    _schedule_stripe(invoice, INVOICE_PAID, "invoice_payment.paid", payment, paid_at)
    settled = payloads.stripe_invoice(
        invoice=invoice, status="paid", paid=True, attempt_count=len(fate.failed_after) + 1
    )
    _schedule_stripe(invoice, INVOICE_SETTLED, "invoice.paid", settled, paid_at + SETTLE_LAG)
    if fate.refund_after is not None:
        refunded = (Decimal(invoice["amount_due"]) * fate.refund_share).quantize(Decimal("0.01"))
        charge = payloads.stripe_refunded_charge(invoice=invoice, payment_intent=intent, refunded=refunded)
        _schedule_stripe(invoice, REFUNDED, "charge.refunded", charge, max(start + fate.refund_after, paid_at))


def _fate(invoice: dict[str, Any]) -> InvoiceFate:
    return invoice_fate(
        invoice_id=invoice["invoice_id"],
        fit=float(invoice.get("fit", 0.5)),
        due_days=int(invoice.get("due_days", 14)),
        reminders=[float(r) for r in invoice.get("reminders", [])],
    )


def _paid(invoice_id: str) -> bool:
    return latest_happened(subject=invoice_id, kinds=(INVOICE_PAID,)) is not None


def payment_reminder(*, to: str, subject: str, body: str) -> bool:
    """An email to someone who owes an open invoice, naming it, after its due date: a reminder.

    Recorded on the invoice (days past due) and the payment planned again: a payer who heeds it
    pays within days instead of weeks, or at all. Returns whether the email was a reminder (the
    person reads it as one, not as a pitch to answer).
    """
    address, text, now = to.strip().lower(), f"{subject}\n{body}", clock.now()
    found = False
    for customer in records(kind="customer", party=address):
        for invoice in records(kind="invoice", customer_id=customer.get("customer_id", ""), status="open"):
            names = {str(invoice.get("metadata", {}).get("invoice_number") or ""), invoice["number"]} - {""}
            if not any(name in text for name in names) or "due_at" not in invoice:
                continue
            found = True
            due_at = dt.datetime.fromisoformat(invoice["due_at"])
            if now <= due_at or _paid(invoice["invoice_id"]):
                continue  # an invoice notice, or a reminder that crossed the payment
            before = _fate(invoice)
            reminders = [*invoice.get("reminders", []), round((now - due_at) / dt.timedelta(days=1), 4)]
            invoice = update_record(kind="invoice", ref=invoice["invoice_id"], reminders=reminders)
            after = _fate(invoice)
            start = dt.datetime.fromisoformat(invoice["finalized_at"])
            sooner = after.pays_after is not None and (
                before.pays_after is None or start + after.pays_after < start + before.pays_after
            )
            if sooner:
                cancel_pending(subject=invoice["invoice_id"], kinds=PAYMENT_KINDS)
                invoice = update_record(kind="invoice", ref=invoice["invoice_id"], plan=int(invoice.get("plan", 0)) + 1)
                _plan_payment(invoice, after, since=now)
    return found


@register_provider("payments", SANDBOX, keys=())
class SandboxPayments(SandboxProvider):
    def create_customer(
        self, *, idempotency_key: str, email: str, name: str, metadata: Mapping[str, str] | None = None
    ) -> Customer:
        customer_id = sandbox_id("cus", idempotency_key).replace("sbx_cus_", "cus_sbx")
        remember(
            kind="customer",
            ref=customer_id,
            data={"customer_id": customer_id, "email": email.strip().lower(), "name": name},
        )
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
        # Whose it is and for how much, the n-th such: how it is paid (invoice-fate) is drawn from its id.
        payer = (recall(kind="customer", ref=customer_id) or {}).get("email") or customer_id
        amount = sum((line.total for line in lines), Decimal("0"))
        invoice_id = ref_for(
            kind="invoice",
            key=idempotency_key[:200],
            made_by=lambda made: str(made.get("made_by", "")),
            ref=lambda n: sandbox_id("in", payer, currency.upper(), amount, *(("again", n) if n else ())).replace(
                "sbx_in_", "in_sbx"
            ),
        )
        invoice = remember(
            kind="invoice",
            ref=invoice_id,
            data={
                "invoice_id": invoice_id,
                "made_by": idempotency_key[:200],
                "customer_id": customer_id,
                "currency": currency.upper(),
                "amount_due": str(sum((line.total for line in lines), Decimal("0"))),
                "number": f"SBX-{stable_hash(invoice_id) % 1_000_000:06d}",
                "metadata": dict(metadata or {}),
                "due_days": due_days,
                "status": "draft",
            },
        )
        return self._value(invoice)

    def finalize_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice:
        invoice = _get("invoice", invoice_id)
        if invoice["status"] == "draft":
            customer = recall(kind="customer", ref=invoice["customer_id"]) or {}
            now = clock.now()
            invoice = update_record(
                kind="invoice",
                ref=invoice_id,
                status="open",
                finalized_at=now.isoformat(),
                due_at=(now + dt.timedelta(days=int(invoice.get("due_days", 14)))).isoformat(),
                fit=find_person(customer["email"]).company.fit if customer.get("email") else 0.5,
                reminders=[],
                plan=0,
            )
            _plan_payment(invoice, _fate(invoice), since=now)
        return self.get_invoice(invoice_id)

    def get_invoice(self, invoice_id: str) -> Invoice:
        invoice = _get("invoice", invoice_id)
        status = invoice["status"]
        if status == "open" and _paid(invoice_id):
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
        key = f"stripe:{invoice_id}:refund:{refund_id}"
        existing = SandboxEvent.objects.filter(key=key).first()
        refunded = amount if amount is not None else invoice.amount_due
        if existing is None:
            record = _get("invoice", invoice_id)
            paid = self.list_invoice_payments(invoice_id=invoice_id)[-1]
            so_far = Decimal(record.get("refunded", "0")) + refunded
            record = update_record(kind="invoice", ref=invoice_id, refunded=str(so_far))
            at = clock.now()
            schedule(
                key=key,
                provider="stripe",
                kind=REFUNDED,
                subject=invoice_id,
                payload=payloads.stripe_event(
                    key=key,
                    event_type="charge.refunded",
                    obj=payloads.stripe_refunded_charge(
                        invoice=record, payment_intent=paid.payment_intent_id, refunded=so_far
                    ),
                    at=at,
                ),
                due_at=at,
            )
        return Refund(refund_id=refund_id, status="pending", amount=refunded, currency=invoice.currency)

    def list_invoice_payments(self, *, invoice_id: str = "", payment_intent_id: str = "") -> list[InvoicePayment]:
        if bool(invoice_id) == bool(payment_intent_id):
            raise ValueError("list_invoice_payments takes an invoice_id or a payment_intent_id")
        happened = SandboxEvent.objects.filter(
            kind=INVOICE_PAID,
            status__in=[SandboxEvent.Status.PENDING, SandboxEvent.Status.DELIVERED],
            due_at__lte=clock.now(),
        )
        if invoice_id:
            happened = happened.filter(subject=invoice_id)
        else:
            happened = happened.filter(payload__data__object__payment__payment_intent=payment_intent_id)
        return [_invoice_payment(event.payload["data"]["object"]) for event in happened.order_by("due_at", "id")]

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


def _invoice_payment(obj: dict[str, Any]) -> InvoicePayment:
    paid_at = obj["status_transitions"]["paid_at"]
    return InvoicePayment(
        payment_id=obj["id"],
        invoice_id=obj["invoice"],
        status="paid",
        payment_intent_id=obj["payment"]["payment_intent"],
        amount_paid=Decimal(obj["amount_paid"]) / 100,
        amount_requested=Decimal(obj["amount_requested"]) / 100,
        currency=str(obj["currency"]).upper(),
        paid_at=dt.datetime.fromtimestamp(paid_at, tz=dt.UTC) if paid_at else None,
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
