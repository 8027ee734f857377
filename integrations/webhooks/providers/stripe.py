"""Stripe: payments, failures, refunds and disputes -> stripe_payment_processing.

Verification: ``Stripe-Signature: t=<unix>,v1=<hex>`` where v1 is the hex HMAC-SHA256 of
``"<t>.<raw body>"`` with the endpoint's signing secret; several v1 values may be present while
Stripe rolls a secret (https://docs.stripe.com/webhooks#verify-manually). Events carry an ``id``.

Events, as of API 2025-03-31.basil (https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices):
a Charge and a PaymentIntent no longer name their invoice; the link is the InvoicePayment, whose
``invoice_payment.paid`` event came with 2025-05-28.basil (https://docs.stripe.com/changelog/basil/2025-05-28/partial-payments).

- ``invoice_payment.paid`` (an InvoicePayment): one payment applied to an invoice, with its amount
  and PaymentIntent: the money.
- ``invoice.paid`` (an Invoice): the invoice is settled; its ``amount_paid`` so far.
- ``invoice.payment_failed`` (an Invoice): an attempt failed; the amount still due.
- ``charge.refunded`` (a Charge): ``amount_refunded`` is the charge's refunds so far; the invoice
  is found through the PaymentIntent (our payment rows, else ``/v1/invoice_payments``). A payload
  of an endpoint pinned to an older version may still carry ``invoice``: it is read when present.
- ``charge.dispute.created`` / ``charge.dispute.closed`` (a Dispute): a chargeback and its outcome.

``payment_intent.*`` events are not taken: for an invoice they repeat what the invoice events say,
without naming the invoice, and a payment reported twice would be counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    MalformedEvent,
    WebhookProvider,
    minor_to_major,
    require_object,
    require_str,
    sub_object,
    tolerance_seconds,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import PaymentEvent, parse_when
from integrations.webhooks.signatures import verify_stripe

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

AGENT = "stripe_payment_processing"


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_stripe(
        body=request.body,
        header=request.header("Stripe-Signature"),
        secrets=secrets,
        now=request.now,
        tolerance_seconds=tolerance_seconds(),
    )


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    event = require_object(payload, "a Stripe event")
    return EventIdentity(
        event_id=require_str(event, "id", "a Stripe event"), event_type=require_str(event, "type", "a Stripe event")
    )


def _id(value: Any) -> str:
    """An expandable field: the id string, or the expanded object's ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _payment_input(payload: dict[str, Any], kind: str) -> PaymentEvent:
    obj = sub_object(sub_object(payload, "data"), "object")
    currency = str(obj.get("currency") or "usd")
    object_type = str(obj.get("object") or "")
    occurred_at = parse_when(payload.get("created"))
    invoice_id = charge_id = payment_intent_id = failure = ""
    if object_type == "invoice":
        invoice_id = _id(obj.get("id"))
        minor = obj.get("amount_paid") if kind == "payment_succeeded" else obj.get("amount_remaining")
        if kind == "payment_failed":
            failure = str(sub_object(obj, "last_finalization_error").get("message") or "")
            failure = failure or f"payment attempt {obj.get('attempt_count') or 1} failed"
    elif object_type == "invoice_payment":
        invoice_id = _id(obj.get("invoice"))
        payment = sub_object(obj, "payment")
        payment_intent_id, charge_id = _id(payment.get("payment_intent")), _id(payment.get("charge"))
        minor = obj.get("amount_paid")
        occurred_at = parse_when(sub_object(obj, "status_transitions").get("paid_at")) or occurred_at
    elif object_type == "charge":
        charge_id, payment_intent_id = _id(obj.get("id")), _id(obj.get("payment_intent"))
        invoice_id = _id(obj.get("invoice"))  # only in payloads of API versions before basil
        minor = obj.get("amount_refunded")
    elif object_type == "dispute":
        charge_id, payment_intent_id = _id(obj.get("charge")), _id(obj.get("payment_intent"))
        minor = obj.get("amount")
        failure = str(obj.get("reason") or "")
    else:
        raise MalformedEvent(f"a Stripe {kind} event about a {object_type or 'missing'} object is not one we read")
    return PaymentEvent(
        kind=kind,
        stripe_event_id=str(payload.get("id", "")),
        object_type=object_type,
        object_id=_id(obj.get("id")),
        invoice_id=invoice_id,
        customer_id=_id(obj.get("customer")),
        payment_intent_id=payment_intent_id,
        charge_id=charge_id,
        status=str(obj.get("status") or ""),
        amount=minor_to_major(minor, currency),
        currency=currency.upper(),
        failure_message=failure,
        metadata=sub_object(obj, "metadata"),
        occurred_at=occurred_at,
        livemode=bool(payload.get("livemode", False)),
    )


def _handler(kind: str) -> Any:
    def handle(event: WebhookEvent, payload: Any) -> bool:
        start_event_run(event=event, agent_name=AGENT, input=_payment_input(payload, kind))
        return True

    handle.__name__ = f"handle_{kind}"
    return handle


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=(AGENT,),
    name="stripe",
    key_name="STRIPE_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={
        "invoice_payment.paid": _handler("payment_succeeded"),
        "invoice.paid": _handler("payment_succeeded"),
        "invoice.payment_failed": _handler("payment_failed"),
        "charge.refunded": _handler("refunded"),
        "charge.dispute.created": _handler("dispute_opened"),
        "charge.dispute.closed": _handler("dispute_closed"),
    },
    secret_headers=("stripe-signature",),
    scheme="Stripe-Signature (t=, v1= HMAC-SHA256 of 't.body')",
)
