"""What the payment agents share: the business keys of invoices, money as people read it, the
invoice's lines as providers take them, and which invoice a Stripe object is about."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

from integrations.values import InvoiceLine
from sales.models import Invoice, Payment
from sales.selectors import invoice_balance_due

CENT = Decimal("0.01")
# Net 14: what small agencies ask of their clients (judgement; Stripe's default for send_invoice is 30).
PAYMENT_TERMS_DAYS = 14


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> str:
    """``$1,234.50``: Decimal and ISO currency stay the model; this is only how a person reads them."""
    return format_currency(amount, currency, locale="en_US")


def deposit_key(client_id: int, proposal_id: int) -> str:
    return f"client:{client_id}:proposal:{proposal_id}:deposit"


def retainer_key(client_id: int, month: dt.date) -> str:
    return f"client:{client_id}:retainer:{month:%Y-%m}"


MILESTONE_KEY_PREFIX = "milestone:"


def milestone_key(milestone_id: int) -> str:
    return f"{MILESTONE_KEY_PREFIX}{milestone_id}"


def final_key(proposal_id: int) -> str:
    return f"proposal:{proposal_id}:final"


def lines_of(invoice: Invoice) -> list[InvoiceLine]:
    """One line, as the invoice reads: its description and amount (what Stripe and the books get)."""
    description = invoice.description or f"{invoice.kind} invoice {invoice.number}"
    return [InvoiceLine(description=description, amount=invoice.amount)]


def balance_due(invoice: Invoice) -> Decimal:
    return invoice_balance_due(invoice=invoice)


def refunded_on(invoice: Invoice) -> bool:
    """Money we gave back on it (a refund, a lost dispute): a human decides what is still owed."""
    return Payment.objects.filter(invoice=invoice, status=Payment.Status.REFUNDED).exists()
