"""From a prospect's yes to a paid invoice, on simulated time: the whole of issue #17 at once.

Prospects of the sandbox market agree to a call through the real Instantly webhook; the meeting agents
book, remind and follow each call to held or missed; Fathom's signed webhook brings the held calls'
recordings to notes, measures and a recap; the calls that qualify become requirements, a priced
proposal in PandaDoc, chased until the buyer signs or declines; a signature makes the client and its
deposit invoice in Stripe, which the client pays (or not) through Stripe's webhooks. Only the beats of
these stages tick; every agent a handoff reaches runs as registered. The stages' counts must follow from
each other and the money must add up.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django_celery_beat.models import PeriodicTask

from agents.models import AgentRun, Escalation
from agents.testing import advance
from crm.models import Message
from integrations.models import SandboxRecord, WebhookEvent
from sales.models import CallPerformance, Client, FathomRecording, Invoice, Meeting, MeetingNote, Payment, Proposal
from tests.e2e.test_meeting_flow import CITIES, says_yes
from tests.sales.agents.meeting.conftest import market_lead, person_in

# Weeks of simulated agency: run once, on PostgreSQL. What differs on SQLite (locking, JSON lookups,
# the ORM's fallbacks) is covered by the unit tests that run on both, and CI's time is finite.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql, pytest.mark.usefixtures("sandbox_world")]

PER_CITY = 3  # 24 prospects: tens of meetings
BEATS = (
    "meeting_reminder",
    "meeting_lifecycle_orchestrator",
    "proposal_follow_up",
    "invoice_generation",
    "dunning",
    "accounting_sync",
)
HELD = (Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP)


def only_these_beats() -> None:
    call_command("sync_schedules", verbosity=0)
    keep = PeriodicTask.objects.none()
    for name in BEATS:
        keep = keep | PeriodicTask.objects.filter(args__contains=f'"{name}"')
    assert keep.count() == len(BEATS), "each stage's beat is on beat's schedule"
    PeriodicTask.objects.exclude(pk__in=keep.values("pk")).update(enabled=False)


def live(frozen: Any) -> None:
    """The calls' week at the reminders' grain, then the proposals' and invoices' weeks more coarsely."""
    start = frozen.now
    advance(frozen, until=start + dt.timedelta(days=5), step=dt.timedelta(hours=1))
    advance(frozen, until=start + dt.timedelta(days=12), step=dt.timedelta(hours=4))
    advance(frozen, until=start + dt.timedelta(days=70), step=dt.timedelta(hours=12))


def net_paid(invoice: Invoice) -> Decimal:
    rows = Payment.objects.filter(invoice=invoice)
    paid = rows.filter(status="succeeded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    refunded = rows.filter(status="refunded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return paid - refunded


def test_yeses_become_calls_proposals_clients_and_paid_invoices(frozen_clock: Any) -> None:
    only_these_beats()
    leads = [market_lead(person_in(city, n)) for city in CITIES for n in range(PER_CITY)]
    for n, lead in enumerate(leads):
        says_yes(lead, n)

    live(frozen_clock)

    failed = AgentRun.objects.filter(status__in=["failed", "running", "queued"]).exclude(
        status="queued", due_at__gt=frozen_clock.now
    )
    assert not failed.exists(), list(failed.values_list("agent_name", "status", "error"))
    assert WebhookEvent.objects.exclude(status="processed").count() == 0

    # Booked: every yes is a call, each booked once at the provider.
    meetings = list(Meeting.objects.select_related("lead").order_by("pk"))
    assert Counter(m.lead_id for m in meetings if m.lead_id) >= Counter(lead.pk for lead in leads)
    first_bookings = SandboxRecord.objects.filter(kind="booking", data__previous_booking_id__isnull=True)
    assert {b.data["attendee_email"] for b in first_bookings} == {lead.email for lead in leads}

    # Reminded: each reminder once, before the start it names, and the market got it once.
    sent = Message.objects.filter(idempotency_key__regex=r"^meeting:\d+:reminder:")
    keys = list(sent.values_list("idempotency_key", flat=True))
    assert keys and len(keys) == len(set(keys))
    for message in sent.select_related("conversation"):
        meeting = Meeting.objects.get(pk=int(message.idempotency_key.split(":")[1]))
        named = dt.datetime.strptime(message.idempotency_key.rsplit(":", 1)[1], "%Y%m%dT%H%MZ").replace(tzinfo=dt.UTC)
        assert message.sent_at is not None and message.sent_at < named, "a reminder came after its call's start"
        assert meeting.lead is not None and message.to_email == meeting.lead.email
    received = Counter((r.data["to"], r.data["subject"]) for r in SandboxRecord.objects.filter(kind="email"))
    ours = Counter(sent.values_list("to_email", "subject"))
    # Per recipient and subject, the market got exactly as many as we sent (a lead with two calls at
    # the same local time on different days gets two alike "Starting soon" mails, under two keys).
    assert all(received[m] == n for m, n in ours.items()), "a reminder reached the market twice"

    # Held or missed: what the sandbox decided at each start is what we recorded.
    past = [m for m in meetings if m.ends_at is not None and m.ends_at < frozen_clock.now - dt.timedelta(hours=1)]
    outcome: Counter[str] = Counter()
    held: list[Meeting] = []
    for meeting in past:
        if meeting.status == Meeting.Status.CANCELED:
            outcome["canceled"] += 1
            continue
        booking = SandboxRecord.objects.get(kind="booking", ref=meeting.booking_uid).data
        if booking["no_show"]:
            assert meeting.status in (Meeting.Status.NO_SHOW, Meeting.Status.FOLLOWED_UP), meeting.status
            outcome["no_show"] += 1
        else:
            assert meeting.status in HELD, meeting.status
            held.append(meeting)
    # Most prospects who agreed to a call come to it (the sandbox's no-show odds are 15-40%).
    assert len(held) > outcome["no_show"] + outcome["canceled"], (len(held), outcome)
    for meeting in Meeting.objects.filter(status=Meeting.Status.NO_SHOW):
        assert Message.objects.filter(idempotency_key__startswith=f"no-show:lead:{meeting.lead_id}:").exists()

    # Transcribed, noted, measured, recapped: each held call once.
    held_ids = {m.pk for m in held}
    recorded = FathomRecording.objects.filter(transcript_status="ready").values_list("meeting_id", flat=True)
    assert set(recorded) == held_ids
    for kind in ("transcript", "summary"):
        assert set(MeetingNote.objects.filter(kind=kind).values_list("meeting_id", flat=True)) == held_ids, kind
    assert set(CallPerformance.objects.values_list("meeting_id", flat=True)) == held_ids
    recaps = Message.objects.filter(idempotency_key__in=[f"meeting:{pk}:follow_up" for pk in held_ids])
    recapped = {int(k.split(":")[1]) for k in recaps.values_list("idempotency_key", flat=True)}
    # A held call without a recap is one whose prospect may no longer be contacted: skipped, with the reason.
    for run in AgentRun.objects.filter(agent_name="meeting_follow_up", input__meeting_id__in=held_ids - recapped):
        assert run.status == AgentRun.Status.SKIPPED and "may not be contacted" in run.error, (run.status, run.error)
    assert not recaps.exclude(status=Message.Status.SENT).exists()

    # Proposed: only recapped calls that qualified, each priced and sent, then signed, declined or expired.
    proposals = list(Proposal.objects.select_related("lead"))
    assert proposals and len(proposals) <= len(recapped)
    assert {p.meeting_id for p in proposals} <= recapped and len({p.meeting_id for p in proposals}) == len(proposals)
    waiting = Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, status=Escalation.Status.OPEN)
    for proposal in proposals:
        assert proposal.total > 0 and proposal.line_items, proposal.pk
        if proposal.sent_at is None:
            # Above the value threshold or under the margin floor: it waits for an operator, on record.
            assert waiting.filter(dedupe_key__startswith=f"approval:proposal:{proposal.pk}:").exists(), proposal.pk
        else:
            assert proposal.document_id
    sent_ones = [p for p in proposals if p.sent_at is not None]
    assert sent_ones
    assert {p.status for p in sent_ones} <= {"signed", "declined", "expired", "sent", "viewed"}
    signed = [p for p in proposals if p.status == Proposal.Status.SIGNED]
    assert signed, "some buyers who fit sign within seventy days"

    # Clients: one per signing company, each with its deposit invoice for that proposal.
    clients = list(Client.objects.all())
    assert len(clients) == len({p.company_id for p in signed})
    assert {p.client_id for p in signed} == {c.pk for c in clients}
    invoices = list(Invoice.objects.order_by("year", "sequence"))
    deposits = [i for i in invoices if i.kind == Invoice.Kind.DEPOSIT]
    assert Counter(i.proposal_id for i in deposits) == Counter(p.pk for p in signed)
    assert {i.client_id for i in invoices} <= {c.pk for c in clients}
    for invoice in deposits:
        assert invoice.proposal is not None and invoice.amount <= invoice.proposal.total
        assert invoice.currency == invoice.proposal.currency and invoice.provider_id and invoice.status != "draft"

    # Numbered without a gap, per year.
    by_year: dict[int, list[int]] = defaultdict(list)
    for invoice in invoices:
        by_year[invoice.year].append(invoice.sequence)
        assert invoice.number == f"INV-{invoice.year}-{invoice.sequence:05d}", invoice.number
    for year, numbers in by_year.items():
        assert numbers == list(range(1, len(numbers) + 1)), (year, numbers)

    # Paid: net of refunds, the payments are the paid invoices' amounts (and any part payment of an open one).
    paid = [i for i in invoices if i.status == Invoice.Status.PAID]
    assert paid, "clients pay their deposits"
    for invoice in invoices:
        assert (net_paid(invoice) == invoice.amount) == (invoice.status == Invoice.Status.PAID), invoice.number
    payments = Payment.objects.filter(status="succeeded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    refunds = Payment.objects.filter(status="refunded").aggregate(s=Sum("amount"))["s"] or Decimal("0")
    partly = sum((net_paid(i) for i in invoices if i.status != Invoice.Status.PAID), Decimal("0"))
    assert payments - refunds == sum((i.amount for i in paid), Decimal("0")) + partly
    assert {p.currency for p in Payment.objects.all()} <= {i.currency for i in invoices}
