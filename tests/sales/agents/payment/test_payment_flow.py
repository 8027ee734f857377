"""From signature to the books on simulated time: invoice_generation issues, the sandbox's clients
pay (or not) through Stripe's webhooks, stripe_payment_processing reconciles, dunning chases,
accounting_sync books. The money must add up at every level."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from agents import outbox
from agents.models import AgentRun
from agents.services.runs import start_run
from agents.testing import drain
from crm.models import Company, Lead, Message
from integrations.models import SandboxEvent, SandboxRecord, WebhookEvent
from integrations.sandbox.delivery import deliver_due
from integrations.sandbox.world import search_people
from integrations.webhooks.services import process_event
from sales.models import Client, Invoice, Payment
from tests.factories.sales import ClientFactory
from tests.sales.agents.payment.conftest import signed_proposal

pytestmark = pytest.mark.django_db
CLIENTS = 16
DAYS = 75
BEATS = ("invoice_generation", "dunning", "accounting_sync")


def market_client(n: int, person: Any) -> Client:
    """A client whose contact is one of the sandbox market's people (their hidden fit decides how they pay)."""
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    company = Company.objects.create(domain=person.company.domain, name=person.company.name)
    lead = Lead.objects.create(
        first_name=person.first_name, last_name=person.last_name, email=person.email, company=company
    )
    retainer = n % 4 == 0
    return ClientFactory.create(
        company=company,
        primary_contact=lead,
        monthly_value=Decimal("3500.00") if retainer else Decimal("0.00"),
        started_on=dt.date(2026, 3, 2),
    )


def settle() -> int:
    """Let the world and the agency answer each other until nothing is left to do right now."""
    worked = 0
    while True:
        posted = deliver_due()
        received = list(WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).values_list("pk", flat=True))
        for pk in received:
            process_event(event_pk=pk)
        outbox.perform_due()
        done = drain()
        worked += len(done)
        if not (posted or received or done):
            return worked


def live(frozen: Any, *, days: int) -> None:
    """Days of business time in 6-hour steps; each morning the payment agents' beats tick."""
    for _ in range(days * 4):
        frozen.tick(dt.timedelta(hours=6))
        settle()  # what happened in the world by now reaches us first, as webhooks do within seconds
        if frozen.now.hour == 9:
            for name in BEATS:
                start_run(agent_name=name, input={}, trigger=AgentRun.Trigger.SCHEDULE, enqueue=False)
            settle()


def net(invoice: Invoice) -> Decimal:
    rows = Payment.objects.filter(invoice=invoice)
    succeeded = rows.filter(status="succeeded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    refunded = rows.filter(status="refunded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return succeeded - refunded


def test_signed_proposals_are_invoiced_paid_reconciled_chased_and_booked(frozen_clock: Any) -> None:
    people = search_people(query="dental clinics", location="", start=0, count=CLIENTS * 3)[::3]
    for n, person in enumerate(people[:CLIENTS]):
        client = market_client(n, person)
        total = "3500.00" if client.monthly_value else f"{6000 + 750 * n}.00"
        proposal = signed_proposal(client, total=total)
        start_run(
            agent_name="invoice_generation",
            input={"client_id": client.pk, "proposal_id": proposal.pk},
            trigger=AgentRun.Trigger.HANDOFF,
            enqueue=False,
        )  # as contract_signature hands off
    settle()
    live(frozen_clock, days=DAYS)

    invoices = list(Invoice.objects.order_by("sequence"))
    # Issued: one per business event, numbers without a gap, each in Stripe
    assert [i.sequence for i in invoices] == list(range(1, len(invoices) + 1))
    assert len({i.key for i in invoices}) == len(invoices)
    assert {i.kind for i in invoices} == {"deposit", "retainer"}
    assert len([i for i in invoices if i.kind == "retainer"]) == 3 * (CLIENTS // 4)  # March, April, May
    assert all(i.provider_id and i.status != "draft" for i in invoices)
    assert Message.objects.filter(idempotency_key__endswith=":notice").count() == len(invoices)

    # Paid: the money adds up invoice by invoice and in total
    paid = [i for i in invoices if i.status == "paid"]
    assert len(paid) >= len(invoices) * 0.7
    for invoice in invoices:
        assert (net(invoice) == invoice.amount) == (invoice.status == "paid"), invoice.number
        assert net(invoice) <= invoice.amount
    payments = Payment.objects.filter(status="succeeded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    refunds = Payment.objects.filter(status="refunded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    assert payments - refunds == sum((i.amount for i in paid), Decimal("0")) + sum(
        (net(i) for i in invoices if i.status != "paid"), Decimal("0")
    )
    # ... and it is what the world paid, each payment once
    world = SandboxEvent.objects.filter(provider="stripe", kind="invoice_paid", status="delivered")
    assert payments == sum((Decimal(e.payload["data"]["object"]["amount_paid"]) / 100 for e in world), Decimal("0"))
    assert Payment.objects.filter(status="succeeded").count() == world.count()

    # Chased: each stage once, never after the payment
    reminders = Message.objects.filter(idempotency_key__contains=":dunning:")
    keys = list(reminders.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    for message in reminders:
        invoice = Invoice.objects.get(pk=int(message.idempotency_key.split(":")[1]))
        assert invoice.paid_at is None or message.created_at < invoice.paid_at, message.idempotency_key

    # Booked: every invoice and every payment in QuickBooks once
    assert not [i.number for i in invoices if not Invoice.objects.get(pk=i.pk).accounting_id]
    assert not Payment.objects.filter(status="succeeded", accounting_id="").exists()
    booked = SandboxRecord.objects.filter(kind="books_payment")
    assert booked.count() == Payment.objects.filter(status="succeeded").count()
    assert sum((Decimal(b.data["amount"]) for b in booked), Decimal("0")) == payments

    assert not AgentRun.objects.filter(status__in=["failed", "running", "queued"]).exists()
