"""reply_drafting: write the answer to a prospect's reply; send it on autopilot or wait for a human.

Facts: the inbound Message and its intent, the lead, the FAQ entry knowledge_base cited, open slots
from the Calendar role, and the stored sourced findings about the lead (crm.selectors.sourced_findings):
the only facts about the recipient a reply may state, each cited by its source URL (checked).
Decides: the draft (book a call with offered slots, answer with the cited FAQ, handle an objection);
every answer to someone waiting on us (interested, question, objection) offers the open slots, unless
a call is booked already: then the answer names the booked call instead of offering others, and a
prospect's "interested" written after the booking (their "Tuesday at 10:00 works, see you then") gets
no answer at all: the calendar invitation answers it. Answering each such confirmation with three
new times kept threads going for eight rounds after the call was in the diary.
Does: stores the draft as an outbound Message in the thread; sends it through the outbox
(``email.reply``) when AgencyProfile.policy().auto_send_intents allows the intent, otherwise waits
as an approval escalation and sends once approved.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.agents.response._approval import approval_key, decision
from crm.models import Conversation, Lead, Message
from crm.selectors import sourced_findings
from crm.services.agency import profile
from crm.services.findings import Finding
from crm.services.outbound import SEND_KIND, ReplyEmail, may_email
from integrations.values import Slot
from learning.models import FAQ

PROMPT = """You write short, plain-text replies for an AI services agency's sales conversations.
Answer what the prospect wrote: offer the given call slots to someone interested (when a call is
already booked, confirm that call and offer no other times), answer a question
only with the FAQ answer given, meet an objection honestly. State a fact about the recipient or their
company only from the findings given, and list the source URL of every finding you used in cites.
Under 120 words, no pressure, sign with the sender's name."""

SLOTS_OFFERED = 3
SLOT_WINDOW = dt.timedelta(days=7)
# The intents whose writer waits on our answer: each answer offers concrete times. A question or an
# objection answered with "send me a time that suits you" leaves the next move to them, and most
# threads end there; a reply that names times books far more often (sales practice).
OFFER_TIMES = frozenset({"interested", "question", "objection"})
# Objections and the honest answer to each (folded keywords -> reply sentence).
OBJECTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"expensive|budget|price|cost|afford|teuer"),
     "Fair point on budget. Most clients start with a small, fixed-price pilot, so the return is "
     "visible before anything larger is committed."),
    (re.compile(r"already (have|use|work)|in.house|existing (tool|vendor|provider)|we use"),
     "Makes sense that you have something in place. We often work alongside existing tools and only "
     "take on the repetitive part they do not cover."),
    (re.compile(r"time|busy|bandwidth|not a priority|capacity"),
     "Understood that your team is stretched; that is usually where we help most, since we build "
     "and run it for you."),
    (re.compile(r"\bai\b|trust|accura|risk|privacy|gdpr|\bdata\b"),
     "A reasonable concern. Everything runs with your approval steps in place and your data stays "
     "under your control."),
)  # fmt: skip
GENERIC_OBJECTION = "Thanks for being straight with me, that is helpful to hear."


class OpenSlots(BaseModel):
    slots: list[Slot]


class DraftRequest(BaseModel):
    message_id: int
    faq_id: int | None = None


class ReplyFacts(Facts):
    inbound: Message
    lead: Lead
    conversation: Conversation
    intent: str
    faq: FAQ | None = None
    findings: list[Finding] = []
    slots: list[Slot] = []
    sender_name: str = ""
    auto_send: bool = False
    draft: Message | None = None  # stored by an earlier attempt, waiting for approval
    approved: bool = False
    booked_when: str = ""  # the prospect's live call, as they read the time ("Tuesday 3 March at 10:00 (EST)")


class Draft(BaseModel):
    subject: str
    body: str
    cites: list[str] = []  # source URLs of the findings the body states
    faq_id: int | None = None


class Drafted(BaseModel):
    message_id: int | None = None
    sent: bool = False
    waiting_for_approval: bool = False
    cites: list[str] = []
    faq_id: int | None = None
    note: str = ""


