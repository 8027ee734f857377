"""proposal_follow_up: chase sent proposals nobody signed yet, on a cadence; let stale ones expire.

Every day (business time) it looks at sent and viewed proposals, in one bounded batch:
- a **follow-up** is due when the buyer has had it ``CADENCE[n-1]`` business days (2, 5, 10 in their
  country's calendar, counted in their zone) and fewer than ``len(CADENCE)`` follow-ups went out;
  never on their weekend or a public holiday. A viewed proposal gets a different note (they read it:
  what is holding it up?) than an unviewed one (did it reach you? here is the gist);
- a proposal **past its validity** (``valid_until`` before the buyer's today) expires: status
  expired, a last short note, and the lead is lost for now, to be approached again after the
  cool-off (``reactivate_after``).
PandaDoc's own state is read first: a buyer who decided there is not written to (the webhook
settles it), one who viewed it gets the viewed note even if that webhook is late.
The brain writes each note (checked: it must not mention another price than the proposal's total);
each goes out through crm.services.outbound.queue_email under ``proposal:<id>:follow-up:<n>`` or
``proposal:<id>:expired``, so a second run the same day sends nothing twice.

Why 2, 5 and 10: the common B2B cadence is a first nudge within two or three days, then spacing
that doubles, and no more than three before the validity runs out; closer than that reads as
pressure (a judgement; the sandbox's buyer answers to the same spacing).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.db.models import Q
from pydantic import BaseModel, Field

from agents.base import Empty, Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._timing import is_business_day
from crm.models import Lead
from crm.services.agency import profile
from crm.services.outbound import queue_email
from integrations.http.errors import NotFoundError
from sales.agents.proposal._common import (
    LIVE,
    advance_lead,
    in_your_words,
    local_today,
    move,
    reactivation_date,
    valid_days,
    zone_of,
)
from sales.models import Proposal
from sales.services.requirements import read_requirements

CADENCE = (2, 5, 10)
DECIDED_AT_PANDADOC = frozenset({"completed", "declined", "voided", "expired"})
BATCH = 100
PROMPT = """You write short follow-up emails about a proposal an AI services agency sent.
Plain text, under 110 words, friendly and direct, no pressure and no fake urgency. If they viewed it,
ask what is holding it up and offer to adjust scope or phasing; if not, check it reached them and
give its gist in one sentence. For the last note before or at expiry, close the loop politely and
leave the door open. Mention no price other than the total given. Sign with the sender's name."""
_AMOUNT = re.compile(r"[$€£]\s?\d[\d,.]*|\d[\d,.]*\s?(USD|EUR|GBP)")


class Due(BaseModel):
    """One proposal's note today (JSON only: the brain sees this)."""

    proposal_id: int
    kind: str  # "follow_up" or "expired"
    number: int = 0  # the follow-up's number, 1-based
    of: int = len(CADENCE)
    viewed: bool = False
    title: str
    first_name: str = ""
    company: str = ""
    needs: list[str] = Field(default_factory=list)
    total: str
    valid_until: str
    business_days: int = 0
    sender_name: str = ""


class Note(BaseModel):
    subject: str = Field(max_length=200)
    body: str = Field(max_length=2000)


class Notes(BaseModel):
    notes: list[Note]


class FollowUpFacts(Facts):
    due: list[Due]
    proposals: dict[int, Proposal]


class Chased(BaseModel):
    followed_up: list[str] = Field(default_factory=list)
    expired: list[int] = Field(default_factory=list)
    not_contactable: list[int] = Field(default_factory=list)
    moved_on: list[int] = Field(default_factory=list)


def cadence() -> tuple[int, ...]:
    return tuple(getattr(settings, "PROPOSAL_FOLLOW_UP_DAYS", CADENCE))


def business_days_between(start: dt.date, end: dt.date, *, country: str) -> int:
    """Business days after ``start`` up to and including ``end`` (the buyer's calendar)."""
    days, day = 0, start
    while day < end and days < 60:
        day += dt.timedelta(days=1)
        if is_business_day(day, weekdays=(1, 2, 3, 4, 5), country=country):
            days += 1
    return days


def money(amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale="en_US")


