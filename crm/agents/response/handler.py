"""email_response_handler: a reply arrived. Which thread, what do they want, and who acts next?

Facts: the sent Message the reply answers (Message-ID, In-Reply-To, References), its conversation
and enrollment, the sender's lead, and the visible text (no quoted history: our own footer says
"unsubscribe"). The brain: crm.services.replies.classify offline, the model when configured.
Writes: the inbound Message with its intent, Lead.status, the enrollment (a reply stops the
sequence; an out-of-office reply moves the next step past the return date). Routes per intent.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, field_validator

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.response.compliance import gdpr_request
from crm.models import Conversation, Enrollment, Lead, Message
from crm.services import inbound
from crm.services.lead_flow import lead_entered
from crm.services.leads import LeadDataError, create_or_update_lead, lead_set_status
from crm.services.normalize import looks_like_email
from crm.services.replies.classify import Intent, classify
from crm.services.replies.parse import trim_references, visible_text
from crm.services.suppression import record_opt_out
from integrations.webhooks.inputs import EmailEvent

PROMPT = """You read replies to an AI services agency's cold emails and say what the writer wants.
Intents: interested, question, objection, not_now, not_interested, out_of_office, referral, unsubscribe.
Any wish not to be contacted again is unsubscribe, whatever else the reply says. For out_of_office
give the return date if stated; for referral the referred person's name and email if given.
Give short reasons quoting the words that decided."""

# What a person's reply makes of the lead (when its status machine allows; else it stays).
LEAD_STATUS: dict[str, str] = {
    "interested": Lead.Status.INTERESTED,
    "not_interested": Lead.Status.LOST,
    "question": Lead.Status.REPLIED,
    "objection": Lead.Status.REPLIED,
    "not_now": Lead.Status.REPLIED,
    "referral": Lead.Status.REPLIED,
}
# Intents a person is waiting on us for.
WAITING = frozenset({"interested", "question", "objection"})


class InboundEmail(EmailEvent):
    """An EmailEvent (the webhook's) plus the headers a raw message carries (manage.py ingest_email)."""

    in_reply_to: str = ""
    references: list[str] = []
    auto_reply: bool = False
    sender_name: str = ""

    @field_validator("references")
    @classmethod
    def _trimmed(cls, value: list[str]) -> list[str]:
        return list(trim_references(value))


class Verdict(BaseModel):
    intent: Intent
    confidence: float = 0.5
    reasons: list[str] = []
    return_date: dt.date | None = None
    referral_name: str = ""
    referral_email: str = ""


class Reply(Facts):
    data: InboundEmail
    key: str
    text: str
    received: dt.date
    lead: Lead | None = None
    sent: Message | None = None
    conversation: Conversation | None = None
    enrollment: Enrollment | None = None
    client_contact: Lead | None = None  # the client's primary contact, when the sender works at a client
    survey_waiting: bool = False  # that client has a survey waiting for an answer
    skip: str = ""


class Handled(BaseModel):
    intent: str = ""
    message_id: int | None = None
    lead_id: int | None = None
    routed: list[str] = []
    note: str = ""


@register
class EmailResponseHandler(LLMAgent[InboundEmail, Handled, Verdict]):
    name = "email_response_handler"
    category = "response"
    trigger = "event"
    Input = InboundEmail
    Facts = Reply
    Output = Handled
    Decision = Verdict
    system_prompt = PROMPT
    next = (
        "unsubscribe_compliance",
        "knowledge_base",
        "reply_drafting",
        "conversation_intelligence",
        "meeting_scheduler",
        "change_request",
        "satisfaction_survey",
        "exit_survey",
    )

    def load(self, ctx: RunContext, data: InboundEmail) -> Reply:
        sender = data.lead_email.strip().lower()
        text = visible_text(data.text) if data.kind == "reply" else data.text
        key = inbound.inbound_key(message_id=data.message_id, sender=sender, text=text)
        when = data.occurred_at or ctx.now()
        facts = Reply(data=data, key=key, text=text, received=when.date())
        if Message.objects.filter(idempotency_key=key).exists():
            facts.skip = "this message was recorded already"
            return facts
        keys = [data.in_reply_to, *reversed(data.references)] if data.in_reply_to else list(reversed(data.references))
        facts.sent = inbound.find_sent(keys=keys)
        facts.lead = Lead.objects.select_related("company").filter(email=sender).first() if sender else None
        if facts.lead is None and facts.sent is not None:
            facts.lead = facts.sent.conversation.lead  # a colleague answered from another address
        if facts.lead is None:
            return facts  # still read: an opt-out from an address we do not know is honoured too
        facts.client_contact = _client_contact(facts.lead)
        facts.survey_waiting = facts.client_contact is not None and _survey_waiting(facts.lead, ctx.now())
        facts.conversation = inbound.thread_for(lead=facts.client_contact or facts.lead, sent=facts.sent)
        facts.enrollment = inbound.running_enrollment(lead=facts.lead, sent=facts.sent)
        return facts

    def decide(self, ctx: RunContext, facts: Reply) -> Verdict:
        if facts.skip:
            return Verdict(intent="question", confidence=0.0, reasons=[facts.skip])
        if facts.data.kind == "bounce":
            return Verdict(
                intent="bounce", confidence=1.0, reasons=[f"bounce event ({facts.data.bounce_type or 'soft'})"]
            )
        verdict: Verdict = ctx.brain.decide(facts)
        if verdict.intent != "unsubscribe" and (request := gdpr_request(facts.text)):
            # Whatever the brain read, a GDPR request is an opt-out first (compliance handles the rest).
            return Verdict(intent="unsubscribe", confidence=1.0, reasons=[*verdict.reasons, request])
        return verdict

    def prompt(self, ctx: RunContext, facts: Reply) -> str:
        return f"Received: {facts.received}\nSubject: {facts.data.subject}\n\n{facts.text}"

    def heuristic(self, ctx: RunContext, facts: Reply) -> Verdict:
        found = classify(facts.text or facts.data.subject, received=facts.received, auto=facts.data.auto_reply)
        referral = found.referral
        return Verdict(
            intent=found.intent,
            confidence=found.confidence,
            reasons=list(found.reasons),
            return_date=found.return_date,
            referral_name=referral.name if referral else "",
            referral_email=referral.email if referral else "",
        )

    def act(self, ctx: RunContext, facts: Reply, verdict: Verdict) -> Handled:
        if facts.skip:
            return Handled(note=facts.skip)
        if facts.lead is None:
            return self._stranger(ctx, facts, verdict)
        lead = ctx.lock(facts.lead)
        data, intent = facts.data, verdict.intent
        owner = facts.client_contact or lead
        conversation = facts.conversation or Conversation.objects.create(lead=owner)
        now = data.occurred_at or ctx.now()
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            enrollment=facts.enrollment,
            from_email=data.lead_email,
            to_email=data.mailbox,
            subject=data.subject[:998],
            body=facts.text,
            headers=_headers(data),
            provider_message_id=data.message_id[:255],
            status=Message.Status.DELIVERED if intent != "bounce" else Message.Status.BOUNCED,
            sent_at=now,
            intent=intent,
            idempotency_key=facts.key,
        )
        ctx.update(
            conversation,
            action="conversation.message_in",
            note={"message": message.pk, "reasons": verdict.reasons},
            intent=intent,
            last_message_at=now,
            status=Conversation.Status.WAITING if intent in WAITING else conversation.status,
        )
        out = Handled(intent=intent, message_id=message.pk, lead_id=lead.pk)
        if intent == "bounce":
            out.note = self._bounce(facts, lead)
            return out
        if facts.sent is not None and facts.sent.STATUS_MACHINE.allowed(facts.sent.status, Message.Status.REPLIED):
            facts.sent.transition_to(Message.Status.REPLIED)
        survey_of = _exit_survey_waiting(lead, now) if intent != "unsubscribe" else None
        if survey_of is not None:
            # The answer to a departing client's exit survey: exit_survey reads and records it.
            ctx.handoff("exit_survey", {"offboarding_id": survey_of, "message_id": message.pk})
            out.routed = ["exit_survey", *self._route(ctx, ["conversation_intelligence"], message, conversation)]
            return out
        if facts.client_contact is not None:
            # A client's words are delivery work, not a sales reply; they may also answer our survey.
            routes = ["change_request", "conversation_intelligence"]
            if facts.survey_waiting:
                routes.insert(0, "satisfaction_survey")
            out.routed = self._route(ctx, routes, message, conversation)
            return out
        if intent == "unsubscribe":
            # Honoured here at once; unsubscribe_compliance stops the rest and handles GDPR requests.
            record_opt_out(email=lead.email or data.lead_email, reason="unsubscribe", source=self.name)
            ctx.handoff(
                "unsubscribe_compliance",
                {"kind": "unsubscribe", "lead_email": lead.email or data.lead_email, "subject": data.subject,
                 "text": facts.text, "message_id": data.message_id},
            )  # fmt: skip
            out.routed = ["unsubscribe_compliance"]
            return out
        self._sequence(ctx, facts.enrollment, intent, verdict, lead)
        if intent in LEAD_STATUS and lead.status != LEAD_STATUS[intent]:
            target = LEAD_STATUS[intent]
            if not lead.STATUS_MACHINE.allowed(lead.status, target):
                target = Lead.Status.REPLIED
            if lead.STATUS_MACHINE.allowed(lead.status, target) and lead.status != target:
                lead_set_status(lead=lead, status=target, reason=f"reply: {intent}")
        if intent == "referral":
            out.note = _referred(verdict)
        routes = {
            "question": ["knowledge_base"],
            "objection": ["reply_drafting"],
            # The call is booked first, so the answer confirms it instead of offering other times.
            "interested": ["meeting_scheduler", "reply_drafting"],
        }.get(intent, [])
        out.routed = self._route(ctx, [*routes, "conversation_intelligence"], message, conversation)
        return out

    def _stranger(self, ctx: RunContext, facts: Reply, verdict: Verdict) -> Handled:
        """No lead and no thread: nothing to record, but an opt-out is never dropped."""
        out = Handled(intent=verdict.intent, note="no lead has this address and the message answers none of ours")
        if verdict.intent == "unsubscribe" and looks_like_email(facts.data.lead_email):
            record_opt_out(email=facts.data.lead_email, reason="unsubscribe", source=self.name)
            out.note += "; the opt-out is on the suppression list"
        return out

    def _sequence(
        self, ctx: RunContext, enrollment: Enrollment | None, intent: str, verdict: Verdict, lead: Lead
    ) -> None:
        """A person's reply ends the sequence; an out-of-office one only moves its next step."""
        if enrollment is None:
            return
        enrollment = ctx.lock(enrollment)
        if enrollment.status not in (Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED):
            return
        if intent == "out_of_office":
            when = inbound.resume_at(back_on=verdict.return_date, now=ctx.now(), time_zone=lead.time_zone)
            ctx.update(
                enrollment,
                action="enrollment.rescheduled",
                note={"return_date": str(verdict.return_date or "")},
                next_send_at=when,
            )
            return
        enrollment.next_send_at = None
        enrollment.stopped_reason = f"replied: {intent}"
        enrollment.transition_to(Enrollment.Status.REPLIED, also=["next_send_at", "stopped_reason"])

    def _bounce(self, facts: Reply, lead: Lead) -> str:
        hard = facts.data.bounce_type.strip().lower() in ("hard", "permanent")
        if facts.sent is not None and facts.sent.STATUS_MACHINE.allowed(facts.sent.status, Message.Status.BOUNCED):
            facts.sent.transition_to(Message.Status.BOUNCED)
        if hard and lead.email:
            record_opt_out(email=lead.email, reason="hard_bounce", source=self.name)
            return "hard bounce: address suppressed"
        return "soft bounce: the sequence carries on"

    def _route(self, ctx: RunContext, names: list[str], message: Message, conversation: Conversation) -> list[str]:
        inputs = {
            "knowledge_base": {"message_id": message.pk},
            "reply_drafting": {"message_id": message.pk},
            "meeting_scheduler": {"lead_id": conversation.lead_id},
            "change_request": {"message_id": message.pk},
            "satisfaction_survey": {"message_id": message.pk},
            "conversation_intelligence": {"conversation_id": conversation.pk},
        }
        for name in names:
            ctx.handoff(name, inputs[name])
        return names


