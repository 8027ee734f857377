"""make run's book of business: seeded once, and within a few business days every later stage shows.

seed_demo --autopilot writes the book (crm/demo_book.py) on the demo clock's first morning; then the
agency lives four business days on simulated time, the sandbox answering through the real webhooks, every agent
of the sales and client lifecycle on its schedule (lead generation and research stay off: the book
is what this test is about). The events the demo promises a new user must happen: a reminder sent,
a call held and its notes written, a proposal signed and a client created, an invoice paid, a weekly
report sent, a renewal proposal sent and an offboarding started, and the former client's win-back;
and the two replies the autopilot leaves to a human (an objection, a question no FAQ answers) wait
as escalations. Seeded alone, the book is a history the dashboard's funnel reads in order: each call
followed an interested answer to a cold email.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from agents import registry
from agents.models import AgentRun, Escalation
from agents.testing import advance, keep_schedules, table_counts
from crm.demo_book import BOOK, SOURCE
from crm.models import Campaign, Enrollment, Lead, Message
from delivery.models import ClientReport, Offboarding
from sales.models import Client, Invoice, Meeting, MeetingNote, Proposal
from smarter_team import clock
from smarter_team.dashboard import Window, gather

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_world")]

# The demo clock's first morning (agency.market_morning): a Monday, 12:00 UTC.
START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LIVED = ("meeting", "proposal", "payment", "onboarding", "delivery", "retention", "offboarding", "campaign", "response")


@pytest.mark.postgresql
def test_the_book_shows_every_stage_of_the_lifecycle_within_four_business_days() -> None:
    with clock.frozen(START) as frozen:
        call_command("seed_demo", autopilot=True, verbosity=0)
        seeded = table_counts()
        call_command("seed_demo", autopilot=True, verbosity=0)
        assert table_counts() == seeded  # seeding again creates nothing
        with clock.frozen(START + dt.timedelta(hours=5)):  # nor does a restart later in the day
            call_command("seed_demo", autopilot=True, verbosity=0)
        assert table_counts() == seeded

        book = Lead.objects.filter(source=SOURCE)
        assert sorted(book.values_list("source_ref", flat=True)) == sorted(e.stage for e in BOOK)
        clients = Client.objects.filter(primary_contact__in=book)
        assert sorted(clients.values_list("status", flat=True)) == ["active"] * 5 + ["offboarded", "onboarding"]
        renewals_before = Proposal.objects.filter(requirements__kind="renewal").count()
        assert Meeting.objects.filter(status="scheduled", starts_at__gt=START).count() == 4
        assert not Invoice.objects.filter(status=Invoice.Status.PAID).exists()  # paid from now on

        keep_schedules(lambda name: registry.is_registered(name) and registry.get(name).category in LIVED)
        # Half-hour steps while the booked calls come up (reminders, attendance, transcripts), then
        # coarser ones for the daily agents. The weekly ones (reports, the win-back) run their latest
        # tick at once, as on the demo's first start.
        advance(frozen, until=START + dt.timedelta(days=2), step=dt.timedelta(minutes=30))
        advance(frozen, until=START + dt.timedelta(days=4), step=dt.timedelta(hours=2))

    failed = AgentRun.objects.filter(status=AgentRun.Status.FAILED)
    assert not failed.exists(), list(failed.values_list("agent_name", "error"))
    # The booked calls: reminded, held (or missed: the world decides), transcribed into notes.
    assert Meeting.objects.filter(reminder_1h_sent_at__isnull=False).exists()
    held = Meeting.objects.filter(status__in=["held", "followed_up"], starts_at__gte=START)
    assert held.exists()
    assert MeetingNote.objects.filter(meeting__in=held, kind=MeetingNote.Kind.SUMMARY).exists()
    # A proposal out was signed and its buyer became a client.
    signed = Proposal.objects.filter(status=Proposal.Status.SIGNED, signed_at__gte=START, client__isnull=False)
    assert any(p.requirements.get("kind") != "renewal" for p in signed)
    assert Client.objects.filter(started_on__gte=START.date()).exists()
    # Invoices issued and paid; the weekly report went out.
    assert Invoice.objects.filter(status=Invoice.Status.PAID).exists()
    assert ClientReport.objects.filter(sent_at__isnull=False).exists()
    # Nobody approved anything: the demo runs unattended. The contented client was offered a renewal;
    # the one who declined is being offboarded.
    renewals = Proposal.objects.filter(requirements__kind="renewal", sent_at__gte=START)
    assert renewals.exists() and Proposal.objects.filter(requirements__kind="renewal").count() > renewals_before
    assert Offboarding.objects.filter(created_at__gte=START).exists()
    # The former client whose cool-off ended is written to again (the book enrolled them long ago).
    former = Offboarding.objects.filter(created_at__lt=START).get().client.primary_contact
    assert Enrollment.objects.filter(lead=former, created_at__gte=START).exists()
    # The prospects who wrote back: the handler read each reply's intent, and each answer waits for a
    # human (the drafted answer to the objection; the question, which no FAQ entry answers).
    waiting = Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, status=Escalation.Status.OPEN)
    for stage, intent, agent in (
        ("replied with an objection", "objection", "reply_drafting"),
        ("asked what no FAQ answers", "question", "knowledge_base"),
    ):
        lead = book.get(source_ref=stage)
        assert lead.status == Lead.Status.REPLIED
        reply = Message.objects.get(conversation__lead=lead, direction=Message.Direction.IN)
        assert reply.intent == intent
        assert waiting.filter(run__agent_name=agent, payload__message_id__in=_thread(lead)).count() == 1


def test_the_books_funnel_narrows_from_the_replies_to_the_signatures() -> None:
    """Every call of the book followed an interested answer to a cold email: the dashboard's month
    never shows more calls than replies, nor more proposals than calls held."""
    with clock.frozen(START):
        call_command("seed_demo", autopilot=True, verbosity=0)
        stages = {s.key: s for s in gather(window=Window.MONTH).funnel}

    said = " ".join(f"{k}={s.figure.count} ({s.conversion_percent})" for k, s in stages.items())
    for key in ("replied", "booked", "held", "proposed", "signed"):
        conversion = stages[key].conversion
        assert stages[key].figure.count > 0 and conversion is not None and conversion <= 1, said
    book = Lead.objects.filter(source=SOURCE)
    # Each prospect and client answered the earlier campaign's email before its call; the two who
    # write back do so in the demo, to a sequence the campaign's end stopped.
    for lead in book:
        cold = Message.objects.get(conversation__lead=lead, direction=Message.Direction.OUT)
        assert cold.enrollment is not None and cold.enrollment.campaign.status == Campaign.Status.COMPLETED
        replies = Message.objects.filter(conversation__lead=lead, direction=Message.Direction.IN)
        if lead.source_ref in ("replied with an objection", "asked what no FAQ answers"):
            assert not replies.exists() and cold.enrollment.status == Enrollment.Status.STOPPED
            continue
        reply = replies.get()
        assert (reply.intent, reply.status, reply.enrollment) == ("interested", "delivered", cold.enrollment)
        assert cold.enrollment.status == Enrollment.Status.REPLIED and cold.status == Message.Status.REPLIED
        call = Meeting.objects.filter(lead=lead, kind=Meeting.Kind.DISCOVERY).get()
        assert cold.sent_at is not None, lead.source_ref
        assert lead.created_at <= cold.sent_at < reply.created_at < call.created_at <= START, lead.source_ref


def _thread(lead: Lead) -> list[int]:
    return list(Message.objects.filter(conversation__lead=lead).values_list("pk", flat=True))
