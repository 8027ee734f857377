"""dunning: reminders for overdue invoices at 3, 7 and 14 days past due, then a human.

Daily. An open invoice past its due date gets the reminder of the stage it has reached (stage 1 at
3 days, 2 at 7, 3 at 14) by email to the client's primary contact, for the balance still due, with
the payment link; at 21 days (a week after the last reminder) an operator is asked to call or write
it off. ``Invoice.dunning_stage`` moves forward under the invoice's row lock with the email's
Message and outbox intent (one transaction, key ``invoice:<id>:dunning:<stage>``): a stage is never
sent twice, and an invoice that is late by 10 days when first seen gets the 7-day reminder only,
never two at once.

Never chased: an invoice that is paid or void (only open ones are read, and the status is checked
again under the lock), one with a dispute (``Invoice.disputed_at``, set by stripe_payment_processing
from Stripe's ``charge.dispute.created``), and one with money given back (a refund or a lost
dispute: what is still owed is an operator's decision, escalated when it happened). A contact who
may not be emailed (opted out, no address) is no reason to stop: the stage goes to a human at once.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Escalation
from agents.registry import register
from crm.services.agency import profile
from crm.services.outbound import queue_email
from sales.agents.payment.common import balance_due, money, refunded_on
from sales.models import Invoice
from sales.selectors import overdue_invoices

NAME = "dunning"
STAGES = {1: 3, 2: 7, 3: 14}  # stage -> days past due
ESCALATE_STAGE, ESCALATE_AFTER_DAYS = 4, 21
BATCH = 300


def stage_for(days_past_due: int) -> int:
    """The stage an invoice this late has reached (0: not yet)."""
    if days_past_due >= ESCALATE_AFTER_DAYS:
        return ESCALATE_STAGE
    return max((stage for stage, days in STAGES.items() if days_past_due >= days), default=0)


def reminder_key(invoice: Invoice, stage: int) -> str:
    return f"invoice:{invoice.pk}:dunning:{stage}"


class Overdue(Facts):
    today: dt.date
    invoices: list[Invoice]


class Dunned(BaseModel):
    reminded: list[str] = Field(default_factory=list)  # "INV-2026-00001 stage 2"
    escalated: list[str] = Field(default_factory=list)
    left_alone: list[str] = Field(default_factory=list)


@register
class Dunning(Agent[Empty, Dunned]):
    name, category, trigger, queue = NAME, "payment", "schedule", "sales"
    Input, Facts, Output = Empty, Overdue, Dunned
    schedule = "0 9 * * *"  # daily, in the morning of the business day

    def load(self, ctx: RunContext, data: Empty) -> Overdue:
        today = ctx.now().date()
        # Past the day of its next stage: the indexed status/due_on read does the filtering, so a
        # backlog of invoices already reminded never crowds out the ones due today.
        thresholds = {0: STAGES[1], 1: STAGES[2], 2: STAGES[3], 3: ESCALATE_AFTER_DAYS}
        next_stage = Q()
        for stage, days in thresholds.items():
            next_stage |= Q(dunning_stage=stage, due_on__lte=today - dt.timedelta(days=days))
        found = (
            overdue_invoices(today=today)
            .filter(next_stage, disputed_at__isnull=True)
            .select_related("client__primary_contact")
        )
        return Overdue(today=today, invoices=list(found[:BATCH]))

    def act(self, ctx: RunContext, facts: Overdue) -> Dunned:
        out = Dunned()
        for loaded in facts.invoices:
            client = loaded.client
            invoice = ctx.lock(loaded)
            invoice.client = client
            self._one(ctx, facts.today, invoice, out)
        return out

    def _one(self, ctx: RunContext, today: dt.date, invoice: Invoice, out: Dunned) -> None:
        days = (today - invoice.due_on).days
        stage = stage_for(days)
        if invoice.status != Invoice.Status.OPEN or invoice.disputed_at is not None or stage <= invoice.dunning_stage:
            return  # paid, voided, disputed or reminded by another run since it was read
        if refunded_on(invoice):
            out.left_alone.append(f"{invoice.number}: money was given back on it, an operator decides")
            return
        due = balance_due(invoice)
        if due <= 0:
            return
        if stage == ESCALATE_STAGE:
            self._escalate(ctx, invoice, f"{days} days past due after three reminders", out)
        else:
            contact = invoice.client.primary_contact
            message = (
                queue_email(
                    ctx,
                    key=reminder_key(invoice, stage),
                    lead=contact,
                    subject=self._subject(invoice, stage, money(due, invoice.currency)),
                    body=self._body(invoice, stage, days, money(due, invoice.currency), contact.first_name),
                    intent="payment_reminder",
                )
                if contact is not None
                else None
            )
            if message is None:
                self._escalate(ctx, invoice, "its contact may not be emailed (opted out or no address)", out)
            else:
                out.reminded.append(f"{invoice.number} stage {stage}")
        ctx.update(invoice, action="invoice.dunned", dunning_stage=stage, last_dunning_at=ctx.now())

    @staticmethod
    def _escalate(ctx: RunContext, invoice: Invoice, why: str, out: Dunned) -> None:
        due = money(balance_due(invoice), invoice.currency)
        ctx.escalate(
            Escalation.Kind.POLICY,
            f"{invoice.number} of {invoice.client}: {due} unpaid, {why}. Call the client, agree a plan or mark it "
            "uncollectible",
            payload={"invoice_id": invoice.pk, "number": invoice.number, "due_on": invoice.due_on.isoformat()},
            dedupe_key=f"invoice:{invoice.pk}:dunning:human",
            subject=invoice,
            wait=False,
        )
        out.escalated.append(invoice.number)

    @staticmethod
    def _subject(invoice: Invoice, stage: int, amount: str) -> str:
        return {
            1: f"Reminder: invoice {invoice.number} ({amount}) is past due",
            2: f"Second reminder: invoice {invoice.number} ({amount}) is a week overdue",
            3: f"Final reminder: invoice {invoice.number} ({amount}) is two weeks overdue",
        }[stage]

    @staticmethod
    def _body(invoice: Invoice, stage: int, days: int, amount: str, first_name: str) -> str:
        agency = profile()
        ask = {
            1: "It may simply have slipped through: could you arrange payment in the next few days?",
            2: "Could you let us know when we can expect payment, or whether anything is holding it up?",
            3: "Please arrange payment this week, or reply so we can agree a plan; otherwise we will need to "
            "pause work until it is settled.",
        }[stage]
        link = f"You can pay it here: {invoice.payment_url}\n\n" if invoice.payment_url else ""
        return (
            f"Hi {first_name or 'there'},\n\n"
            f"Invoice {invoice.number} ({invoice.description or invoice.kind}) was due on "
            f"{invoice.due_on:%d %B %Y}, {days} days ago, and {amount} is still open. {ask}\n\n"
            f"{link}If you have already paid, thank you, and please ignore this message.\n\n"
            f"{agency.sender_name}\n{agency.name}"
        )