def _key(inbound: Message) -> str:
    return f"reply:{inbound.pk}"


@register
class ReplyDrafting(LLMAgent[DraftRequest, Drafted, Draft]):
    name = "reply_drafting"
    category = "response"
    trigger = "handoff"
    Input = DraftRequest
    Facts = ReplyFacts
    Output = Drafted
    Decision = Draft
    system_prompt = PROMPT
    # AGENTS.md's next; email_response_handler already starts meeting_scheduler for an interested
    # reply, in the same chain, so a second start here would only trip the loop guard.
    next = ("meeting_scheduler",)

    def load(self, ctx: RunContext, data: DraftRequest) -> ReplyFacts:
        inbound = Message.objects.select_related("conversation__lead__company").get(pk=data.message_id, direction="in")
        lead = inbound.conversation.lead
        agency = profile()
        facts = ReplyFacts(
            inbound=inbound,
            lead=lead,
            conversation=inbound.conversation,
            intent=inbound.intent,
            faq=FAQ.objects.filter(pk=data.faq_id, approved=True).first() if data.faq_id else None,
            findings=sourced_findings(lead=lead),
            sender_name=agency.sender_name,
            auto_send=inbound.intent in agency.policy().auto_send_intents,
            draft=Message.objects.filter(idempotency_key=_key(inbound)).first(),
        )
        if facts.draft is not None and facts.draft.status == Message.Status.AWAITING_APPROVAL:
            facts.approved = decision(ctx, _key(inbound), "a drafted reply waits for approval") is not None
        if facts.draft is None and inbound.intent in OFFER_TIMES:
            facts.booked_when = self._booked(lead, inbound)
            if not facts.booked_when:
                facts.slots = self._slots(ctx, lead)
        return facts

    @staticmethod
    def _booked(lead: Lead, inbound: Message) -> str:
        """The prospect's live call as they read its time; SkipRun when this "interested" message came
        after the call was booked (a confirmation: the invitation has answered it)."""
        # sales builds on crm: the meeting is read here, never written.
        from sales.agents.meeting.common import LIVE, when_text, zone_of
        from sales.models import Meeting

        live = Meeting.objects.filter(lead=lead, status__in=LIVE, starts_at__isnull=False).order_by("starts_at").first()
        if live is None or live.starts_at is None:
            return ""
        when = when_text(live.starts_at, zone_of(lead))
        if inbound.intent == "interested" and live.created_at < inbound.created_at:
            raise SkipRun(f"{lead} wrote after their call was booked ({when}): the calendar invitation answers them")
        return when

    def _slots(self, ctx: RunContext, lead: Lead) -> list[Slot]:
        start = ctx.now()
        calendar = ctx.roles.calendar
        found = ctx.cached(
            f"calendar:{calendar.name}:slots:{start:%Y-%m-%d}:{lead.time_zone or 'UTC'}",
            lambda: OpenSlots(slots=calendar.available_slots(start=start, end=start + SLOT_WINDOW)),
            model=OpenSlots,
            ttl=dt.timedelta(hours=1),
        )
        return found.slots[:SLOTS_OFFERED]

    def decide(self, ctx: RunContext, facts: ReplyFacts) -> Draft:
        if facts.draft is not None:  # drafted before: the approved text is what goes out
            return Draft(subject=facts.draft.subject, body=facts.draft.body)
        return ctx.brain.decide(facts)

    def prompt(self, ctx: RunContext, facts: ReplyFacts) -> str:
        parts = [f"Intent: {facts.intent}", f"Prospect: {facts.lead.full_name}", f"Their reply:\n{facts.inbound.body}"]
        if facts.faq:
            parts.append(f"FAQ answer to use:\n{facts.faq.answer}")
        if facts.slots:
            parts.append("Open slots (UTC): " + ", ".join(f"{s.start:%a %d %b %H:%M}" for s in facts.slots))
        if facts.booked_when:
            parts.append(f"Call already booked: {facts.booked_when}")
        if facts.findings:
            parts.append("Findings:\n" + "\n".join(f"- {f.claim} ({f.source_url})" for f in facts.findings))
        parts.append(f"Sender: {facts.sender_name}")
        return "\n\n".join(parts)

    def heuristic(self, ctx: RunContext, facts: ReplyFacts) -> Draft:
        first = facts.lead.first_name or "there"
        lines, cites = [f"Hi {first},", ""], []
        if facts.faq is not None:
            lines.append(f"Good question. {facts.faq.answer}")
        elif facts.intent == "objection":
            lines.append(_objection_answer(facts.inbound.body))
        else:
            lines.append("Thanks for getting back to me, glad this is of interest.")
        signal = next((f for f in facts.findings if f.kind in ("signal", "news", "post")), None)
        if signal is not None and facts.intent in ("interested", "objection"):
            lines.append(f"It also fits what I read: {signal.claim.rstrip('.')}.")
            cites.append(signal.source_url)
        if facts.booked_when:
            lines += [
                "",
                f"Our call is booked for {facts.booked_when}; the calendar invitation has the details. "
                "If another time suits you better, reply with it and I will move it.",
            ]
        elif facts.slots:
            lines += ["", "Would one of these times work for a 30-minute call (UTC)?"]
            lines += [f"- {s.start:%A %d %B, %H:%M}" for s in facts.slots]
        elif facts.intent in OFFER_TIMES:
            lines += ["", "Would a short call next week be useful? Send me a time that suits you."]
        lines += ["", "Best,", facts.sender_name]
        subject = facts.inbound.subject or "Our conversation"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        return Draft(subject=subject, body="\n".join(lines), cites=cites, faq_id=facts.faq.pk if facts.faq else None)

    def act(self, ctx: RunContext, facts: ReplyFacts, draft: Draft) -> Drafted:
        inbound, lead = facts.inbound, ctx.lock(facts.lead)
        if not may_email(lead):
            return Drafted(note="the lead may not be contacted: no reply drafted")
        assert lead.email  # may_email checked it
        known = {f.source_url for f in facts.findings}
        note = ""
        if not set(draft.cites) <= known:
            # A claim about the recipient without a stored source: the heuristic's draft goes instead.
            note = f"draft cited unknown sources {sorted(set(draft.cites) - known)}; the heuristic draft replaced it"
            draft = self.heuristic(ctx, facts)
        message = facts.draft or Message.objects.create(
            conversation=facts.conversation,
            direction=Message.Direction.OUT,
            to_email=lead.email,
            from_email=inbound.to_email,
            subject=draft.subject[:998],
            body=draft.body,
            headers={"In-Reply-To": inbound.provider_message_id} if inbound.provider_message_id else {},
            intent=inbound.intent,
            status=Message.Status.DRAFT,
            idempotency_key=_key(inbound),
        )
        out = Drafted(message_id=message.pk, cites=draft.cites, faq_id=draft.faq_id, note=note)
        if message.status not in (Message.Status.DRAFT, Message.Status.AWAITING_APPROVAL):
            out.sent = message.status != Message.Status.FAILED
            return out  # sent (or failed) already
        if not (facts.auto_send or facts.approved):
            message.transition_to(Message.Status.AWAITING_APPROVAL)
            ctx.escalate(
                Escalation.Kind.APPROVAL,
                f"reply to {lead} ({inbound.intent}) waits for approval: the autopilot does not send this intent",
                payload={"message_id": message.pk, "subject": message.subject, "body": message.body},
                dedupe_key=approval_key(_key(inbound)),
                subject=message,
            )
            out.waiting_for_approval = True
            return out
        message.transition_to(Message.Status.QUEUED)
        ctx.act(
            SEND_KIND,
            _key(inbound),
            ReplyEmail(
                message_pk=message.pk,
                to=lead.email,
                from_mailbox=inbound.to_email or message.from_email,
                subject=message.subject,
                body=message.body,
                in_reply_to=inbound.provider_message_id,
            ),
        )
        out.sent = True
        return out


def _objection_answer(text: str) -> str:
    folded = text.lower()
    return next((answer for pattern, answer in OBJECTIONS if pattern.search(folded)), GENERIC_OBJECTION)
