"""invoice_generation: Stripe invoices for deposits, milestones, retainers and final bills.

What is billed (one invoice per business event, named by ``Invoice.key``):

- a signed project proposal: a deposit of ``DEPOSIT_SHARE`` of its total (``client:C:proposal:P:deposit``);
  a signed proposal that is the client's retainer (its total is the monthly value, or its
  requirements say ``billing: monthly``) starts the retainer instead;
- a retainer: the client's ``monthly_value`` once per calendar month, in advance, from the day of
  the month the client started (``client:C:retainer:YYYY-MM``);
- a milestone delivery marked done or accepted, with an amount: that amount, never more than
  what is left of its proposal (``milestone:M``);
- offboarding (``kind: final``): what is left of each signed proposal (``proposal:P:final``).

How: under the client's row lock (every invoice of a client is created under it, so two runs for
the same event see each other), the draft Invoice takes the year's next number in the act's
transaction (sales.services.invoices: the sequence row stays locked until commit; a rollback
gives the number back). The Stripe calls (customer, invoice with its line, finalise) are one
outbox act after commit, each call under a key from the business key, so a retry replays what
Stripe already did. Stripe's answer opens the invoice (number, hosted page) and starts a sweep of
this agent that emails the notice to the client's contact (crm.services.outbound.queue_email).

Why no number is ever burned: the number exists only with its row, and the row only with the
outbox intent (one transaction). A Stripe failure after commit leaves the draft with its number
and the act failed: an operator retries the run (the same keys) or voids the draft, which stays
in the series as void. The beat escalates such a draft once.

The daily beat (``{}``) finds what is due: open invoices whose notice is not out yet, retainers of
the month and milestones done but not billed (each handed to a run of its own, so one bad row does
not hold up the others) and drafts whose Stripe act failed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Exists, OuterRef, Q, Sum
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import Action, AgentRun, Escalation
from agents.outbox import acted_on, register_performer
from agents.registry import register
from agents.services.runs import payload_hash, start_run
from crm.models import Message
from crm.services.agency import profile
from crm.services.outbound import queue_email
from delivery.models import Milestone
from delivery.services.renewals import is_renewal
from integrations.values import InvoiceLine
from sales.agents.payment.common import (
    MILESTONE_KEY_PREFIX,
    PAYMENT_TERMS_DAYS,
    cents,
    deposit_key,
    final_key,
    lines_of,
    milestone_key,
    money,
    retainer_key,
)
from sales.models import Client, Invoice, Proposal
from sales.services.invoices import create_invoice, issue_invoice
from smarter_team.db import pk_key

NAME = "invoice_generation"
STRIPE_KIND = "payments.invoice"
DEPOSIT_SHARE = Decimal("0.50")  # half on signature, the rest on delivery: the usual agency split
BILLABLE = (Client.Status.ONBOARDING, Client.Status.ACTIVE, Client.Status.AT_RISK)
BILLED_MILESTONES = (Milestone.Status.DONE, Milestone.Status.ACCEPTED)
NOTICE_WINDOW = dt.timedelta(days=30)  # an invoice issued longer ago gets no first notice any more
BATCH = 200


def notice_key(invoice: Invoice) -> str:
    return f"invoice:{invoice.pk}:notice"


# --- Stripe, after commit -------------------------------------------------------------------------


class StripeInvoice(BaseModel):
    invoice_pk: int
    client_pk: int
    customer_id: str = ""
    email: str
    name: str
    currency: str
    lines: list[InvoiceLine]
    due_days: int
    description: str
    metadata: dict[str, str] = Field(default_factory=dict)


@register_performer(STRIPE_KIND, payload=StripeInvoice, contacts=())
class IssueStripeInvoice:
    """Customer (once per client), invoice with its line, finalised: three calls, each with a key of
    its own derived from the business key, so a retry after a failure half-way finishes the rest."""

    def perform(self, payload: StripeInvoice, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        payments = get_role("payments")
        customer_id = payload.customer_id
        if not customer_id:
            customer_id = payments.create_customer(
                idempotency_key=f"client:{payload.client_pk}:customer",
                email=payload.email,
                name=payload.name,
                metadata={"client": str(payload.client_pk)},
            ).customer_id
        draft = payments.create_invoice(
            idempotency_key=key,
            customer_id=customer_id,
            lines=payload.lines,
            currency=payload.currency,
            due_days=payload.due_days,
            description=payload.description,
            metadata=payload.metadata,
        )
        final = payments.finalize_invoice(idempotency_key=f"{key}:finalize", invoice_id=draft.invoice_id)
        return {
            "customer_id": customer_id,
            "invoice_id": final.invoice_id,
            "status": final.status,
            "hosted_url": final.hosted_url,
            "amount_due": str(final.amount_due),
            "currency": final.currency,
        }

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        invoice = Invoice.objects.select_for_update().filter(pk=action.payload["invoice_pk"]).first()
        if invoice is None:
            return
        theirs = (Decimal(str(result.get("amount_due", "0"))), str(result.get("currency", "")).upper())
        if theirs != (invoice.amount, invoice.currency):
            raise ValueError(
                f"Stripe invoice {result.get('invoice_id')} is for {theirs[0]} {theirs[1]}, "
                f"ours {invoice.number} for {invoice.amount} {invoice.currency}: not issued, an operator must look"
            )
        Client.objects.filter(pk=invoice.client_id, stripe_customer_id="").update(
            stripe_customer_id=str(result["customer_id"])[:64]
        )
        issue_invoice(invoice=invoice, provider_id=result["invoice_id"], payment_url=result.get("hosted_url", ""))
        # The notice needs the hosted page, known only now: a sweep of this agent sends it. A chain
        # of its own (no parent): the sweep may hand off what is due, which the loop guard would
        # take for a loop in the chain that billed this invoice.
        key = f"{NAME}:issued:{invoice.pk}"
        start_run(agent_name=NAME, input={}, trigger=AgentRun.Trigger.HANDOFF, idempotency_key=key)


# --- the agent ------------------------------------------------------------------------------------


class InvoiceRequest(BaseModel):
    client_id: int | None = None
    proposal_id: int | None = None
    kind: Literal["deposit", "milestone", "retainer", "final"] | None = None
    milestone_id: int | None = None


class Bill(BaseModel):
    key: str
    kind: str
    amount: Decimal
    currency: str
    description: str
    proposal_id: int | None = None


class Plan(Facts):
    request: InvoiceRequest
    today: dt.date
    client: Client | None = None
    proposal: Proposal | None = None
    milestone: Milestone | None = None
    notices: list[Invoice] = Field(default_factory=list)
    due: list[dict[str, Any]] = Field(default_factory=list)
    stuck: list[Invoice] = Field(default_factory=list)


class Generated(BaseModel):
    created: list[str] = Field(default_factory=list)
    noticed: list[str] = Field(default_factory=list)
    handed_off: int = 0
    stuck: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def retainer_day(client: Client, month: dt.date) -> dt.date:
    """The day of ``month`` its retainer falls due: the day the client started (28th at most)."""
    start = client.started_on or month
    return month.replace(day=min(start.day, 28)) if month > month_start(start) else max(start, month)


def retainer_due(client: Client, today: dt.date) -> bool:
    if client.monthly_value <= 0 or client.status not in BILLABLE or client.started_on is None:
        return False
    if client.started_on > today or (client.contract_end is not None and client.contract_end < today):
        return False
    return today >= retainer_day(client, month_start(today))


def is_retainer_proposal(client: Client, proposal: Proposal) -> bool:
    monthly = str(proposal.requirements.get("billing", "")).lower() in ("monthly", "retainer")
    return monthly or (client.monthly_value > 0 and proposal.total == client.monthly_value)


def invoiced_against(proposal: Proposal) -> Decimal:
    """What has been billed of a proposal so far (a void invoice billed nothing)."""
    total = proposal.invoices.exclude(status=Invoice.Status.VOID).aggregate(s=Sum("amount"))["s"]
    return Decimal(total or 0)


@register
class InvoiceGeneration(Agent[InvoiceRequest, Generated]):
    name, category, trigger, queue = NAME, "payment", ("handoff", "schedule"), "sales"
    Input, Facts, Output = InvoiceRequest, Plan, Generated
    schedule = "30 6 * * *"  # daily, before the business day
    next = (NAME,)

    def load(self, ctx: RunContext, data: InvoiceRequest) -> Plan:
        today = ctx.now().date()
        if data.client_id is None:
            return self._sweep(ctx, data, today)
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        proposal = Proposal.objects.get(pk=data.proposal_id) if data.proposal_id is not None else None
        milestone = (
            Milestone.objects.select_related("project__proposal").get(pk=data.milestone_id)
            if data.milestone_id is not None
            else None
        )
        return Plan(request=data, today=today, client=client, proposal=proposal, milestone=milestone)

    def _sweep(self, ctx: RunContext, data: InvoiceRequest, today: dt.date) -> Plan:
        since = ctx.now() - NOTICE_WINDOW
        sent = Message.objects.filter(idempotency_key__startswith="invoice:", idempotency_key__endswith=":notice")
        notices = [
            i
            for i in Invoice.objects.filter(status=Invoice.Status.OPEN, issued_on__gte=since.date())
            .exclude(provider_id=None)
            .select_related("client__primary_contact", "client__company")
            .order_by("pk")[:BATCH]
            if not sent.filter(idempotency_key=notice_key(i)).exists()
        ]
        month = month_start(today)
        candidates: dict[str, dict[str, Any]] = {}
        for client in Client.objects.filter(monthly_value__gt=0, status__in=BILLABLE).order_by("pk"):
            if retainer_due(client, today):
                candidates[retainer_key(client.pk, month)] = {"client_id": client.pk, "kind": "retainer"}
        # Only milestones no invoice bills yet: every billed one ever stays DONE or ACCEPTED, and
        # reading them all back each night (with their keys as one IN list) grew with the books.
        milestones = (
            Milestone.objects.filter(status__in=BILLED_MILESTONES, amount__gt=0)
            .annotate(key=pk_key(MILESTONE_KEY_PREFIX))
            .exclude(Exists(Invoice.objects.filter(key=OuterRef("key"))))
            .select_related("project")
        )
        for milestone in milestones.order_by("pk")[: BATCH * 2]:
            candidates[milestone_key(milestone.pk)] = {
                "client_id": milestone.project.client_id,
                "kind": "milestone",
                "milestone_id": milestone.pk,
            }
        billed = set(Invoice.objects.filter(key__in=list(candidates)).values_list("key", flat=True))
        due = [payload for key, payload in candidates.items() if key not in billed]
        working = set(
            AgentRun.objects.filter(
                agent_name=NAME, status__in=[AgentRun.Status.QUEUED, AgentRun.Status.RUNNING]
            ).values_list("payload_hash", flat=True)
        )  # a due item another run already works on is not handed off again
        due = [d for d in due if payload_hash(InvoiceRequest.model_validate(d).model_dump(mode="json")) not in working]
        failed = acted_on(STRIPE_KIND, "invoice_pk", status=Action.Status.FAILED)
        stuck = list(Invoice.objects.filter(status=Invoice.Status.DRAFT, pk__in=failed).order_by("pk")[:BATCH])
        return Plan(request=data, today=today, notices=notices, due=due[:BATCH], stuck=stuck)

    def act(self, ctx: RunContext, facts: Plan) -> Generated:
        out = Generated()
        if facts.client is None:
            self._sweep_act(ctx, facts, out)
            return out
        client = ctx.lock(facts.client)
        for bill in self._bills(facts, client, out):
            existing = Invoice.objects.filter(key=bill.key).first()
            if existing is not None:
                out.skipped.append(f"{bill.key}: already invoiced as {existing.number}")
                continue
            self._create(ctx, facts, client, bill, out)
        return out

    # -- what a request bills ------------------------------------------------------------------

    def _bills(self, facts: Plan, client: Client, out: Generated) -> list[Bill]:
        request, proposal = facts.request, facts.proposal
        kind = request.kind
        if kind is None and proposal is not None:
            kind = "retainer" if is_retainer_proposal(client, proposal) else "deposit"
        if kind == "deposit":
            return self._deposit(client, proposal, out)
        if kind == "retainer":
            return self._retainer(client, facts.today, out)
        if kind == "milestone":
            return self._milestone(client, facts.milestone, out)
        if kind == "final":
            return self._final(client, out)
        out.skipped.append("nothing to bill: the request names no proposal, milestone or kind")
        return []

    def _deposit(self, client: Client, proposal: Proposal | None, out: Generated) -> list[Bill]:
        if proposal is None:
            out.skipped.append("a deposit needs the signed proposal it is for")
            return []
        problem = self._not_ours(client, proposal)
        if problem:
            out.skipped.append(problem)
            return []
        amount = cents(proposal.total * DEPOSIT_SHARE)
        if amount <= 0:
            out.skipped.append(f"proposal {proposal.pk} has no priced total to take a deposit of")
            return []
        share = f"{DEPOSIT_SHARE * 100:.0f}%"
        return [
            Bill(
                key=deposit_key(client.pk, proposal.pk),
                kind=Invoice.Kind.DEPOSIT,
                amount=amount,
                currency=proposal.currency,
                description=f"Deposit ({share}) for {proposal.title}"[:255],
                proposal_id=proposal.pk,
            )
        ]

    @staticmethod
    def _not_ours(client: Client, proposal: Proposal) -> str:
        if proposal.status != Proposal.Status.SIGNED:
            return f"proposal {proposal.pk} is {proposal.status}, not signed: nothing is owed on it"
        if proposal.client_id not in (None, client.pk) or (
            proposal.client_id is None and proposal.company_id != client.company_id
        ):
            return f"proposal {proposal.pk} belongs to another client than {client.pk}"
        return ""

    def _retainer(self, client: Client, today: dt.date, out: Generated) -> list[Bill]:
        if client.monthly_value <= 0:
            out.skipped.append(f"client {client.pk} has no monthly value to bill")
            return []
        if client.status not in BILLABLE:
            out.skipped.append(f"client {client.pk} is {client.status}: no retainer")
            return []
        month = month_start(today)
        return [
            Bill(
                key=retainer_key(client.pk, month),
                kind=Invoice.Kind.RETAINER,
                amount=client.monthly_value,
                currency=client.currency,
                description=f"Monthly retainer, {month:%B %Y}",
            )
        ]

    def _milestone(self, client: Client, milestone: Milestone | None, out: Generated) -> list[Bill]:
        if milestone is None:
            out.skipped.append("a milestone invoice needs the milestone")
            return []
        if milestone.project.client_id != client.pk:
            out.skipped.append(f"milestone {milestone.pk} belongs to another client than {client.pk}")
            return []
        if milestone.status not in BILLED_MILESTONES:
            out.skipped.append(f"milestone {milestone.pk} is {milestone.status}: billed once delivered")
            return []
        amount, proposal = milestone.amount, milestone.project.proposal
        if amount <= 0:
            out.skipped.append(f"milestone {milestone.pk} is not billed separately (no amount)")
            return []
        currency = proposal.currency if proposal is not None else client.currency
        if proposal is not None:
            left = proposal.total - invoiced_against(proposal)
            if left <= 0:
                out.skipped.append(f"milestone {milestone.pk}: proposal {proposal.pk} is fully billed already")
                return []
            amount = min(amount, left)  # never bill more than the contract
        return [
            Bill(
                key=milestone_key(milestone.pk),
                kind=Invoice.Kind.MILESTONE,
                amount=amount,
                currency=currency,
                description=f"Milestone: {milestone.name} ({milestone.project.name})"[:255],
                proposal_id=proposal.pk if proposal is not None else None,
            )
        ]

    def _final(self, client: Client, out: Generated) -> list[Bill]:
        bills = []
        signed = Proposal.objects.filter(Q(client=client) | Q(client=None, company_id=client.company_id))
        for proposal in signed.filter(status=Proposal.Status.SIGNED).order_by("pk"):
            if is_retainer_proposal(client, proposal) or is_renewal(proposal):
                # Billed month by month (the retainer invoices name no proposal): what is "left" of
                # its total is the months not yet come, which a leaving client does not owe.
                continue
            left = proposal.total - invoiced_against(proposal)
            if left > 0:
                bills.append(
                    Bill(
                        key=final_key(proposal.pk),
                        kind=Invoice.Kind.FINAL,
                        amount=left,
                        currency=proposal.currency,
                        description=f"Final invoice: balance of {proposal.title}"[:255],
                        proposal_id=proposal.pk,
                    )
                )
        if not bills:
            out.skipped.append(f"client {client.pk}: nothing left to bill on a signed proposal")
        return bills

    # -- writing -------------------------------------------------------------------------------

    def _create(self, ctx: RunContext, facts: Plan, client: Client, bill: Bill, out: Generated) -> None:
        contact = client.primary_contact
        if contact is None or not contact.email:
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"{client} has no contact with an email to send the {bill.kind} invoice to ({bill.key})",
                payload={"client_id": client.pk, "key": bill.key, "amount": f"{bill.amount} {bill.currency}"},
                dedupe_key=f"invoice:{bill.key}:no-contact",
                subject=client,
                wait=False,
            )
            out.skipped.append(f"{bill.key}: no contact to bill")
            return
        invoice = create_invoice(
            client=client,
            kind=bill.kind,
            amount=bill.amount,
            currency=bill.currency,
            due_on=facts.today + dt.timedelta(days=PAYMENT_TERMS_DAYS),
            proposal=Proposal.objects.get(pk=bill.proposal_id) if bill.proposal_id else None,
            key=bill.key,
            description=bill.description,
        )
        ctx.act(
            STRIPE_KIND,
            bill.key,
            StripeInvoice(
                invoice_pk=invoice.pk,
                client_pk=client.pk,
                customer_id=client.stripe_customer_id,
                email=contact.email,
                name=str(client.company),
                currency=invoice.currency,
                lines=lines_of(invoice),
                due_days=PAYMENT_TERMS_DAYS,
                description=bill.description,
                metadata={"invoice_number": invoice.number, "invoice_key": bill.key},
            ),
        )
        out.created.append(invoice.number)

    def _sweep_act(self, ctx: RunContext, facts: Plan, out: Generated) -> None:
        for invoice in facts.notices:
            self._notice(ctx, invoice, out)
        for payload in facts.due:
            ctx.handoff(NAME, payload)
            out.handed_off += 1
        for invoice in facts.stuck:
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"{invoice.number} ({invoice.key}) could not be created in Stripe: retry the failed run, "
                "or void the draft (its number stays in the series as void)",
                payload={"invoice_id": invoice.pk, "number": invoice.number},
                dedupe_key=f"invoice:{invoice.pk}:stripe-failed",
                subject=invoice,
                wait=False,
            )
            out.stuck.append(invoice.number)

    @staticmethod
    def _notice(ctx: RunContext, invoice: Invoice, out: Generated) -> None:
        contact = invoice.client.primary_contact
        if contact is None:
            return
        agency = profile()
        amount = money(invoice.amount, invoice.currency)
        body = (
            f"Hi {contact.first_name or 'there'},\n\n"
            f"Please find invoice {invoice.number} for {amount}: {invoice.description}.\n"
            f"It is due on {invoice.due_on:%d %B %Y}. You can pay it by card or bank transfer here:\n"
            f"{invoice.payment_url}\n\n"
            f"Thank you,\n{agency.sender_name}\n{agency.name}"
        )
        message = queue_email(
            ctx,
            key=notice_key(invoice),
            lead=contact,
            subject=f"Invoice {invoice.number} from {agency.name}: {amount} due {invoice.due_on:%d %B %Y}",
            body=body,
            intent="invoice",
        )
        if message is not None:
            out.noticed.append(invoice.number)
