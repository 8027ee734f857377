"""Reads of the sales app: what agents and the admin ask about meetings, proposals and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from sales.models import Client, Invoice, Meeting, Payment, Proposal

ZERO = Decimal("0.00")


def invoice_amount_paid(*, invoice: Invoice) -> Decimal:
    """Succeeded payments minus refunds; failed attempts count for nothing."""
    money = DecimalField(max_digits=14, decimal_places=2)
    totals = Payment.objects.filter(invoice=invoice).aggregate(
        paid=Coalesce(Sum("amount", filter=Q(status=Payment.Status.SUCCEEDED)), Value(ZERO), output_field=money),
        refunded=Coalesce(Sum("amount", filter=Q(status=Payment.Status.REFUNDED)), Value(ZERO), output_field=money),
    )
    return Decimal(totals["paid"]) - Decimal(totals["refunded"])


def invoice_balance_due(*, invoice: Invoice) -> Decimal:
    """What is still owed, between nothing and the amount: a refund recorded before the payment it
    refunds (Stripe's events out of order) never makes the client owe more than the invoice."""
    return max(invoice.amount - max(invoice_amount_paid(invoice=invoice), ZERO), ZERO)


def overdue_invoices(*, today: dt.date) -> QuerySet[Invoice]:
    """Open invoices past their due date, oldest first (the dunning agent's work list)."""
    return (
        Invoice.objects.filter(status=Invoice.Status.OPEN, due_on__lt=today)
        .select_related("client__company")
        .order_by("due_on", "pk")
    )


def meetings_starting_between(*, start: dt.datetime, end: dt.datetime) -> QuerySet[Meeting]:
    """Upcoming meetings in a window (for reminders and prep), with who they are with."""
    return (
        Meeting.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            status__in=[Meeting.Status.SCHEDULED, Meeting.Status.RESCHEDULED, Meeting.Status.REMINDED],
        )
        .select_related("lead__company", "client__company")
        .order_by("starts_at", "pk")
    )


def proposals_awaiting_signature(*, sent_before: dt.datetime) -> QuerySet[Proposal]:
    """Sent or viewed proposals older than ``sent_before`` (the follow-up agent's work list)."""
    return (
        Proposal.objects.filter(status__in=[Proposal.Status.SENT, Proposal.Status.VIEWED], sent_at__lt=sent_before)
        .select_related("lead", "company")
        .order_by("sent_at", "pk")
    )


def client_for_company(*, company_id: int) -> Client | None:
    return Client.objects.filter(company_id=company_id).first()
