"""One run of the agency, from an ICP to a client who renews and, a year on, leaves (issue #20).

Nothing is seeded but what an operator gives a new agency: its profile (in autopilot, as ``make run``),
the two ICPs of seed_demo and one warmed-up mailbox. Every agent of the lifecycle then lives on its
schedule and the sandbox market answers through the real webhooks: lead_list_builder's first morning
buys one list per ICP, the leads are validated, verified, researched and scored, the qualified ones
enrolled and emailed in their windows; some reply, calls are booked, reminded and held or missed,
proposals sent and signed or not; a signature makes a client, invoiced and paying, onboarded, its
project planned and delivered; as contracts come due the contented renew and the others leave and
are offboarded. The team approves what waits once a day. The system agents (health, costs, errors,
learning) watch the machinery rather than the lifecycle and have their own tests: they stay off.

What is asserted holds for the class of run, not for this draw: each stage's count is at most the
one before it and more than nought where the market must produce some, the money adds up, invoice
numbers have no gap, nobody suppressed is written to, no run failed and every lead ends in a state;
every contract that came due was renewed or its client offboarded, and an offboarding did all it
must: the final invoice, the handover document, every access we held revoked, the exit survey, the
contact's personal data as the retention policy says, and no mail to them but the offboarding's own
before their cool-off ends. Nothing depends on database ids (CI's differ).

How this draw leaves: the market converts a few leads in a hundred, as real cold outreach does
(about one signed client per 55 leads here), so two lists of 30 make one client. It is contented
when its renewal comes (a month into a three-month contract) and renews for a year; over that year
its mood falls to the floor (milestones it reads as overdue, weeks without a report) and when the
year comes due it declines the next renewal and is offboarded. Living the year is cheaper than the
four times more leads a client leaving at its first renewal would take.

Cost (the budget is two minutes): one list of 30 leads per ICP; four-hour steps while the funnel
runs, two-day steps while the first contract is delivered and renewed, then week-long steps through
the year it renews for (each agent runs at least weekly, and the market's weekly reactions, a
report missed or a milestone overdue, are each weighed once a week as on finer steps). Every step
stops where an agent said its work falls due (advance's stop_at_hints: a reminder's hour, a send
time), so calls are reminded as on finer steps.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Q, Sum

from agents import registry
from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import advance, keep_schedules
from crm.agents.campaign._timing import is_business_day
from crm.management.commands.seed_demo import DEMO_AUTOPILOT, ICPS
from crm.models import Enrollment, IdealCustomerProfile, Lead, Message, SuppressionEntry
from crm.services.agency import profile
from crm.services.suppression import is_suppressed
from delivery.agents.offboarding.common import CHECKLIST
from delivery.agents.offboarding.knowledge_transfer import handover_key
from delivery.models import ClientAccess, Milestone, Offboarding, Project
from delivery.policy import lifecycle_policy
from delivery.services.offboarding import exit_survey_of
from delivery.services.renewals import renewal_for
from integrations.models import WebhookEvent
from sales.models import Client, Invoice, Meeting, Payment, Proposal
from tests.e2e.expected import unexpected_runs, webmail_leads
from tests.factories.crm import MailboxFactory

# Months of simulated agency: run once, on PostgreSQL. What differs on SQLite (locking, JSON lookups,
# the ORM's fallbacks) is covered by the unit tests that run on both, and CI's time is finite.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

DAY = dt.timedelta(days=1)
LIST_SIZE = 30  # per ICP, bought once: the first morning's lists are the whole market this run works
FUNNEL_DAYS = 28  # emails, replies, calls and proposals: four-hour steps
FIRST_TERM_DAYS = 130  # a three-month build signed within the funnel comes due: two-day steps
WEEK = 7
LIFE_DAYS = FIRST_TERM_DAYS + 47 * WEEK  # the year a renewal adds comes due, and is renewed or left: weekly steps
COLD = ("sent", "delivered", "opened", "clicked", "replied", "bounced")
HELD = (Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP)
# Where a lead may rest at the end: nothing half-way through validation, verification or scoring.
SETTLED = frozenset(Lead.Status) - {Lead.Status.NEW, Lead.Status.ENRICHED, Lead.Status.VERIFIED}


@pytest.fixture(autouse=True)
def sandbox_world(sandbox_world: None, settings: Any) -> None:
    # The funnel converts a few leads in a hundred, as real cold outreach does: a draw where these two
    # lists sign a client. On a seed where they sign none, the counts from "won" on are nought.
    settings.SANDBOX_SEED = 7


def approve_what_waits() -> None:
    """The team's daily pass over the approval queue: everything the agents asked for, approved."""
    waiting = Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, status=Escalation.Status.OPEN)
    for gate in waiting.order_by("pk"):  # in the order they were asked: the runs resume in that order
        decide(escalation=gate, approve=True, user=None, note="approved in the daily review")


