"""Stripe: customers, invoices, refunds (the Payments role), through the official SDK.

API reference: https://docs.stripe.com/api
The SDK is given an httpx client (``stripe.HTTPXClient``) so respx fakes it in tests like any
other provider; every call passes our idempotency key, which also makes the SDK's own network
retries safe. Calls go through ``BaseClient.call_sdk``: same breaker, ApiUsage rows, typed errors.
Amounts: Decimal major units in, integer minor units (cents) to Stripe; zero-decimal currencies
(JPY...) are not supported here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

import stripe

from integrations.http import (
    AuthError,
    BaseClient,
    InvalidResponseError,
    NotFoundError,
    PermanentError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from integrations.registry import register_provider
from integrations.values import Customer, Invoice, InvoiceLine, InvoicePayment, Refund

# https://docs.stripe.com/api/customers/create, /api/invoices/create, /api/invoiceitems/create,
# /api/invoices/finalize, /api/invoices/void, /api/invoices/retrieve, /api/invoice-payment/list,
# /api/refunds/create, /api/balance/balance_retrieve
API_BASE = "https://api.stripe.com/v1"
R = TypeVar("R")
_CENT = Decimal("0.01")
_INVOICE_STATUS: dict[str, Literal["draft", "open", "paid", "void", "uncollectible"]] = {
    "draft": "draft",
    "open": "open",
    "paid": "paid",
    "void": "void",
    "uncollectible": "uncollectible",
}
_REFUND_STATUS: dict[str, Literal["pending", "succeeded", "failed", "canceled"]] = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}
_sdk_clients: dict[str, stripe.StripeClient] = {}
_sdk_lock = threading.Lock()


def to_minor(amount: Decimal) -> int:
    return int((amount / _CENT).to_integral_value())


def from_minor(amount: int | None) -> Decimal:
    return (Decimal(amount or 0) * _CENT).quantize(_CENT)


def classify(exc: Exception, operation: str) -> ProviderError | None:
    """Stripe's exceptions as ours; None for anything that is not a Stripe error."""
    if not isinstance(exc, stripe.StripeError):
        return None
    status = exc.http_status
    message = exc.user_message or (exc.error.message if exc.error and exc.error.message else type(exc).__name__)
    common: dict[str, Any] = {"provider": "stripe", "operation": operation, "status_code": status}
    if isinstance(exc, stripe.RateLimitError):
        return RateLimitedError(message, **common)
    if isinstance(exc, stripe.APIConnectionError):
        return TransientError(message, **common)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return AuthError(message, **common)
    if status == 404:
        return NotFoundError(message, **common)
    if isinstance(exc, stripe.APIError) or (status is not None and status >= 500):
        return TransientError(message, **common)
    return PermanentError(message, **common)


def _invoice(obj: Any) -> Invoice:
    try:
        return Invoice(
            invoice_id=obj.id,
            status=_INVOICE_STATUS.get(obj.status or "", "unknown"),
            amount_due=from_minor(obj.amount_due),
            currency=str(obj.currency).upper(),
            number=obj.number or "",
            hosted_url=obj.hosted_invoice_url or "",
        )
    except (AttributeError, KeyError) as exc:
        raise InvalidResponseError(
            "invoice object incomplete", provider="stripe", operation="invoice", field=str(exc).strip("'")
        ) from None


