"""The demo's book of business: the agency a few months in, with work falling due in its first hours.

A fresh `make run` would otherwise start empty, and the later stages of the lifecycle (reminders,
held calls, signatures, onboarding, delivery, invoices, renewals, offboarding, win-back) would take
weeks of business time to appear. A real agency has a book: this module writes one, through the
project's services (and the sandbox's own providers where the world must know what happened), dated
relative to the clock's now, so the agents find work at once:

- how they came to us: every prospect and client got a cold email of the agency's earlier campaign
  (its earlier niches, completed since), and those with a call answered it with interest before the
  call was booked, so the dashboard's funnel narrows from the emails to the replies, the calls and
  the proposals;
- prospects: discovery calls booked through the calendar for the next hours and days (reminders,
  the call held or missed, the recorder's transcript, notes and a proposal follow), held calls
  whose proposal went out through the documents provider (follow-ups, a signature or a decline),
  and two prospects our cold email reached who write back in the demo's first hour: one with an
  objection, one with a question no FAQ answers (the autopilot sends neither answer: both wait for
  a human as escalations);
- clients: one signed yesterday (contract_signature's handoffs: onboarding and its first invoice),
  two onboarded weeks ago whose project is planned now (progress, QA, weekly reports), a retainer
  whose last invoice is overdue (dunning, payment), a contented client whose contract ends within
  60 days (a renewal proposal), an unhappy one who declined the renewal and whose contract ends
  tomorrow (served to the end, then offboarded),
  and one offboarded months ago whose cool-off ends today (win-back).

The people are the sandbox market's own (search_people, in niches the demo's ICPs do not search, so
lead generation never finds them again), remembered by the world as it remembers those it met: the
discovery call's transcript, each client's hidden mood. Past events are written on a frozen clock at
the moment they happened, so every date the services stamp is where history puts it.

Some parts are cast (``Entry.casts``): the first booked call goes to a prospect the world has keep
it, the overdue invoice to a client it has pay late, the paid one to a client it has pay within the
first days, so a new user sees each stage rather than whatever the first names in the market draw.

Idempotent: each entry is written once (its lead remembers which); seeding again creates nothing.
Only `seed_demo --autopilot` (make run) calls it: the tests that seed the demo without it start empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from agents.models import AgentRun
from agents.services.runs import start_run
from crm.agents.campaign._compose import render_text
from crm.models import Campaign, CampaignStep, Conversation, Enrollment, Lead, Mailbox, Message
from crm.services.campaigns import enrollment_set_status
from crm.services.inbound import inbound_key
from crm.services.leads import create_or_update_lead, lead_qualify, lead_set_status
from delivery.agents.offboarding.common import CHECKLIST as OFFBOARDING_CHECKLIST
from delivery.agents.onboarding.common import CHECKLIST as ONBOARDING_CHECKLIST
from delivery.services.offboarding import (
    complete_offboarding,
    complete_offboarding_item,
    record_access_revoked,
    start_offboarding,
)
from delivery.services.onboarding import complete_onboarding_task, start_onboarding
from delivery.services.renewals import draft_renewal
from delivery.services.retention import record_health_snapshot
from integrations.sandbox import accounts, payloads
from integrations.sandbox.behaviour import Intent, meeting_fate, reply_text
from integrations.sandbox.conversation import PAINS, discovery_call
from integrations.sandbox.meetings import HOST_NAME
from integrations.sandbox.paying import invoice_fate
from integrations.sandbox.rng import rng_for, sandbox_id
from integrations.sandbox.store import remember, schedule
from integrations.sandbox.world import Person, search_people
from integrations.values import InvoiceLine
from sales.agents.meeting.bookings import attach_booking, booking_key
from sales.agents.payment.common import PAYMENT_TERMS_DAYS, retainer_key
from sales.agents.payment.invoice_generation import month_start
from sales.agents.proposal._common import CURRENCY_FIELD, TOTAL_FIELD, VALID_UNTIL_FIELD
from sales.agents.proposal.document import DOCUMENT_KIND, ProposalDocument, SendProposalDocument, as_html, record_sent
from sales.models import Client, Invoice, Meeting, MeetingNote, Proposal
from sales.services.clients import create_client_from_proposal
from sales.services.invoices import create_invoice, issue_invoice
from sales.services.meetings import create_meeting, mark_meeting_held, save_meeting_note
from sales.services.proposals import (
    create_proposal_draft,
    mark_proposal_declined,
    mark_proposal_sent,
    mark_proposal_signed,
)
from smarter_team import clock

DAY = dt.timedelta(days=1)
# Niches the agency worked before the demo's ICPs (dental clinics, UK law firms): lead generation
# searches only those, so it never meets the book's people as new leads.
INDUSTRIES = ("accounting firms", "real estate agencies", "marketing agencies", "insurance brokers")
# The demo's market hours (12:00-20:00 UTC): London and New York, whose working days overlap there.
LOCATIONS = ("London", "New York")
# Calls are booked where both zones are at work (14:00-16:30 UTC: 14:00-16:30 in London, 09:00-11:30
# in New York in winter, 10:00-12:30 in summer).
CALL_HOURS_UTC = (dt.time(14, 0), dt.time(16, 30))
CALL_MINUTES = 30
SIGNED_AFTER_CALL = 14 * DAY  # the discovery call a client's signature followed
KEY = "demo-book"  # the sandbox ids' and moods' seed: the book's, never a test's


def anyone(person: Person, now: dt.datetime) -> bool:
    return True


@dataclass(frozen=True)
class Entry:
    """One prospect or client of the book: who, and what they are at.

    ``casts`` picks who plays the part (the first of the market's people it accepts): the demo needs
    a late payer for its overdue invoice, not whoever comes first.
    """

    stage: str
    seed: Callable[[Person, dt.datetime], None]
    casts: Callable[[Person, dt.datetime], bool] = anyone


# --- the market ---------------------------------------------------------------------------------
def market_people() -> list[Person]:
    """Decision makers of the sandbox market who fit what the agency sells, one per company, in a
    stable order."""
    found: dict[str, Person] = {}
    for industry in INDUSTRIES:
        for location in LOCATIONS:
            for person in search_people(query=industry, location=location, start=0, count=40):
                if person.decision_maker and person.email_status == "deliverable" and person.company.fit >= 0.7:
                    found.setdefault(person.company.domain, person)
    return sorted(found.values(), key=lambda p: (p.company.fit < 0.8, p.email))


def cast(entry: Entry, pool: Sequence[Person], now: dt.datetime) -> Person:
    """Who plays ``entry``: the first person of ``pool`` (the market's people who play no part yet)
    its ``casts`` accepts."""
    person = next((p for p in pool if entry.casts(p, now)), None)
    if person is None:
        raise RuntimeError(f"the sandbox market has nobody to play {entry.stage!r}")
    return person


@contextmanager
def at(moment: dt.datetime, now: dt.datetime) -> Iterator[None]:
    """Write what happened at ``moment`` with the clock there (a moment not in the past: no freeze)."""
    if moment >= now:
        yield
        return
    with clock.frozen(moment):
        yield


def call_slot(after: dt.datetime) -> dt.datetime:
    """The first half hour at or after ``after`` on a weekday within CALL_HOURS_UTC."""
    t = after.astimezone(dt.UTC).replace(second=0, microsecond=0)
    t += dt.timedelta(minutes=(30 - t.minute % 30) % 30)
    while t.weekday() >= 5 or not CALL_HOURS_UTC[0] <= t.time() <= CALL_HOURS_UTC[1]:
        t += dt.timedelta(minutes=30)
    return t


def business_days_ago(now: dt.datetime, days: int) -> dt.datetime:
    """``days`` weekdays before ``now``, at a call slot's hour (history happened in working hours)."""
    day = now.astimezone(dt.UTC).date()
    left = days
    while left:
        day -= DAY
        left -= day.weekday() < 5
    return dt.datetime.combine(day, CALL_HOURS_UTC[0], tzinfo=dt.UTC)


# --- what every stage starts with -----------------------------------------------------------------
def _lead(person: Person, *, through: tuple[str, ...]) -> Lead:
    """The person as a lead, verified and qualified, then along ``through`` (its status machine)."""
    c = person.company
    lead = create_or_update_lead(
        data={
            "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
            "title": person.title, "seniority": person.seniority, "country": c.country,
            "linkedin_url": person.linkedin_url, "time_zone": c.timezone, "company_name": c.name,
            "company_domain": c.domain, "industry": c.industry,
        }
    ).lead  # fmt: skip
    lead_set_status(lead=lead, status=Lead.Status.VERIFIED, reason="verified when it was found")
    # The verifier's verdict on the market's deliverable address (email_verification's, back then).
    lead.email_status = Lead.EmailStatus.VALID
    lead.save(update_fields=["email_status"])
    lead_qualify(lead=lead, score=82, reasons=[f"{c.industry}, {c.employees} people, a decision maker"])
    for status in through:
        lead_set_status(lead=lead, status=status, reason="the book of business")
    return lead


def _held_call(person: Person, start: dt.datetime) -> tuple[str, list[dict[str, Any]], list[str]]:
    """A discovery call the world remembers as held at ``start``: its booking and its recording."""
    remember(kind="person", ref=person.email, data=person.to_record())
    booking_id = sandbox_id("bk", KEY, person.email)
    remember(
        kind="booking",
        ref=booking_id,
        data={
            "booking_id": booking_id, "attendee_email": person.email, "attendee_name": person.full_name,
            "start": start.isoformat(), "end": (start + dt.timedelta(minutes=CALL_MINUTES)).isoformat(),
            "minutes": CALL_MINUTES, "status": "accepted", "title": f"Discovery call with {person.full_name}",
            "meeting_url": f"https://cal.com/video/{booking_id}",
        },
    )  # fmt: skip
    lines = discovery_call(booking_id=booking_id, person=person, host_name=HOST_NAME, minutes=CALL_MINUTES)
    recording_id = sandbox_id("rec", booking_id)
    remember(
        kind="recording",
        ref=recording_id,
        data={
            "recording_id": recording_id, "booking_id": booking_id, "title": f"Discovery call with {person.full_name}",
            "started_at": start.isoformat(), "duration_seconds": CALL_MINUTES * 60, "lines": lines,
        },
    )  # fmt: skip
    pains = [p for p in PAINS if any(p in line["text"] for line in lines)]
    return booking_id, lines, pains


def _discovery_call(lead: Lead, person: Person, start: dt.datetime, *, booking_uid: str | None = None) -> Meeting:
    """The discovery call's meeting, as meeting_scheduler writes it (booked or, in the past, held)."""
    return create_meeting(
        lead=lead,
        title=f"Discovery call with {person.full_name}",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=CALL_MINUTES),
        time_zone=person.company.timezone,
        booking_uid=booking_uid,
    )


def _meeting_held(lead: Lead, person: Person, start: dt.datetime, booking_id: str, pains: list[str]) -> Meeting:
    meeting = mark_meeting_held(meeting=_discovery_call(lead, person, start, booking_uid=booking_id))
    save_meeting_note(
        meeting=meeting,
        kind=MeetingNote.Kind.SUMMARY,
        content=f"{person.company.name}: {', '.join(pains) or 'their operations'}. Next: the proposal.",
        action_items=[{"text": "send the proposal", "owner": "us"}],
        source=sandbox_id("rec", booking_id),
    )
    return meeting


# --- how they came to us: the earlier campaign -----------------------------------------------------
# The campaign our cold emails to the book's people went out in: the agency's outreach in its earlier
# niches (INDUSTRIES), completed when it moved to the demo's ICPs. No agent sends from, tests or
# reopens a completed campaign, so its history stays history.
EARLIER_CAMPAIGN = f"Earlier niches ({', '.join(INDUSTRIES)})"
# Before the book's first cold email (the former client's, about eight months before the demo).
CAMPAIGN_STARTED = dt.timedelta(days=round(30.4 * 9))
CAMPAIGN_ENDED = 1  # business days before the demo's first morning
# The mailbox the book's cold emails went out from (seed_demo's first).
COLD_MAILBOX = "alex@mail.smarter-team.test"
COLD_SUBJECT = "Less manual work at {{company}}"
COLD_BODY = (
    "Hi {{first_name}},\n\nfirms like {{company}} lose hours a week to work an assistant could do. "
    "Worth a short call?\n\nBest,\nAlex"
)
FOLLOW_UP_DAYS = 3  # business days: the campaign's second step, which an answer stops
ANSWERED_AFTER = 2  # business days between our first email and a prospect's interested answer
CALL_AFTER_ANSWER = 3  # business days between that answer and the call it booked (held calls)


def _earlier_campaign(now: dt.datetime) -> Campaign:
    """The earlier campaign, written the first time an entry needs it."""
    campaign = Campaign.objects.filter(name=EARLIER_CAMPAIGN).first()
    if campaign is not None:
        return campaign
    with at(now - CAMPAIGN_STARTED, now):
        # As it stands now: the entries write its enrollments and sends, each when it happened.
        campaign = Campaign.objects.create(
            name=EARLIER_CAMPAIGN, status=Campaign.Status.COMPLETED, stop_rules={"on_reply": True}
        )
        campaign.mailboxes.set(Mailbox.objects.filter(email=COLD_MAILBOX))
        CampaignStep.objects.create(campaign=campaign, order=0, subject_template=COLD_SUBJECT, body_template=COLD_BODY)
        CampaignStep.objects.create(
            campaign=campaign,
            order=1,
            delay_business_days=FOLLOW_UP_DAYS,
            subject_template=f"Re: {COLD_SUBJECT}",
            body_template="Hi {{first_name}},\n\njust bringing this back to the top of your inbox.\n\nAlex",
        )
    return campaign


def _emailed(person: Person, sent: dt.datetime, now: dt.datetime) -> Message:
    """The person as a lead the earlier campaign's first email reached at ``sent``, recorded as
    sequence_scheduler records a send (the enrollment waits for its second step)."""
    campaign = _earlier_campaign(now)
    first = campaign.steps.get(order=0)
    with at(sent, now):
        lead = _lead(person, through=(Lead.Status.CONTACTED,))
        enrollment = Enrollment.objects.create(
            lead=lead,
            campaign=campaign,
            current_step=1,
            next_send_at=clock.now() + FOLLOW_UP_DAYS * DAY,
        )
        message_id = sandbox_id("msg", KEY, person.email, "cold")
        words = {"first_name": person.first_name, "company": person.company.name}
        subject, body = render_text(first.subject_template, words), render_text(first.body_template, words)
        return Message.objects.create(
            conversation=Conversation.objects.create(lead=lead, last_message_at=clock.now()),
            direction=Message.Direction.OUT,
            enrollment=enrollment,
            step=first,
            to_email=person.email,
            from_email=COLD_MAILBOX,
            subject=subject,
            body=body,
            headers={"Message-ID": message_id},
            provider_message_id=message_id,
            status=Message.Status.SENT,
            sent_at=clock.now(),
            idempotency_key=f"{KEY}:{person.email}:cold",
        )


def _answered(person: Person, cold: Message, replied: dt.datetime, now: dt.datetime) -> None:
    """Their interested answer to ``cold`` at ``replied``, recorded as email_response_handler records a
    reply (the inbound message on the thread, the sequence stopped, the lead interested). The agents
    that answer a reply start from the handler's handoff, never from the stored messages: nobody
    answers this one again."""
    assert cold.enrollment is not None
    with at(replied, now):
        reply_id = sandbox_id("msg", KEY, person.email, "reply")
        text = reply_text(
            person=person, intent="interested", referral=None, rng=rng_for("reply-text", KEY, person.email)
        )
        Message.objects.create(
            conversation=cold.conversation,
            direction=Message.Direction.IN,
            enrollment=cold.enrollment,
            from_email=person.email,
            to_email=COLD_MAILBOX,
            subject=f"Re: {cold.subject}"[:998],
            body=text,
            headers={"Message-ID": reply_id, "In-Reply-To": cold.provider_message_id},
            provider_message_id=reply_id,
            status=Message.Status.DELIVERED,
            sent_at=clock.now(),
            intent="interested",
            idempotency_key=inbound_key(message_id=reply_id, sender=person.email, text=text),
        )
        conversation = cold.conversation
        conversation.intent, conversation.status = "interested", Conversation.Status.WAITING
        conversation.last_message_at = clock.now()
        conversation.save(update_fields=["intent", "status", "last_message_at"])
        cold.transition_to(Message.Status.REPLIED)
        enrollment_set_status(
            enrollment=cold.enrollment, status=Enrollment.Status.REPLIED, reason="replied: interested"
        )
        lead_set_status(lead=cold.conversation.lead, status=Lead.Status.INTERESTED, reason="reply: interested")


def _prospect(person: Person, replied: dt.datetime, now: dt.datetime) -> Lead:
    """The person as a lead who answered the earlier campaign's first email with interest at ``replied``."""
    cold = _emailed(person, business_days_ago(replied, ANSWERED_AFTER), now)
    _answered(person, cold, replied, now)
    return cold.conversation.lead


def answered_before(moment: dt.datetime, days: int) -> dt.datetime:
    """``days`` business days before ``moment``, two hours after the hour the book's emails went out:
    when a prospect answered."""
    return business_days_ago(moment, days) + dt.timedelta(hours=2)


# --- prospects --------------------------------------------------------------------------------------
def booked_call(hours_ahead: float) -> Callable[[Person, dt.datetime], None]:
    """A prospect who replied and booked a discovery call ``hours_ahead`` from now (the next slot)."""

    def seed(person: Person, now: dt.datetime) -> None:
        remember(kind="person", ref=person.email, data=person.to_record())
        # They answered while the earlier campaign ran: its end stopped the sequences still running.
        lead = _prospect(person, answered_before(now, CAMPAIGN_ENDED + 1), now)
        lead_set_status(lead=lead, status=Lead.Status.MEETING_BOOKED, reason="discovery call booked")
        start = call_slot(now + dt.timedelta(hours=hours_ahead))
        meeting = _discovery_call(lead, person, start)
        # Booked as meeting_scheduler books (sales/agents/meeting/bookings.py): the calendar under the
        # meeting's key, which the world plans (moves, attendance, recording) and reports by webhook.
        from integrations.roles import get_role

        booking = get_role("calendar").book(
            idempotency_key=booking_key(lead_id=lead.pk, meeting_id=meeting.pk),
            start=start,
            duration_minutes=CALL_MINUTES,
            attendee_email=person.email,
            attendee_name=person.full_name,
            title=meeting.title,
            timezone=person.company.timezone,
        )
        attach_booking(meeting_id=meeting.pk, uid=booking.booking_id, join_url=booking.meeting_url)

    return seed


def keeps_the_call(hours_ahead: float) -> Callable[[Person, dt.datetime], bool]:
    """Whether the world has this prospect keep a call booked ``hours_ahead`` from now (one in five
    moves or cancels it): the demo's first call should be there to be reminded of and held."""

    def casts(person: Person, now: dt.datetime) -> bool:
        start = call_slot(now + dt.timedelta(hours=hours_ahead))
        return meeting_fate(attendee_email=person.email, start=start, fit=person.company.fit).kind == "keeps"

    return casts


def proposal_out(days_ago: int) -> Callable[[Person, dt.datetime], None]:
    """A prospect whose discovery call was held and whose proposal went out ``days_ago`` business days ago."""

    def seed(person: Person, now: dt.datetime) -> None:
        S = Lead.Status
        held = business_days_ago(now, days_ago + 1)
        sent = business_days_ago(now, days_ago)
        lead = _prospect(person, answered_before(held, CALL_AFTER_ANSWER), now)
        with at(held, now):
            booking_id, _, pains = _held_call(person, held)
            lead_set_status(lead=lead, status=S.MEETING_BOOKED, reason="discovery call booked")
            meeting = _meeting_held(lead, person, held, booking_id, pains)
        # Priced within the buyer's means, as pricing would (the world weighs the price against them).
        price = Decimal(max(3000, round(person.company.budget * 0.6, -2)))
        valid_until = (sent + 30 * DAY).date()
        with at(sent, now):
            proposal = create_proposal_draft(
                title=f"AI automation for {person.company.name}",
                lead=lead,
                meeting=meeting,
                requirements={"needs": [{"text": p} for p in pains], "out_of_scope": []},
                line_items=[{"description": "Automation build and launch", "quantity": 1, "unit_price": price}],
                valid_until=valid_until,
            )
            text = f"AI automation for {person.company.name}\n\nWhat you told us\n" + "\n".join(
                f"- {p}" for p in pains or ["time lost to manual work"]
            )
            payload = ProposalDocument(
                proposal_pk=proposal.pk,
                name=proposal.title,
                recipient_email=person.email,
                first_name=person.first_name,
                last_name=person.last_name,
                html=as_html(proposal.title, text),
                fields={TOTAL_FIELD: str(price), CURRENCY_FIELD: "USD", VALID_UNTIL_FIELD: valid_until.isoformat()},
                subject=f"Your proposal: {proposal.title}",
            )
            # Sent as proposal_creation sends (the documents provider, then the proposal's record).
            # Keyed by the buyer, not the proposal's row: the sandbox seeds a document's fate by its
            # id, and an id drawn from our database would give each database a different demo.
            result = SendProposalDocument().perform(payload, f"{DOCUMENT_KIND}:demo-book:{person.email}:document")
            locked = Proposal.objects.select_for_update(of=("self",)).select_related("lead").get(pk=proposal.pk)
            record_sent(locked, document_id=str(result["document_id"]))

    return seed


COLD_SENT = 2  # business days before the demo's first morning
REPLY_AFTER = dt.timedelta(hours=1)  # their answer arrives within the demo's first business hour


def writes_back(intent: Intent) -> Callable[[Person, dt.datetime], None]:
    """A prospect our cold email reached COLD_SENT business days ago, who writes back with ``intent``
    REPLY_AFTER from now: the world schedules the reply as it schedules any reaction to a send
    (integrations/sandbox/market.py), in the market's own words for the intent, and Instantly's
    webhook brings it to email_response_handler. An objection or a question no FAQ answers is what
    the demo's autopilot leaves to a human (seed_demo.DEMO_AUTOPILOT): the admin shows it waiting."""

    def seed(person: Person, now: dt.datetime) -> None:
        sent_at = business_days_ago(now, COLD_SENT)
        remember(kind="person", ref=person.email, data=person.to_record())
        cold = _emailed(person, sent_at, now)
        assert cold.enrollment is not None
        message_id, subject = cold.provider_message_id, cold.subject
        sent = {
            "message_id": message_id, "thread_id": sandbox_id("thr", KEY, person.email, "cold"),
            "to": person.email, "from_mailbox": COLD_MAILBOX, "subject": subject, "campaign_id": "",
        }  # fmt: skip
        with at(sent_at, now):
            # The cold email as the outreach provider records a send.
            remember(kind="email", ref=message_id, data=sent | {"replying": False, "step": 1, "billing": False})
        # The campaign ended before its second step, and stopped the sequence: their answer comes to a
        # stopped one, which email_response_handler leaves as it is (it stops running ones only).
        with at(business_days_ago(now, CAMPAIGN_ENDED), now):
            enrollment_set_status(
                enrollment=cold.enrollment, status=Enrollment.Status.STOPPED, reason="campaign completed"
            )
        answered = now + REPLY_AFTER
        text = reply_text(person=person, intent=intent, referral=None, rng=rng_for("reply-text", KEY, person.email))
        schedule(
            key=f"instantly:{message_id}:reply_{intent}",
            provider="instantly",
            kind=f"reply_{intent}",
            subject=person.email,
            payload=payloads.instantly_event(
                event_type="reply_received", email=sent, at=answered, reply_subject=f"Re: {subject}", reply_text=text
            ),
            due_at=answered,
        )

    return seed


# --- clients ------------------------------------------------------------------------------------------
def _signed(person: Person, signed: dt.datetime, now: dt.datetime, *, months: int, monthly: Decimal) -> Client:
    """What the sales stages left ``signed``: the held call, its proposal signed, the client with its
    contract (a retainer of ``monthly`` for ``months``, or a project when ``monthly`` is 0)."""
    S = Lead.Status
    held = signed - SIGNED_AFTER_CALL
    lead = _prospect(person, answered_before(held, CALL_AFTER_ANSWER), now)
    with at(held, now):
        booking_id, _, pains = _held_call(person, held)
        lead_set_status(lead=lead, status=S.MEETING_BOOKED, reason="discovery call booked")
        meeting = _meeting_held(lead, person, held, booking_id, pains)
    requirements: dict[str, Any] = {"needs": [{"text": p} for p in pains], "out_of_scope": []}
    if monthly:
        # A retainer is billed month by month (invoice_generation), never as one total.
        requirements["billing"] = "monthly"
        lines = [{"description": "AI operations retainer", "quantity": months, "unit_price": monthly}]
    else:
        lines = [{"description": "Automation build and launch", "quantity": 1, "unit_price": Decimal(15000)}]
    with at(signed - 3 * DAY, now):
        proposal = create_proposal_draft(
            title=f"AI operations for {person.company.name}",
            lead=lead,
            meeting=meeting,
            requirements=requirements,
            line_items=lines,
        )
        mark_proposal_sent(proposal=proposal, document_id=sandbox_id("doc", KEY, person.email))
        lead_set_status(lead=lead, status=S.PROPOSAL_SENT, reason=f"proposal {proposal.pk} sent")
    with at(signed, now):
        mark_proposal_signed(proposal=proposal)
        client = create_client_from_proposal(proposal=proposal)
        lead_set_status(lead=lead, status=S.WON, reason=f"proposal {proposal.pk} signed")
        # The contract's terms as contract_signature records them (no service writes these two).
        client.contract_end = (signed + dt.timedelta(days=round(30.4 * months))).date()
        client.monthly_value = monthly
        client.primary_contact = lead
        client.save(update_fields=["contract_end", "monthly_value", "primary_contact"])
    return client


def _mood(person: Person, mood: float) -> None:
    """The client's hidden mood in the world (integrations/sandbox/accounts.py), as the book left it."""
    accounts.move(person.email, mood - accounts.mood(person.email), key=KEY, reason="the book of business")


def _onboarded(client: Client, started: dt.datetime, now: dt.datetime) -> None:
    """Onboarding done a couple of weeks after the signature (the client is active)."""
    with at(started, now):
        onboarding = start_onboarding(client=client, items=ONBOARDING_CHECKLIST)
    for index, task in enumerate(onboarding.tasks.order_by("order")):
        with at(started + (index + 1) * 2 * DAY, now):
            complete_onboarding_task(task=task)


def _health(client: Client, now: dt.datetime, scores: tuple[int, ...]) -> None:
    """The weekly health scores of the last weeks (client_health's history), oldest first."""
    for weeks_ago, score in zip(range(len(scores), 0, -1), scores, strict=True):
        day = now - dt.timedelta(weeks=weeks_ago)
        with at(day, now):
            record_health_snapshot(client=client, score=score, components={"book": "the demo's history"})


def _handoff(name: str, payload: dict[str, Any]) -> None:
    start_run(agent_name=name, input=payload, trigger=AgentRun.Trigger.HANDOFF)


def just_signed(person: Person, now: dt.datetime) -> None:
    """Signed yesterday: contract_signature's handoffs are due (onboarding, the deposit invoice)."""
    client = _signed(person, now - DAY, now, months=3, monthly=Decimal(0))
    _mood(person, 0.85)
    proposal = Proposal.objects.get(client=client, status=Proposal.Status.SIGNED)
    _handoff("onboarding_orchestrator", {"client_id": client.pk})
    _handoff("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})


def mid_delivery(weeks_ago: int, monthly: int) -> Callable[[Person, dt.datetime], None]:
    """Signed ``weeks_ago``, onboarded since; its project is planned now (client_setup's handoff).
    A retainer's invoice of the month went out 12 days ago."""

    def seed(person: Person, now: dt.datetime) -> None:
        signed = now - dt.timedelta(weeks=weeks_ago)
        client = _signed(person, signed, now, months=6, monthly=Decimal(monthly))
        _mood(person, 0.8)
        _onboarded(client, signed + DAY, now)
        _health(client, now, (74, 76))
        if monthly:
            client.refresh_from_db()
            _retainer_invoice(client, person, now - PAYING_ISSUED, now)
        _handoff("project_management", {"client_id": client.pk})

    return seed


# The retainer invoices already out: one overdue (dunning), one about to be paid (a payment lands).
OVERDUE_ISSUED = 20 * DAY
PAYING_ISSUED = 12 * DAY


def retainer_invoice_key(person: Person) -> str:
    """The key the book's retainer invoice is issued under at the payments provider."""
    return f"{KEY}:{person.email}:retainer"


def _invoice_fate(person: Person) -> dt.timedelta | None:
    """When the world has this client pay the book's retainer invoice (None: never, unless chased)."""
    invoice_id = sandbox_id("in", retainer_invoice_key(person)).replace("sbx_in_", "in_sbx")
    return invoice_fate(invoice_id=invoice_id, fit=person.company.fit, due_days=PAYMENT_TERMS_DAYS).pays_after


def pays_late(person: Person, now: dt.datetime) -> bool:
    """The world leaves this client's invoice unpaid for days after it fell due (dunning chases it)."""
    pays = _invoice_fate(person)
    return pays is None or pays > OVERDUE_ISSUED + 2 * DAY


def pays_soon(person: Person, now: dt.datetime) -> bool:
    """The world has this client pay the invoice within the demo's first business days."""
    pays = _invoice_fate(person)
    return pays is not None and PAYING_ISSUED + dt.timedelta(hours=2) <= pays <= PAYING_ISSUED + 3 * DAY


def _retainer_invoice(client: Client, person: Person, issued: dt.datetime, now: dt.datetime) -> None:
    """The retainer invoice of ``issued``'s month, issued then as invoice_generation issues it (the
    payments provider, which decides then when, or whether, it is paid)."""
    with at(issued, now):
        today = clock.today()
        key = retainer_key(client.pk, month_start(today))
        invoice = create_invoice(
            client=client,
            kind=Invoice.Kind.RETAINER,
            amount=client.monthly_value,
            currency=client.currency,
            due_on=today + dt.timedelta(days=PAYMENT_TERMS_DAYS),
            key=key,
            description=f"Monthly retainer, {month_start(today):%B %Y}",
        )
        from integrations.roles import get_role

        payments = get_role("payments")
        customer = payments.create_customer(
            idempotency_key=f"client:{client.pk}:customer",
            email=person.email,
            name=person.company.name,
            metadata={"client": str(client.pk)},
        )
        draft = payments.create_invoice(
            idempotency_key=retainer_invoice_key(person),
            customer_id=customer.customer_id,
            lines=[InvoiceLine(description=invoice.description, amount=client.monthly_value)],
            currency=client.currency,
            due_days=PAYMENT_TERMS_DAYS,
            description=invoice.description,
            metadata={"invoice": str(invoice.pk), "key": key},
        )
        final = payments.finalize_invoice(
            idempotency_key=f"{retainer_invoice_key(person)}:finalize", invoice_id=draft.invoice_id
        )
        issue_invoice(invoice=invoice, provider_id=final.invoice_id, payment_url=final.hosted_url)


def retainer_overdue(person: Person, now: dt.datetime) -> None:
    """A retainer whose last invoice went out 20 days ago and is now past its due date."""
    signed = now - dt.timedelta(weeks=10)
    client = _signed(person, signed, now, months=6, monthly=Decimal(4000))
    _mood(person, 0.6)
    _onboarded(client, signed + DAY, now)
    _health(client, now, (72, 70, 69))
    _retainer_invoice(client, person, now - OVERDUE_ISSUED, now)


def renewal_due(person: Person, now: dt.datetime) -> None:
    """A contented client whose contract ends in about 40 days: renewal_manager proposes a renewal."""
    signed = now - dt.timedelta(days=round(30.4 * 5)) + 40 * DAY
    # A small retainer: its twelve-month renewal stays under the amount a proposal may go out
    # without approval (proposal_creation), so the demo's renewal goes out unattended.
    client = _signed(person, signed, now, months=5, monthly=Decimal(1500))
    _mood(person, 0.92)
    _onboarded(client, signed + DAY, now)
    _health(client, now, (80, 82, 84, 83))


def leaving(person: Person, now: dt.datetime) -> None:
    """An unhappy client who declined the renewal last week and whose contract ends tomorrow: served
    to the end, then renewal_manager hands them to offboarding (on the demo's third day). A client
    who declines is not offboarded before the contract they paid for ends, so the contract ends in
    the demo's first days for the offboarding to show (it ended in about 30 days when the decline
    offboarded at once)."""
    signed = now - dt.timedelta(days=round(30.4 * 5)) + DAY
    client = _signed(person, signed, now, months=5, monthly=Decimal(3500))
    _mood(person, 0.15)
    _onboarded(client, signed + DAY, now)
    _health(client, now, (62, 55, 48, 41))
    client.refresh_from_db()
    with at(now - 12 * DAY, now):
        basis = Proposal.objects.get(client=client, status=Proposal.Status.SIGNED)
        renewal = draft_renewal(client=client, contact=client.primary_contact, basis=basis)
        mark_proposal_sent(proposal=renewal, document_id=sandbox_id("doc", KEY, "renewal", person.email))
    with at(now - 4 * DAY, now):
        mark_proposal_declined(proposal=renewal, reason="We have decided not to renew")


def offboarded(person: Person, now: dt.datetime) -> None:
    """A client who left about three months ago; the cool-off ends today (reactivation's win-back)."""
    signed = now - dt.timedelta(days=round(30.4 * 7))
    client = _signed(person, signed, now, months=4, monthly=Decimal(3000))
    _mood(person, 0.35)
    _onboarded(client, signed + DAY, now)
    client.refresh_from_db()
    assert client.contract_end is not None
    ended = dt.datetime.combine(client.contract_end, CALL_HOURS_UTC[0], tzinfo=dt.UTC)
    with at(ended - 3 * DAY, now):
        offboarding = start_offboarding(
            client=client,
            reason=f"the contract ended on {client.contract_end} without a renewal",
            checklist=OFFBOARDING_CHECKLIST,
            # The cool-off ends today: reactivation's latest weekly tick, which the first start
            # runs at once, writes to them.
            reactivation_after=now.date(),
        )
    for index, item in enumerate(OFFBOARDING_CHECKLIST):
        with at(ended + index * DAY, now):
            offboarding = complete_offboarding_item(offboarding=offboarding, item=item)
    with at(ended + len(OFFBOARDING_CHECKLIST) * DAY, now):
        offboarding = record_access_revoked(offboarding=offboarding)
        complete_offboarding(offboarding=offboarding, handover_document="What we built; how to run it.")


# The book: ~8 prospects and ~8 clients, one entry per person, in the order people are assigned.
BOOK: tuple[Entry, ...] = (
    # Four hours ahead, not less: the first start's burst of work (a day of leads, the book's
    # handoffs) keeps the workers busy for the first business hours, and the reminder must not miss.
    Entry("call booked in four hours", booked_call(4), casts=keeps_the_call(4)),
    Entry("call booked tomorrow", booked_call(24)),
    Entry("call booked in two days", booked_call(48)),
    Entry("call booked in three days", booked_call(72)),
    Entry("proposal out for two days", proposal_out(2)),
    Entry("proposal out for five days", proposal_out(5)),
    Entry("signed yesterday", just_signed),
    Entry("mid-delivery (project)", mid_delivery(5, 0)),
    Entry("mid-delivery (retainer)", mid_delivery(7, 5000), casts=pays_soon),
    Entry("retainer, invoice overdue", retainer_overdue, casts=pays_late),
    Entry("renewal due, contented", renewal_due),
    Entry("renewal declined, leaving", leaving),
    Entry("offboarded, cool-off ending", offboarded),
    # Last, so every part above is cast as before: the escalations a human answers.
    Entry("replied with an objection", writes_back("objection")),
    Entry("asked what no FAQ answers", writes_back("question")),
)


SOURCE = "demo book"


def seed_book() -> dict[str, int]:
    """Write the entries not written yet; returns how many of each kind were created.

    An entry is written once: its lead carries the entry's stage (source ``demo book``), so a later
    start, whose clock may cast someone else for a part, finds it there and writes nothing again.
    """
    written = set(Lead.objects.filter(source=SOURCE).values_list("source_ref", flat=True))
    taken = {email for email in Lead.objects.filter(source=SOURCE).values_list("email", flat=True) if email}
    pool = [p for p in market_people() if p.email not in taken]
    created = {"prospects": 0, "clients": 0}
    for entry in BOOK:
        if entry.stage in written:
            continue
        # Each entry is dated from the clock as it is written: at the demo's speed, business time
        # moves on while the book is seeded (minutes of it on a slow machine).
        now = clock.now()
        person = cast(entry, pool, now)
        pool.remove(person)
        with transaction.atomic():
            entry.seed(person, now)
            create_or_update_lead(data={"email": person.email, "source": SOURCE, "source_ref": entry.stage})
        created["clients" if Client.objects.filter(primary_contact__email=person.email).exists() else "prospects"] += 1
    return created