def live(frozen: Any, settings: Any) -> None:
    start = frozen.now
    # The first morning: lead_list_builder's tick buys the lists; from then on no more are bought.
    advance(frozen, until=start + dt.timedelta(hours=14), step=dt.timedelta(hours=4), stop_at_hints=True)
    settings.LEAD_LIST_DAILY_QUOTA = 0
    days = [*range(1, FIRST_TERM_DAYS + 1), *range(FIRST_TERM_DAYS + WEEK, LIFE_DAYS + 1, WEEK)]
    for day in days:
        step = dt.timedelta(hours=4) if day <= FUNNEL_DAYS else 2 * DAY if day <= FIRST_TERM_DAYS else WEEK * DAY
        advance(frozen, until=start + day * DAY, step=step, stop_at_hints=True)
        approve_what_waits()  # daily, then weekly once the steps are a week long


def assert_offboarded(offboarding: Offboarding, now: dt.datetime) -> None:
    """Everything a departure must do was done, and nothing else was sent the former client."""
    client = offboarding.client
    assert offboarding.status == Offboarding.Status.COMPLETED, offboarding.checklist
    assert [e["item"] for e in offboarding.checklist if e.get("done_at")] == list(CHECKLIST), offboarding.checklist
    # The final invoice: issued for what is left to bill, or invoice_generation found nothing to bill.
    final = Invoice.objects.filter(client=client, kind=Invoice.Kind.FINAL, created_at__gte=offboarding.created_at)
    nothing_to_bill = AgentRun.objects.filter(
        agent_name="invoice_generation", status=AgentRun.Status.SUCCEEDED, input__client_id=client.pk,
        input__kind="final", created_at__gte=offboarding.created_at,
    )  # fmt: skip
    assert final.exclude(status=Invoice.Status.VOID).exists() or nothing_to_bill.exists()
    # The handover document, written and sent to the client's contact.
    contact = client.primary_contact
    assert contact is not None and contact.email
    ours = Message.objects.filter(direction="out", to_email__iexact=contact.email)
    assert offboarding.handover_document.strip()
    assert ours.filter(idempotency_key=handover_key(offboarding), sent_at__isnull=False).exists()
    # Every access recorded while we worked for them is revoked (or was never granted).
    accesses = ClientAccess.objects.filter(client=client)
    assert accesses.exists(), "onboarding records the accesses the client gives us"
    assert set(accesses.values_list("status", flat=True)) <= {"revoked", "withdrawn"}
    assert offboarding.access_revoked_at is not None
    # The exit survey went out.
    survey = exit_survey_of(offboarding=offboarding)
    assert survey is not None and survey.sent_at is not None
    # Personal data: the policy keeps a departed client's people as they were (an erasing policy
    # would leave only the suppression hash).
    assert lifecycle_policy().contact_data == "keep"
    contact.refresh_from_db()
    assert contact.email and contact.first_name and contact.last_name and not is_suppressed(contact.email)
    # Not contacted before the cool-off: from the day they left, only the offboarding's own mail and
    # the bills of what they still owe (the final invoice, its notice and reminders), no outreach.
    assert offboarding.reactivation_after is not None and offboarding.reactivation_after > now.date()
    billing = Q()
    for pk in client.invoices.values_list("pk", flat=True):
        billing |= Q(idempotency_key__startswith=f"invoice:{pk}:")
    later = ours.filter(created_at__gte=offboarding.created_at).exclude(
        Q(idempotency_key__startswith=f"offboarding:{offboarding.pk}:") | billing
    )
    assert not later.exists(), list(later.values_list("idempotency_key", "subject"))
    assert not Enrollment.objects.filter(
        lead__email__iexact=contact.email, created_at__gte=offboarding.created_at
    ).exists()


def total(rows: Any) -> Decimal:
    return rows.aggregate(s=Sum("amount"))["s"] or Decimal("0")


def net_paid(invoice: Invoice | None = None) -> Decimal:
    """What was paid, net of refunds (of one invoice, or of all)."""
    rows = Payment.objects.filter(invoice=invoice) if invoice is not None else Payment.objects.all()
    return total(rows.filter(status="succeeded")) - total(rows.filter(status="refunded"))


