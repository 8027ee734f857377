"""stripe_payment_processing: one Stripe event about money, reconciled onto its invoice exactly once.

The ledger is ``Payment`` (one row per event that moved money, ``provider_event_id`` unique); what
an invoice has been paid is succeeded minus refunded, and sales.services.invoices settles its
status from that. Each event is recorded under the invoice's row lock, so a replay (the same event
id), a second event about the same payment, or events out of order change nothing twice:

- ``invoice_payment.paid`` is the money: a succeeded row per payment (its PaymentIntent), unless
  that payment is recorded already.
- ``invoice.paid`` says the invoice is settled, with its amount paid so far. When our rows already
  hold that much it adds nothing; when a payment's own event has not arrived (or never will), the
  payments Stripe lists for the invoice are recorded, each once, by PaymentIntent.
- ``invoice.payment_failed``: a failed row (it counts for nothing). A failure that arrives after the
  payment (out of order) is kept in the ledger and leaves the invoice paid.
- ``charge.refunded``: a charge's refunds so far (cumulative): the row records what our rows do not
  hold yet, so an older event arriving late adds nothing. A refund may arrive before its payment:
  the invoice is found through Stripe's invoice payments, and the balance is right once both are in.
  Money given back is a human's call on what is still owed: the refund is escalated once, and
  dunning leaves a refunded invoice alone.
- ``charge.dispute.created`` marks the invoice disputed (dunning leaves it alone) and escalates: the
  evidence is due within days. ``charge.dispute.closed``: won clears the mark; lost is money taken
  back (a refunded row) and the mark stays.

The invoice an event is about: its Stripe invoice id, else our rows for its PaymentIntent or charge,
else our own metadata (``invoice_number``), else Stripe's invoice payments for the PaymentIntent. An
event for an invoice we never issued is recorded (the run, its reason, the stored webhook) and
escalated: an operator links or refunds it and approves, and the run reconciles it then.
Hands off accounting_sync ``{"invoice_id"}`` whenever money moved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import EscalateRun, SkipRun
from agents.models import Escalation
from agents.registry import register
from integrations.values import InvoicePayment
from integrations.webhooks.inputs import PaymentEvent
from sales.agents.payment.common import money
from sales.models import Invoice, Payment
from sales.selectors import invoice_balance_due
from sales.services.invoices import record_payment

NAME = "stripe_payment_processing"
ZERO = Decimal("0")
DISPUTE_LOST = "dispute lost"  # a refunded row that is no refund of the charge (its refunds are counted apart)


class Event(Facts):
    data: PaymentEvent
    invoice: Invoice
    found_by: str
    listed: list[InvoicePayment] = Field(default_factory=list)  # Stripe's payments of the invoice


class Reconciled(BaseModel):
    invoice: str = ""
    outcome: str
    recorded: list[str] = Field(default_factory=list)  # "<status> <amount> <currency>"
    status: str = ""
    balance: str = ""


def _payment_ids(data: PaymentEvent) -> list[str]:
    return [i for i in (data.payment_intent_id, data.charge_id) if i]


@register
class StripePaymentProcessing(Agent[PaymentEvent, Reconciled]):
    name, category, trigger, queue = NAME, "payment", "event", "sales"
    Input, Facts, Output = PaymentEvent, Event, Reconciled
    next = ("accounting_sync",)

    def load(self, ctx: RunContext, data: PaymentEvent) -> Event:
        if not data.stripe_event_id:
            raise SkipRun("a payment event without a Stripe event id cannot be reconciled exactly once")
        invoice, found_by = self._invoice(ctx, data)
        listed: list[InvoicePayment] = []
        settled = data.kind == "payment_succeeded" and data.object_type == "invoice" and invoice.provider_id
        if settled and data.amount is not None and data.amount > self._succeeded_total(invoice):
            # Stripe says more was paid than our rows hold: a payment's own event is missing.
            listed = ctx.roles.payments.list_invoice_payments(invoice_id=invoice.provider_id or "")
        return Event(data=data, invoice=invoice, found_by=found_by, listed=listed)

    @staticmethod
    def _succeeded_total(invoice: Invoice) -> Decimal:
        """What was ever paid on it (before refunds): Stripe's ``amount_paid`` counts the same."""
        total = Payment.objects.filter(invoice=invoice, status=Payment.Status.SUCCEEDED).aggregate(s=Sum("amount"))
        return Decimal(total["s"] or 0)

    def _invoice(self, ctx: RunContext, data: PaymentEvent) -> tuple[Invoice, str]:
        if data.invoice_id:
            found = Invoice.objects.filter(provider_id=data.invoice_id).first()
            if found is not None:
                return found, "stripe invoice id"
            self._unknown(data, f"Stripe invoice {data.invoice_id} is not one we issued")
        ids = _payment_ids(data)
        if ids:
            row = Payment.objects.filter(provider_payment_id__in=ids).select_related("invoice").first()
            if row is not None:
                return row.invoice, "our payment rows"
        number = str(data.metadata.get("invoice_number") or "")
        if number:
            found = Invoice.objects.filter(number=number).first()
            if found is not None:
                return found, "our metadata"
        if data.payment_intent_id:
            listed = ctx.roles.payments.list_invoice_payments(payment_intent_id=data.payment_intent_id)
            stripe_ids = {p.invoice_id for p in listed}
            found = Invoice.objects.filter(provider_id__in=stripe_ids).first() if stripe_ids else None
            if found is not None:
                return found, "stripe invoice payments"
            if stripe_ids:
                self._unknown(data, f"Stripe invoice {', '.join(sorted(stripe_ids))} is not one we issued")
        self._unknown(data, f"no invoice of ours is paid by {', '.join(ids) or 'this payment'}")
        raise AssertionError("unreachable")  # _unknown always raises

    @staticmethod
    def _unknown(data: PaymentEvent, why: str) -> None:
        amount = f"{data.amount} {data.currency}" if data.amount is not None else "no amount"
        raise EscalateRun(
            Escalation.Kind.ERROR,
            f"Stripe {data.kind} event {data.stripe_event_id} ({amount}): {why}. Link it to the invoice "
            "(its Stripe id) or refund it, then approve to reconcile",
            payload=data.model_dump(mode="json", exclude={"webhook"}),
            dedupe_key=f"stripe:event:{data.stripe_event_id}:unknown-invoice",
        )

    def act(self, ctx: RunContext, facts: Event) -> Reconciled:
        data = facts.data
        invoice = ctx.lock(facts.invoice)
        if Payment.objects.filter(provider_event_id=data.stripe_event_id).exists():
            return self._out(invoice, "replayed: this event is recorded already")
        if data.currency.upper() != invoice.currency:
            raise EscalateRun(
                Escalation.Kind.ERROR,
                f"Stripe event {data.stripe_event_id} is in {data.currency}, invoice {invoice.number} in "
                f"{invoice.currency}: not recorded",
                payload=data.model_dump(mode="json", exclude={"webhook"}),
                dedupe_key=f"stripe:event:{data.stripe_event_id}:currency",
            )
        handle = {
            "payment_succeeded": self._succeeded,
            "payment_failed": self._failed,
            "refunded": self._refunded_event,
            "dispute_opened": self._dispute_opened,
            "dispute_closed": self._dispute_closed,
        }[data.kind]
        out = handle(ctx, facts, invoice)
        if any(not row.startswith(Payment.Status.FAILED) for row in out.recorded):  # money moved
            ctx.handoff("accounting_sync", {"invoice_id": invoice.pk})
            if invoice.status == Invoice.Status.VOID:
                ctx.escalate(
                    Escalation.Kind.ERROR,
                    f"money moved on void invoice {invoice.number} ({', '.join(out.recorded)}): refund or re-bill",
                    payload={"invoice_id": invoice.pk, "event": data.stripe_event_id},
                    dedupe_key=f"invoice:{invoice.pk}:money-on-void",
                    subject=invoice,
                    wait=False,
                )
        return out

    def _record(
        self,
        invoice: Invoice,
        data: PaymentEvent,
        *,
        amount: Decimal,
        status: str,
        event_id: str = "",
        payment_id: str = "",
        paid_at: dt.datetime | None = None,
        reason: str = "",
        out: Reconciled,
    ) -> None:
        record_payment(
            invoice=invoice,
            amount=amount,
            currency=data.currency,
            provider_event_id=event_id or data.stripe_event_id,
            status=status,
            paid_at=paid_at or data.occurred_at,
            provider_payment_id=payment_id,
            failure_reason=reason[:255],
        )
        out.recorded.append(f"{status} {amount} {invoice.currency}")

    def _succeeded(self, ctx: RunContext, facts: Event, invoice: Invoice) -> Reconciled:
        data, out = facts.data, Reconciled(outcome="")
        if data.object_type == "invoice":
            return self._settled(facts, invoice, out)
        payment_id = data.payment_intent_id or data.charge_id or data.object_id
        if self._has_succeeded(invoice, payment_id):
            return self._out(invoice, f"payment {payment_id} is recorded already", out)
        if data.amount is None or data.amount <= 0:
            return self._out(invoice, "the payment event carries no amount paid: nothing recorded", out)
        self._record(invoice, data, amount=data.amount, status=Payment.Status.SUCCEEDED, payment_id=payment_id, out=out)
        return self._out(invoice, "payment recorded", out)

    @staticmethod
    def _has_succeeded(invoice: Invoice, payment_id: str) -> bool:
        return Payment.objects.filter(
            invoice=invoice, status=Payment.Status.SUCCEEDED, provider_payment_id=payment_id
        ).exists()

    def _settled(self, facts: Event, invoice: Invoice, out: Reconciled) -> Reconciled:
        data = facts.data
        for listed in facts.listed:
            payment_id = listed.payment_intent_id or listed.charge_id or listed.payment_id
            if listed.status != "paid" or listed.amount_paid <= 0 or self._has_succeeded(invoice, payment_id):
                continue
            self._record(
                invoice,
                data,
                amount=listed.amount_paid,
                status=Payment.Status.SUCCEEDED,
                event_id=f"{data.stripe_event_id}:{listed.payment_id}"[:128],
                payment_id=payment_id,
                paid_at=listed.paid_at,
                out=out,
            )
        recorded = self._succeeded_total(invoice)
        if data.amount is not None and data.amount > recorded:
            raise EscalateRun(
                Escalation.Kind.ERROR,
                f"Stripe says {invoice.number} is paid {money(data.amount, invoice.currency)} but lists payments "
                f"for {money(recorded, invoice.currency)} only: not recorded until an operator looks",
                payload={"invoice_id": invoice.pk, "event": data.stripe_event_id, "stripe_paid": str(data.amount)},
                dedupe_key=f"stripe:event:{data.stripe_event_id}:unlisted",
            )
        return self._out(invoice, "settled: its payments are recorded", out)

    def _failed(self, ctx: RunContext, facts: Event, invoice: Invoice) -> Reconciled:
        data, out = facts.data, Reconciled(outcome="")
        amount = data.amount if data.amount and data.amount > 0 else invoice.amount
        self._record(
            invoice,
            data,
            amount=amount,
            status=Payment.Status.FAILED,
            payment_id=data.payment_intent_id or data.charge_id,
            reason=data.failure_message or "payment failed",
            out=out,
        )
        if invoice.status == Invoice.Status.PAID:
            return self._out(invoice, "failure after the payment: kept, the invoice stays paid", out)
        return self._out(invoice, "failure recorded", out)

    def _refunded_event(self, ctx: RunContext, facts: Event, invoice: Invoice) -> Reconciled:
        data, out = facts.data, Reconciled(outcome="")
        ids = _payment_ids(data)
        so_far = (
            Payment.objects.filter(invoice=invoice, status=Payment.Status.REFUNDED, provider_payment_id__in=ids)
            .exclude(failure_reason__startswith=DISPUTE_LOST)
            .aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        new = (data.amount or ZERO) - Decimal(so_far)
        if new <= 0:
            return self._out(invoice, "these refunds are recorded already (an older event arrived late)", out)
        payment_id = data.payment_intent_id or data.charge_id
        self._record(invoice, data, amount=new, status=Payment.Status.REFUNDED, payment_id=payment_id, out=out)
        invoice.refresh_from_db()
        ctx.escalate(
            Escalation.Kind.POLICY,
            f"{money(new, invoice.currency)} refunded on {invoice.number}: decide whether the balance is still owed "
            "(dunning leaves a refunded invoice alone) or void it",
            payload={"invoice_id": invoice.pk, "refunded": str(new), "event": data.stripe_event_id},
            dedupe_key=f"invoice:{invoice.pk}:refunded",
            subject=invoice,
            wait=False,
        )
        return self._out(invoice, "refund recorded", out)

    def _dispute_opened(self, ctx: RunContext, facts: Event, invoice: Invoice) -> Reconciled:
        data = facts.data
        if invoice.disputed_at is None:
            ctx.update(invoice, action="invoice.disputed", disputed_at=data.occurred_at or ctx.now())
        amount = money(data.amount, invoice.currency) if data.amount is not None else "its payment"
        ctx.escalate(
            Escalation.Kind.POLICY,
            f"{invoice.client} disputes {amount} on {invoice.number} ({data.failure_message or 'no reason given'}): "
            "answer with evidence in Stripe before the deadline",
            payload={"invoice_id": invoice.pk, "dispute": data.object_id, "event": data.stripe_event_id},
            dedupe_key=f"invoice:{invoice.pk}:dispute:{data.object_id}",
            subject=invoice,
            wait=False,
        )
        return self._out(invoice, "dispute opened: dunning leaves the invoice alone")

    def _dispute_closed(self, ctx: RunContext, facts: Event, invoice: Invoice) -> Reconciled:
        data, out = facts.data, Reconciled(outcome="")
        if data.status == "lost" and data.amount:
            self._record(
                invoice,
                data,
                amount=data.amount,
                status=Payment.Status.REFUNDED,
                payment_id=data.payment_intent_id or data.charge_id,
                reason=f"{DISPUTE_LOST}: the card network took the money back",
                out=out,
            )
            if invoice.disputed_at is None:
                ctx.update(invoice, action="invoice.disputed", disputed_at=data.occurred_at or ctx.now())
            return self._out(invoice, "dispute lost: the money went back; the invoice stays marked disputed", out)
        if invoice.disputed_at is not None:
            ctx.update(invoice, action="invoice.dispute_closed", disputed_at=None, note={"dispute": data.status})
        return self._out(invoice, f"dispute closed ({data.status or 'no status'})", out)

    @staticmethod
    def _out(invoice: Invoice, outcome: str, out: Reconciled | None = None) -> Reconciled:
        invoice.refresh_from_db()
        result = out or Reconciled(outcome="")
        result.invoice, result.outcome, result.status = invoice.number, outcome, invoice.status
        result.balance = f"{invoice_balance_due(invoice=invoice)} {invoice.currency}"
        return result