def _headers(data: InboundEmail) -> dict[str, str]:
    headers = {"Message-ID": data.message_id, "In-Reply-To": data.in_reply_to, "References": " ".join(data.references)}
    return {k: v for k, v in headers.items() if v}


def _client_contact(lead: Lead) -> Lead | None:
    from sales.models import Client  # sales builds on crm; the lookup is the only link back

    # An offboarded client's people are a sales conversation again (a win-back), not delivery work.
    if lead.company_id is None:
        return None
    client = Client.objects.filter(company_id=lead.company_id).exclude(status=Client.Status.OFFBOARDED).first()
    if client is None:
        return None
    return client.primary_contact or lead


def _survey_waiting(lead: Lead, now: dt.datetime) -> bool:
    from delivery.services.retention import survey_awaiting_answer  # delivery builds on crm, like sales above

    return lead.company_id is not None and survey_awaiting_answer(company_id=lead.company_id, now=now) is not None


def _exit_survey_waiting(lead: Lead, now: dt.datetime) -> int | None:
    from delivery.selectors import offboarding_awaiting_exit_answer  # delivery builds on crm, as sales does

    return offboarding_awaiting_exit_answer(company_id=lead.company_id, now=now) if lead.company_id else None


def _referred(verdict: Verdict) -> str:
    """The person they pointed us to enters the lead flow like any other new lead."""
    if not verdict.referral_email:
        return f"referral without an address ({verdict.referral_name or 'no name'}): nobody created"
    first, _, last = verdict.referral_name.partition(" ")
    try:
        result = create_or_update_lead(
            data={"email": verdict.referral_email, "first_name": first, "last_name": last, "source": "referral"},
            overwrite=False,
        )
    except LeadDataError as exc:
        return f"referral not stored: {exc}"
    if result.created:
        lead_entered(lead=result.lead, source="referral")
    return f"referral: lead #{result.lead.pk}"