def test_an_icp_becomes_leads_calls_deals_and_a_client_who_renews_then_leaves(frozen_clock: Any, settings: Any) -> None:
    settings.LEAD_LIST_DAILY_QUOTA = LIST_SIZE
    agency = profile()
    agency.autopilot = {**(agency.autopilot or {}), **DEMO_AUTOPILOT}
    agency.save(update_fields=["autopilot"])
    for icp in ICPS:
        IdealCustomerProfile.objects.create(**icp)
    MailboxFactory.create()
    keep_schedules(lambda name: registry.is_registered(name) and registry.get(name).category != "system")

    live(frozen_clock, settings)
    now = frozen_clock.now

    # Nothing failed, nothing is left half-done.
    assert not unexpected_runs().exists(), list(unexpected_runs().values_list("agent_name", "error"))
    assert not AgentRun.objects.filter(status=AgentRun.Status.QUEUED, due_at__lte=now).exists()
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()

    # Leads: none lost. Each ends in a state of the funnel, a disqualified one with its reasons.
    leads = Lead.objects.filter(merged_into__isnull=True)
    imported = leads.count()
    assert 0 < imported <= LIST_SIZE * len(ICPS)
    # The market's webmail listings stop at the finder's refusal; every other lead goes the whole way.
    leads = leads.exclude(pk__in=webmail_leads(leads))
    assert set(leads.values_list("status", flat=True)) <= SETTLED
    scored = leads.exclude(score__isnull=True)
    assert not leads.filter(score__isnull=True).exclude(status=Lead.Status.DISQUALIFIED).exists()
    assert not leads.filter(status=Lead.Status.DISQUALIFIED, score_reasons=[]).exists()
    qualified = scored.exclude(status=Lead.Status.DISQUALIFIED)

    # Campaigns: the enrolled are qualified leads, emailed once per step, inside their own window.
    enrolled = leads.filter(enrollments__isnull=False).distinct()
    assert not qualified.exclude(pk__in=scored).exists() and not enrolled.exclude(pk__in=qualified).exists()
    cold = Message.objects.filter(direction="out", enrollment__isnull=False, status__in=COLD)
    emailed = leads.filter(enrollments__messages__in=cold).distinct()
    keys = list(Message.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    for message in cold.select_related("enrollment__lead", "enrollment__campaign"):
        assert message.enrollment is not None and message.sent_at is not None
        lead, campaign = message.enrollment.lead, message.enrollment.campaign
        local = message.sent_at.astimezone(zoneinfo.ZoneInfo(lead.time_zone or "UTC"))
        assert is_business_day(local.date(), weekdays=(1, 2, 3, 4, 5), country=lead.country or ""), local
        assert campaign.send_window_start <= local.time() < campaign.send_window_end, local
    # Nobody on the suppression list was written to after they were put on it.
    for entry in SuppressionEntry.objects.exclude(value=""):
        to = Q(to_email__iexact=entry.value) if entry.kind == "email" else Q(to_email__iendswith=f"@{entry.value}")
        late = Message.objects.filter(to, direction="out", sent_at__gt=entry.created_at)
        assert not late.exists(), (entry.reason, list(late.values_list("subject", "sent_at")))

    # Replies, calls: booked with those who answered, reminded before the start, held or missed.
    replies = Message.objects.filter(direction="in", conversation__lead__in=leads).exclude(intent="bounce")
    replied = leads.filter(pk__in=replies.values("conversation__lead"))
    calls = Meeting.objects.filter(lead__in=leads, client__isnull=True)  # a client's kickoff is delivery's
    booked = leads.filter(pk__in=calls.values("lead"))
    met = leads.filter(pk__in=calls.filter(status__in=HELD).values("lead"))
    assert not replied.exclude(pk__in=emailed).exists()
    assert not booked.exclude(pk__in=replied).exists()
    assert not met.exclude(pk__in=booked).exists()
    for reminder in Message.objects.filter(idempotency_key__regex=r"^meeting:\d+:reminder:"):
        named = dt.datetime.strptime(reminder.idempotency_key.rsplit(":", 1)[1], "%Y%m%dT%H%MZ").replace(tzinfo=dt.UTC)
        assert reminder.sent_at is not None and reminder.sent_at < named, "a reminder came after its call's start"
    assert calls.filter(reminder_1h_sent_at__isnull=False).exists()

    # Proposals to those met, signed by some: each signature one client of its company.
    # A first deal: no renewal or upsell of a client (a pk subquery: exclude() on a JSON key also drops
    # the rows that have no such key, which is every first deal).
    later = Proposal.objects.filter(requirements__kind__in=["renewal", "upsell"])
    first_deals = Proposal.objects.filter(lead__in=leads).exclude(pk__in=later.values("pk"))
    proposed = leads.filter(pk__in=first_deals.values("lead")).distinct()
    signed = first_deals.filter(status=Proposal.Status.SIGNED)
    won = leads.filter(pk__in=signed.values("lead")).distinct()
    assert not proposed.exclude(pk__in=met).exists() and not won.exclude(pk__in=proposed).exists()
    clients = Client.objects.filter(company__in=won.values("company"))
    assert clients.count() == won.values("company").distinct().count()
    assert set(signed.values_list("client_id", flat=True)) == set(clients.values_list("pk", flat=True))

    # Invoices: numbered without a gap per year; paid ones paid in full, the payments add up to them.
    invoices = list(Invoice.objects.order_by("year", "sequence"))
    by_year: dict[int, list[int]] = defaultdict(list)
    for invoice in invoices:
        by_year[invoice.year].append(invoice.sequence)
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_year.values()), by_year
    # Net of refunds, a paid invoice's payments are its amount and an unpaid one's less; every payment
    # is an invoice's, so the payments add up to the paid invoices and the part payments of the others.
    part_paid = Decimal("0")
    for invoice in invoices:
        net = net_paid(invoice)
        assert (net == invoice.amount) == (invoice.status == Invoice.Status.PAID), (invoice.number, net)
        assert Decimal("0") <= net <= invoice.amount, (invoice.number, net)
        part_paid += net if invoice.status != Invoice.Status.PAID else Decimal("0")
    paid = Invoice.objects.filter(status=Invoice.Status.PAID)
    assert net_paid() == total(paid) + part_paid
    paying = clients.filter(invoices__status=Invoice.Status.PAID).distinct()

    # Delivery: every client onboarded, its project planned with milestones, some delivered.
    onboarded = clients.exclude(status=Client.Status.ONBOARDING)
    projects = Project.objects.filter(client__in=clients)
    assert set(projects.values_list("client_id", flat=True)) == set(clients.values_list("pk", flat=True))
    delivered = Milestone.objects.filter(project__in=projects, status__in=["done", "accepted"])

    # Contracts that came due: renewed by a signed renewal, or the client left and was offboarded. A
    # client may renew one contract and leave at the next: it leaves the contract it did not renew.
    renewals = Proposal.objects.filter(client__in=clients, requirements__kind="renewal", status="signed")
    renewed = clients.filter(pk__in=renewals.values("client"))
    offboarded = clients.filter(status=Client.Status.OFFBOARDED)
    for client in offboarded:
        assert client.contract_end is not None
        left = renewal_for(client=client, contract_end=client.contract_end)
        assert left is None or left.status != Proposal.Status.SIGNED, (client.contract_end, left.status)
    for offboarding in Offboarding.objects.filter(client__in=offboarded).select_related("client"):
        assert_offboarded(offboarding, now)
    for client in clients.filter(contract_end__lt=now.date() - 14 * DAY):  # came due, past renewal's grace
        assert client.pk in set(renewed.values_list("pk", flat=True)) | set(offboarded.values_list("pk", flat=True))

    # Each stage is at most the one before it, and the market gives each some.
    funnel = {
        "imported": imported,
        "scored": scored.count(),
        "qualified": qualified.count(),
        "enrolled": enrolled.count(),
        "emailed": emailed.count(),
        "replied": replied.count(),
        "booked": booked.count(),
        "met": met.count(),
        "proposed": proposed.count(),
        "won": won.count(),
        "clients": clients.count(),
    }
    counts, said = list(funnel.values()), " ".join(f"{k}={v}" for k, v in funnel.items())
    assert all(n > 0 for n in counts), said
    assert counts == sorted(counts, reverse=True), said
    life = {
        "clients": clients.count(),
        "paying": paying.count(),
        "onboarded": onboarded.count(),
        "delivering": projects.filter(milestones__in=delivered).values("client").distinct().count(),
    }
    assert all(n > 0 for n in life.values()) and max(life.values()) == life["clients"], life
    assert renewed.exists(), "a contented client renews"
    assert offboarded.exists(), "a client whose mood fell declines its next renewal and leaves"