@register
class ProposalFollowUp(LLMAgent[Empty, Chased, Note]):
    name, category, trigger, queue = "proposal_follow_up", "proposal", "schedule", "llm"
    Facts, Output, Decision = FollowUpFacts, Chased, Note
    schedule = "0 14 * * *"  # daily, 14:00 UTC: morning in the Americas, afternoon in Europe
    system_prompt = PROMPT

    def load(self, ctx: RunContext, data: Empty) -> FollowUpFacts:
        now, steps, sender = ctx.now(), cadence(), profile().sender_name
        live = (
            Proposal.objects.filter(status__in=LIVE, sent_at__isnull=False)
            .filter(Q(lead__isnull=True) | Q(lead__do_not_contact=False))
            .select_related("lead", "company")
            .order_by("sent_at", "pk")
        )
        due: list[Due] = []
        proposals: dict[int, Proposal] = {}
        for proposal in live[: BATCH * 3]:
            assert proposal.sent_at is not None
            lead = proposal.lead
            today = local_today(now, lead)
            valid_until = proposal.valid_until or (proposal.sent_at.date() + dt.timedelta(days=valid_days()))
            item = Due(
                proposal_id=proposal.pk,
                kind="follow_up",
                viewed=proposal.status == Proposal.Status.VIEWED,
                title=proposal.title,
                first_name=lead.first_name if lead else "",
                company=getattr(proposal.company, "name", ""),
                needs=[in_your_words(s.text) for s in read_requirements(proposal.requirements).needs[:2]],
                total=money(proposal.total, proposal.currency),
                valid_until=valid_until.isoformat(),
                sender_name=sender,
            )
            if today > valid_until:
                item.kind = "expired"
            else:
                country = lead.country if lead else ""
                if not is_business_day(today, weekdays=(1, 2, 3, 4, 5), country=country):
                    continue
                sent_on = proposal.sent_at.astimezone(zone_of(lead)).date()
                item.business_days = business_days_between(sent_on, today, country=country)
                item.number = proposal.follow_ups_sent + 1
                if item.number > len(steps) or item.business_days < steps[item.number - 1]:
                    continue
            state = self._document_state(ctx, proposal)
            if state in DECIDED_AT_PANDADOC:
                continue  # they answered there; its webhook is on the way (or was lost: replayed)
            item.viewed = item.viewed or state == "viewed"
            due.append(item)
            proposals[proposal.pk] = proposal
            if len(due) >= BATCH:
                break
        return FollowUpFacts(due=due, proposals=proposals)

    def _document_state(self, ctx: RunContext, proposal: Proposal) -> str:
        """PandaDoc's own state of the document, read before writing to the buyer: a reminder to
        someone who signed an hour ago, or a note calling it expired, is worse than none."""
        if not proposal.document_id:
            return ""
        try:
            return ctx.roles.documents.get_status(proposal.document_id).status
        except NotFoundError:
            ctx.log.warning("proposal %s: PandaDoc does not know its document", proposal.pk)
            return ""

    def decide(self, ctx: RunContext, facts: FollowUpFacts) -> Notes:
        notes = []
        for item in facts.due:

            def check(note: Note, item: Due = item) -> str | None:
                amounts = {a.group(0).strip() for a in _AMOUNT.finditer(note.body)}
                wrong = [a for a in amounts if a.replace(" ", "") not in item.total.replace(" ", "")]
                return f"mentions amounts not on the proposal: {wrong}" if wrong else None

            notes.append(ctx.brain.decide_checked(item, check=check))
        return Notes(notes=notes)

    def prompt(self, ctx: RunContext, item: Due) -> str:
        what = (
            "the last note: the proposal has expired"
            if item.kind == "expired"
            else f"follow-up {item.number} of {item.of}, {item.business_days} business days after sending"
        )
        return (
            f"Write {what}.\nBuyer: {item.first_name} at {item.company}\nProposal: {item.title}\n"
            f"Viewed: {'yes' if item.viewed else 'no'}\nTheir needs: {'; '.join(item.needs) or 'n/a'}\n"
            f"Total: {item.total}\nValid until: {item.valid_until}\nSender: {item.sender_name}"
        )

    def heuristic(self, ctx: RunContext, item: Due) -> Note:
        hi = f"Hi {item.first_name or 'there'},"
        need = item.needs[0].rstrip(".") if item.needs else ""
        valid = dt.date.fromisoformat(item.valid_until).strftime("%d %B")
        if item.kind == "expired":
            body = [
                hi,
                "",
                f"The proposal for {item.title} expired on {valid}, so I'll close it on our side for now.",
                "If the timing changes, reply to this email and I'll put together an updated version.",
            ]
            subject = f"Closing the loop: {item.title}"
        elif item.viewed:
            body = [
                hi,
                "",
                f"I saw you had a look at the proposal for {item.title}. Is anything holding it up?",
                "If the scope or the phasing needs to change, or someone else should see it, tell me and I'll "
                "adjust it.",
            ]
            subject = f"Re: {item.title}: any questions?"
        else:
            gist = f" In short: {item.title}, {item.total} in total" + (f", to fix that {need}" if need else "")
            body = [hi, "", f"Just making sure the proposal reached you.{gist}."]
            subject = f"Did the proposal reach you? {item.title}"
        if item.kind != "expired" and item.number == item.of:
            body.append(f"It is valid until {valid}; this is the last time I'll nudge you about it.")
        body += ["", "Best,", item.sender_name]
        return Note(subject=subject[:200], body="\n".join(body))

    def act(self, ctx: RunContext, facts: FollowUpFacts, decided: Notes) -> Chased:
        out = Chased()
        for item, note in zip(facts.due, decided.notes, strict=True):
            proposal = ctx.lock(facts.proposals[item.proposal_id])
            lead = proposal.lead
            moved = proposal.status not in LIVE or (
                item.kind == "follow_up" and proposal.follow_ups_sent != item.number - 1
            )
            if moved:
                out.moved_on.append(proposal.pk)  # signed, declined or chased by another run meanwhile
                continue
            if item.kind == "expired":
                self._expire(ctx, proposal, lead, note, out)
                continue
            key = f"proposal:{proposal.pk}:follow-up:{item.number}"
            sent = lead is not None and queue_email(
                ctx, key=key, lead=lead, subject=note.subject, body=note.body, intent="proposal_follow_up"
            )
            if not sent:
                out.not_contactable.append(proposal.pk)
                continue
            ctx.update(proposal, action="proposal.followed_up", follow_ups_sent=item.number)
            out.followed_up.append(key)
        return out

    def _expire(self, ctx: RunContext, proposal: Proposal, lead: Lead | None, note: Note, out: Chased) -> None:
        today = local_today(ctx.now(), lead)
        move(
            ctx, proposal, Proposal.Status.EXPIRED, action="proposal.expired", reactivate_after=reactivation_date(today)
        )
        if lead is not None:
            queue_email(
                ctx,
                key=f"proposal:{proposal.pk}:expired",
                lead=lead,
                subject=note.subject,
                body=note.body,
                intent="proposal_expired",
            )
            advance_lead(lead, Lead.Status.LOST, f"proposal {proposal.pk} expired unsigned")
        out.expired.append(proposal.pk)
