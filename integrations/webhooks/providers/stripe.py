"""Stripe: payments, failures and refunds -> stripe_payment_processing.

Verification: ``Stripe-Signature: t=<unix>,v1=<hex>`` where v1 is the hex HMAC-SHA256 of
``"<t>.<raw body>"`` with the endpoint's signing secret; several v1 values may be present while
Stripe rolls a secret (https://docs.stripe.com/webhooks#verify-manually). Events carry an ``id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
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


def _payment_input(payload: dict[str, Any], kind: str) -> PaymentEvent:
    obj = sub_object(sub_object(payload, "data"), "object")
    currency = str(obj.get("currency") or "usd")
    object_type = str(obj.get("object") or "")
    if object_type == "invoice":
        minor = obj.get("amount_paid") if kind == "payment_succeeded" else obj.get("amount_due")
        invoice_id = obj.get("id")
    elif object_type == "charge" and kind == "refunded":
        minor = obj.get("amount_refunded")
        invoice_id = obj.get("invoice")
    else:  # payment_intent, charge
        minor = obj.get("amount_received") or obj.get("amount")
        invoice_id = obj.get("invoice")
    failure = sub_object(obj, "last_payment_error") or sub_object(obj, "last_finalization_error")
    return PaymentEvent(
        kind=kind,
        stripe_event_id=str(payload.get("id", "")),
        object_type=object_type,
        object_id=str(obj.get("id") or ""),
        invoice_id=str(invoice_id or ""),
        customer_id=str(obj.get("customer") or ""),
        amount=minor_to_major(minor, currency),
        currency=currency.upper(),
        failure_message=str(failure.get("message") or ""),
        metadata=sub_object(obj, "metadata"),
        occurred_at=parse_when(payload.get("created")),
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
        "invoice.paid": _handler("payment_succeeded"),
        "invoice.payment_failed": _handler("payment_failed"),
        "payment_intent.succeeded": _handler("payment_succeeded"),
        "payment_intent.payment_failed": _handler("payment_failed"),
        "charge.refunded": _handler("refunded"),
    },
    secret_headers=("stripe-signature",),
    scheme="Stripe-Signature (t=, v1= HMAC-SHA256 of 't.body')",
)