def _expandable_id(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(getattr(value, "id", "") or "")


def _invoice_payment(obj: Any) -> InvoicePayment:
    try:
        payment = obj.payment
        paid_at = obj.status_transitions.paid_at if obj.status_transitions else None
        status = obj.status if obj.status in ("open", "paid", "canceled") else "unknown"
        return InvoicePayment(
            payment_id=obj.id,
            invoice_id=_expandable_id(obj.invoice),
            status=status,
            payment_intent_id=_expandable_id(getattr(payment, "payment_intent", None)),
            charge_id=_expandable_id(getattr(payment, "charge", None)),
            amount_paid=from_minor(obj.amount_paid),
            amount_requested=from_minor(obj.amount_requested),
            currency=str(obj.currency).upper(),
            paid_at=dt.datetime.fromtimestamp(paid_at, tz=dt.UTC) if paid_at else None,
        )
    except (AttributeError, KeyError) as exc:
        raise InvalidResponseError(
            "invoice payment incomplete", provider="stripe", operation="invoice_payment", field=str(exc).strip("'")
        ) from None


@register_provider("payments", "stripe")
class StripeClient(BaseClient):
    name = "stripe"
    base_url = API_BASE
    api_key_name = "STRIPE_API_KEY"
    required_keys = ("STRIPE_API_KEY",)
    # The SDK retries network errors and 409/429/5xx itself, with the idempotency key we pass.
    sdk_retries: ClassVar[int] = 2

    @property
    def sdk(self) -> stripe.StripeClient:
        key = self._require_key("stripe_client")
        with _sdk_lock:
            if key not in _sdk_clients:
                _sdk_clients[key] = stripe.StripeClient(
                    key,
                    http_client=stripe.HTTPXClient(timeout=self.timeout, allow_sync_methods=True),
                    max_network_retries=self.sdk_retries,
                )
            return _sdk_clients[key]

    def _call(self, operation: str, path: str, call: Callable[[], R], method: str = "POST") -> R:
        return self.call_sdk(
            operation, call, classify=lambda exc: classify(exc, operation), method=method, url=f"{API_BASE}/{path}"
        )

    def create_customer(
        self, *, idempotency_key: str, email: str, name: str, metadata: Mapping[str, str] | None = None
    ) -> Customer:
        customer = self._call(
            "create_customer",
            "customers",
            lambda: self.sdk.v1.customers.create(
                params={"email": email, "name": name, "metadata": dict(metadata or {})},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return Customer(customer_id=customer.id, email=customer.email or email, name=customer.name or name)

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
        # Several calls, each with its own derived key: a retry after a failure half-way replays the
        # calls that succeeded (Stripe returns their first result) and finishes the rest.
        invoice = self._call(
            "create_invoice",
            "invoices",
            lambda: self.sdk.v1.invoices.create(
                params={
                    "customer": customer_id,
                    "collection_method": "send_invoice",
                    "days_until_due": due_days,
                    "currency": currency.lower(),
                    "description": description,
                    "metadata": dict(metadata or {}),
                    "auto_advance": False,
                    "pending_invoice_items_behavior": "exclude",
                },
                options={"idempotency_key": f"{idempotency_key}:invoice"},
            ),
        )
        for index, line in enumerate(lines):
            self._add_line(
                idempotency_key=f"{idempotency_key}:line:{index}",
                customer_id=customer_id,
                invoice_id=invoice.id,
                currency=currency,
                line=line,
            )
        return self.get_invoice(invoice.id)

    def _add_line(
        self, *, idempotency_key: str, customer_id: str, invoice_id: str, currency: str, line: InvoiceLine
    ) -> None:
        label = line.description if line.quantity == 1 else f"{line.description} x {line.quantity}"
        self._call(
            "add_invoice_line",
            "invoiceitems",
            lambda: self.sdk.v1.invoice_items.create(
                params={
                    "customer": customer_id,
                    "invoice": invoice_id,
                    "currency": currency.lower(),
                    "amount": to_minor(line.total),
                    "description": label,
                },
                options={"idempotency_key": idempotency_key},
            ),
        )

    def get_invoice(self, invoice_id: str) -> Invoice:
        return _invoice(
            self._call(
                "get_invoice", f"invoices/{invoice_id}", lambda: self.sdk.v1.invoices.retrieve(invoice_id), method="GET"
            )
        )

    def finalize_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice:
        return _invoice(
            self._call(
                "finalize_invoice",
                f"invoices/{invoice_id}/finalize",
                lambda: self.sdk.v1.invoices.finalize_invoice(invoice_id, options={"idempotency_key": idempotency_key}),
            )
        )

    def void_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice:
        return _invoice(
            self._call(
                "void_invoice",
                f"invoices/{invoice_id}/void",
                lambda: self.sdk.v1.invoices.void_invoice(invoice_id, options={"idempotency_key": idempotency_key}),
            )
        )

    def refund(self, *, idempotency_key: str, invoice_id: str, amount: Decimal | None = None) -> Refund:
        payments = self._call(
            "refund",
            "invoice_payments",
            lambda: self.sdk.v1.invoice_payments.list(params={"invoice": invoice_id, "status": "paid"}),
            method="GET",
        )
        intent = next((p.payment.payment_intent for p in payments.data if p.payment.payment_intent), None)
        if intent is None:
            raise PermanentError("invoice has no paid payment to refund", provider=self.name, operation="refund")
        params: Any = {"payment_intent": intent if isinstance(intent, str) else intent.id}
        if amount is not None:
            params["amount"] = to_minor(amount)
        refund = self._call(
            "refund",
            "refunds",
            lambda: self.sdk.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}),
        )
        return Refund(
            refund_id=refund.id,
            status=_REFUND_STATUS.get(refund.status or "", "unknown"),
            amount=from_minor(refund.amount),
            currency=str(refund.currency).upper(),
        )

    def list_invoice_payments(self, *, invoice_id: str = "", payment_intent_id: str = "") -> list[InvoicePayment]:
        """GET /v1/invoice_payments by invoice, or by the PaymentIntent that paid (since API
        2025-03-31.basil a charge or PaymentIntent no longer names its invoice: this is the link)."""
        if bool(invoice_id) == bool(payment_intent_id):
            raise ValueError("list_invoice_payments takes an invoice_id or a payment_intent_id")
        params: Any = (
            {"invoice": invoice_id}
            if invoice_id
            else {"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}}
        )
        listed = self._call(
            "list_invoice_payments",
            "invoice_payments",
            lambda: self.sdk.v1.invoice_payments.list(params=params),
            method="GET",
        )
        return [_invoice_payment(item) for item in listed.data]

    def ping(self) -> str:
        balance = self._call("health_check", "balance", lambda: self.sdk.v1.balance.retrieve(), method="GET")
        return f"balance readable ({len(balance.available)} currencies)"
