"""change_request: a client wrote to us; is it a change to the agreed scope, and what does it cost?

Started by email_response_handler for every inbound message from a client's contact (and by
progress_tracking for a change an operator rejected). Facts: the message, the client, its open
project, the change request this message raised before (and its approval), and the language the
message is in.
Decides: what the message is (a scope change, a defect, a question, thanks), the change in a
sentence, its asks, and an estimate in hours (the brain, checked: a change needs a summary in the
client's own words and hours; offline ``read_message``, patterns of how clients ask). A message we
cannot read (another language) is not guessed at.
Does:
- a scope change: a ChangeRequest, priced through the pricing service, a quick answer to the client
  (received, being estimated) and an approval request to an operator; once approved, a milestone
  with the change's tasks on the PM tool, the hours committed, and the confirmation with the price;
  once rejected, a polite no;
- a defect: a fix task on the PM tool and a quick answer that we are on it;
- a message in another language: a short answer that a colleague will reply, and an escalation to
  a person who reads it;
- a question: an escalation so a person answers; thanks: nothing to do.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Lead, Message
from crm.services.outbound import queue_email
from delivery.agents.projects.common import (
    add_working_days,
    blended_rate,
    change_key,
    half_hours,
    move,
    overlap,
    project_pace,
    working_days_for,
)
from delivery.agents.projects.language import detect, name_of
from delivery.agents.projects.planning import BUFFER
from delivery.agents.projects.pm_tool import push
from delivery.agents.projects.pricing_adapter import quote_change
from delivery.models import ChangeRequest, Project, ProjectTask
from delivery.services.projects import add_milestone, add_project_tasks, record_change_request
from sales.models import Client

PROMPT = """You read a client's email to an AI services agency that is delivering a project for them.
Say what it is: scope_change (they ask for something beyond what was agreed: a new feature, channel,
language, integration or workflow), bug_report (something delivered does not work as it should),
question, thanks, or other. For a scope change give a one-sentence summary in the client's words,
each distinct ask, its size (small: wording, colours, labels; medium: a change to existing work;
large: a new integration, channel, language or workflow) and an estimate in hours."""

OPEN = (Project.Status.PLANNING, Project.Status.ACTIVE, Project.Status.ON_HOLD)
ALREADY_FIXING = (
    "Thanks, we have this one on our board already and are fixing it; we will let you know as soon as it is done."
)
SIZE_HOURS = {"small": Decimal("6"), "medium": Decimal("16"), "large": Decimal("40")}  # judgement, agency practice
MAX_ASKS = 3
_ASK = re.compile(
    r"\b(?:could|can|would|will) (?:we|you) (?:please |also |maybe )*(?:add|include|extend|integrate|connect|build|"
    r"support|change|make|create|set up|turn)\b|\b(?:we'?d|we would|i'?d|i would) (?:also |really )?like (?:to add|to "
    r"have|to extend|you to|an?|another|the option)\b|"
    r"\balso (?:add|build|include|support|connect|create|send|handle)\b|\badd(?:ing)? (?:a|an|another|support|"
    r"spanish|french|german|more)\b|\banother (?:channel|language|workflow|integration|bot|report)\b|"
    r"\bnew feature\b|\binstead of\b|\bextend\b|\bone more (?:thing|workflow|feature|channel)\b",
    re.I,
)
_BUG = re.compile(
    r"\b(?:not working|doesn'?t work|does not work|stopped|broken|bug|error|crash\w*|fail\w*|wrong|incorrect|"
    r"isn'?t (?:showing|working)|not showing|take a look|look into|issue|problem)\b",
    re.I,
)
_THANKS = re.compile(r"\b(?:thanks?|thank you|great (?:job|work)|appreciate\w*|happy with|love it|well done)\b", re.I)
_LARGE = re.compile(
    r"integrat|language|spanish|french|german|translat|channel|whatsapp|sms|voice|phone|migrat|\bapi\b|workflow|"
    r"invoice|accounting|crm\b",
    re.I,
)
_SMALL = re.compile(r"typo|wording|copy|colou?r|logo|rename|label|font|button|small|minor|tweak", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class MessageRef(BaseModel):
    message_id: int


class Reading(BaseModel):
    kind: Literal["scope_change", "bug_report", "question", "thanks", "other"]
    summary: str = Field(default="", max_length=400)
    asks: list[str] = Field(default_factory=list)
    size: Literal["small", "medium", "large"] = "medium"
    estimate_hours: Decimal = Field(default=Decimal("0"), ge=0, le=400)
    reasons: list[str] = Field(default_factory=list)


class Inbound(Facts):
    message: Message
    sender: Lead
    client: Client | None = None
    project: Project | None = None
    language: str = ""
    change: ChangeRequest | None = None
    approval: str = ""  # approved, rejected, or "" (not asked yet)
    decision_note: str = ""


class Handled(BaseModel):
    kind: str
    change_request_id: int | None = None
    status: str = ""
    price: Decimal | None = None
    currency: str = ""
    hours: Decimal | None = None
    answered: bool = False
    tasks: list[str] = Field(default_factory=list)
    note: str = ""


def read_message(text: str) -> Reading:
    """The offline reading: how clients ask for more, report a defect, ask or thank."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    asks = [s for s in sentences if _ASK.search(s)]
    if asks:
        asks = asks[:MAX_ASKS]
        size: Literal["small", "medium", "large"] = (
            "large"
            if any(_LARGE.search(a) for a in asks)
            else "small"
            if all(_SMALL.search(a) for a in asks)
            else "medium"
        )
        hours = (
            SIZE_HOURS[size] * len(asks)
            if size != "large"
            else SIZE_HOURS["large"] + SIZE_HOURS["medium"] * (len(asks) - 1)
        )
        return Reading(
            kind="scope_change",
            summary=asks[0][:400],
            asks=asks,
            size=size,
            estimate_hours=hours,
            reasons=[f"asks for more: {asks[0][:120]!r}"],
        )
    if _BUG.search(text):
        found = next(s for s in sentences if _BUG.search(s)) if sentences else text
        return Reading(
            kind="bug_report",
            summary=sentences[0][:400] if sentences else "",
            reasons=[f"reports a defect: {found[:120]!r}"],
        )
    if _THANKS.search(text) and "?" not in text:
        return Reading(kind="thanks", reasons=["thanks us"])
    if "?" in text:
        return Reading(
            kind="question", summary=next(s for s in sentences if "?" in s)[:400], reasons=["asks a question"]
        )
    return Reading(kind="other", reasons=["neither a change, a defect, a question nor thanks"])


def reading_problem(reading: Reading, text: str) -> str | None:
    if reading.kind != "scope_change":
        return None
    if not reading.summary or reading.estimate_hours <= 0:
        return "a scope change needs a summary and an estimate"
    if overlap(reading.summary, text) < 0.3:
        return "the summary is not in the client's words"
    return None


def _reply_subject(message: Message) -> str:
    subject = message.subject or "Your message"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


@register
class ChangeRequestAgent(LLMAgent[MessageRef, Handled, Reading]):
    name = "change_request"
    category = "delivery"
    trigger = ("event", "handoff")
    Input = MessageRef
    Facts = Inbound
    Output = Handled
    Decision = Reading
    system_prompt = PROMPT
    next = ("pricing",)  # AGENTS.md; the price comes from the pricing service directly (pricing_adapter)

    def load(self, ctx: RunContext, data: MessageRef) -> Inbound:
        message = Message.objects.select_related("conversation__lead__company").get(pk=data.message_id)
        if message.direction != Message.Direction.IN:
            raise SkipRun(f"message #{message.pk} is one of ours, not the client's")
        # The thread is the client's; the writer may be a colleague of its primary contact.
        sender = Lead.objects.filter(email=message.from_email.strip().lower()).first() if message.from_email else None
        sender = sender or message.conversation.lead
        client = (
            Client.objects.select_related("company", "primary_contact").filter(company_id=sender.company_id).first()
            if sender.company_id
            else None
        )
        facts = Inbound(
            message=message, sender=sender, client=client, language=detect(f"{message.subject}\n{message.body}")
        )
        if client is not None:
            facts.project = Project.objects.filter(client=client, status__in=OPEN).order_by("-pk").first()
        facts.change = ChangeRequest.objects.filter(source_message=message).select_related("project").first()
        if facts.change is not None and facts.change.status == ChangeRequest.Status.AWAITING_APPROVAL:
            asked = (
                Escalation.objects.filter(
                    kind=Escalation.Kind.APPROVAL, dedupe_key=f"approval:{change_key(facts.change)}"
                )
                .order_by("-pk")
                .first()
            )
            if asked is not None and asked.status in (Escalation.Status.APPROVED, Escalation.Status.REJECTED):
                facts.approval, facts.decision_note = str(asked.status), asked.decision_note
            elif asked is not None:
                ctx.require_approval(change_key(facts.change), "a change request waits for an operator's approval")
        return facts

    def decide(self, ctx: RunContext, facts: Inbound) -> Reading:
        if facts.change is not None:
            return Reading(kind="scope_change", summary=facts.change.description, reasons=["recorded before"])
        if facts.language not in ("", "en"):
            return Reading(kind="other", reasons=[f"written in {name_of(facts.language)}: not read automatically"])
        text = facts.message.body or facts.message.subject
        return ctx.brain.decide_checked(facts, check=lambda r: reading_problem(r, text))

    def prompt(self, ctx: RunContext, facts: Inbound) -> str:
        project = facts.project.name if facts.project is not None else "(no open project)"
        return f"Project: {project}\nSubject: {facts.message.subject}\n\n{facts.message.body}"

    def heuristic(self, ctx: RunContext, facts: Inbound) -> Reading:
        return read_message(facts.message.body or facts.message.subject)

    # --- acting -----------------------------------------------------------------------------------
    def act(self, ctx: RunContext, facts: Inbound, reading: Reading) -> Handled:
        if facts.client is None:
            return Handled(kind=reading.kind, note="the sender works at no client of ours: not a delivery matter")
        if facts.change is not None:
            return self._decided(ctx, facts)
        if facts.language not in ("", "en"):
            return self._foreign(ctx, facts)
        if reading.kind == "scope_change":
            return self._new_change(ctx, facts, reading)
        if reading.kind == "bug_report":
            return self._defect(ctx, facts, reading)
        if reading.kind == "question":
            self._tell(
                ctx, facts, "question", f"{facts.client}: a client question needs an answer: {reading.summary!r}"
            )
            return Handled(kind="question", note="a person answers questions about the work: escalated")
        return Handled(kind=reading.kind, note="; ".join(reading.reasons) or "nothing to do")

    def _answer(self, ctx: RunContext, facts: Inbound, key: str, lines: list[str]) -> bool:
        first = facts.sender.first_name or "there"
        body = "\n".join([f"Hi {first},", "", *lines, "", "Best,", "The delivery team"])
        sent = queue_email(
            ctx,
            key=key,
            lead=facts.sender,
            subject=_reply_subject(facts.message),
            body=body,
            intent="change_request",
            in_reply_to=facts.message.provider_message_id,
        )
        return sent is not None

    def _tell(self, ctx: RunContext, facts: Inbound, what: str, reason: str) -> None:
        ctx.escalate(
            Escalation.Kind.POLICY,
            reason,
            {"message_id": facts.message.pk, "client_id": facts.client.pk if facts.client else None},
            wait=False,
            dedupe_key=f"message:{facts.message.pk}:{what}",
            subject=facts.message,
        )

    def _foreign(self, ctx: RunContext, facts: Inbound) -> Handled:
        language = name_of(facts.language)
        self._tell(
            ctx,
            facts,
            "language",
            f"{facts.client}: a message in {language} that we do not read automatically; "
            "a person who reads it should answer (it may ask for a change)",
        )
        answered = self._answer(
            ctx,
            facts,
            f"message:{facts.message.pk}:received",
            ["Thank you for your message. A colleague will read it and come back to you shortly."],
        )
        return Handled(kind="other", answered=answered, note=f"written in {language}: recorded and escalated, not read")

    def _new_change(self, ctx: RunContext, facts: Inbound, reading: Reading) -> Handled:
        project = facts.project
        if project is None:
            self._tell(
                ctx,
                facts,
                "no_project",
                f"{facts.client} asks for a change but has no open project: {reading.summary!r}",
            )
            return Handled(kind="scope_change", note="no open project to change: escalated")
        hours = half_hours(reading.estimate_hours or SIZE_HOURS[reading.size])
        quote = quote_change(reading.summary, hours=hours)
        change = record_change_request(
            project=project,
            description=reading.summary,
            price=quote.price,
            currency=quote.currency,
            source_message=facts.message,
        )
        if quote.estimate and any(f.name == "estimate" for f in ChangeRequest._meta.get_fields()):
            ctx.update(change, action="change_request.estimated", estimate=quote.estimate)
        answered = self._answer(
            ctx,
            facts,
            f"{change_key(change)}:received",
            [
                f"Thanks for this. We have logged it as a change to the agreed scope: {reading.summary}",
                "We are estimating the work and the timing and will confirm both within two business days.",
            ],
        )
        if change.status == ChangeRequest.Status.DETECTED:
            move(ctx, change, ChangeRequest.Status.PRICED, action="change_request.priced")
        move(
            ctx,
            change,
            ChangeRequest.Status.AWAITING_APPROVAL,
            action="change_request.asked",
            note={"hours": str(quote.hours), "basis": quote.basis, "asks": reading.asks},
        )
        ctx.escalate(
            Escalation.Kind.APPROVAL,
            f"{facts.client} asks for a change to {project.name}: {reading.summary!r}. Estimate {quote.hours} h, "
            f"{quote.price} {quote.currency} ({quote.basis}). Approve to take it on and confirm it to the client",
            {
                "change_request_id": change.pk,
                "hours": str(quote.hours),
                "price": str(quote.price),
                "currency": quote.currency,
                "asks": reading.asks,
            },
            dedupe_key=f"approval:{change_key(change)}",
            subject=change,
        )
        return Handled(
            kind="scope_change",
            change_request_id=change.pk,
            status=change.status,
            price=quote.price,
            currency=quote.currency,
            hours=quote.hours,
            answered=answered,
            note="waiting for approval",
        )

    def _decided(self, ctx: RunContext, facts: Inbound) -> Handled:
        assert facts.change is not None
        change = ctx.lock(facts.change)
        out = Handled(kind="scope_change", change_request_id=change.pk, price=change.price, currency=change.currency)
        if change.status != ChangeRequest.Status.AWAITING_APPROVAL or not facts.approval:
            out.status, out.note = change.status, "decided before: nothing more to do"
            return out
        if facts.approval == Escalation.Status.REJECTED:
            status, reply, note = ChangeRequest.Status.REJECTED, "declined", {"why": facts.decision_note}
            lines = [
                f"Thank you for asking about: {change.description}",
                "We cannot take this on within the current engagement. We are happy to look at it together as a "
                "separate phase once the current work is delivered.",
            ]
        else:
            status, reply = ChangeRequest.Status.APPROVED, "approved"
            note, lines = self._take_on(ctx, change, out)
        # The decision, audited as change_request.approved or .rejected, and told to the client once.
        move(ctx, change, status, action=f"change_request.{status}", note=note)
        out.answered = self._answer(ctx, facts, f"{change_key(change)}:{reply}", lines)
        out.status = change.status
        return out

    def _take_on(self, ctx: RunContext, change: ChangeRequest, out: Handled) -> tuple[dict[str, Any], list[str]]:
        """An approved change becomes a milestone with its task on the board and committed hours;
        returns the approval's audit note and the confirmation's lines."""
        hours = self._hours(change)
        start = ctx.now().date()
        due = add_working_days(start, working_days_for(hours * BUFFER, pace=project_pace()))
        criterion = f"Delivered as asked: {change.description}"[:300]
        number = change.project.milestones.filter(name__startswith="Change ").count() + 1
        milestone = add_milestone(
            project=change.project,
            name=f"Change {number}: {change.description}"[:120],
            due_on=due,
            acceptance_criteria=[criterion],
            amount=change.price,
        )
        tasks = add_project_tasks(
            project=change.project,
            milestone=milestone,
            kind=ProjectTask.Kind.CHANGE,
            tasks=[
                {
                    "key": f"{change_key(change)}:task",
                    "title": f"C{number}. {change.description}"[:255],
                    "description": f"Milestone: {milestone.name}\nEstimate: {hours}h\nShows: {criterion}",
                    "estimate_hours": hours,
                    "due_on": due,
                }
            ],
        )
        project = ctx.lock(change.project)
        ctx.update(project, action="project.change_added", committed_hours=project.committed_hours + hours)
        push(ctx, key=f"{change_key(change)}:tasks", project=project, description="", tasks=tasks)
        out.hours, out.tasks = hours, [t.title for t in tasks]
        return {"milestone": milestone.pk}, [
            f"Good news: we can take on {change.description}",
            f"It comes to {change.price} {change.currency} for about {hours} hours of work, and we plan to "
            f"deliver it by {due:%d %B %Y}. It is on the project board now.",
        ]

    @staticmethod
    def _hours(change: ChangeRequest) -> Decimal:
        worked = getattr(change, "estimate", None) or {}
        lines = worked.get("lines") if isinstance(worked, dict) else None
        if lines and worked.get("size") != "deliverable":
            return half_hours(sum((Decimal(str(li.get("quantity", "0"))) for li in lines), Decimal("0")))
        return half_hours(change.price / blended_rate()) if change.price > 0 else SIZE_HOURS["medium"]

    def _defect(self, ctx: RunContext, facts: Inbound, reading: Reading) -> Handled:
        out = Handled(kind="bug_report")
        answer = "Thanks for telling us. We are looking into it now and will let you know as soon as it is fixed."
        if facts.project is not None:
            key = f"message:{facts.message.pk}:fix"
            title, open_fix = fix_title(facts.project, reading.summary)
            if open_fix is not None and open_fix.key != key:
                # The same defect reported again while its fix is open: one task on the board, not two.
                out.tasks = [open_fix.title]
                answer = ALREADY_FIXING
            else:
                out.tasks = self._fix_task(ctx, facts, facts.project, key=key, title=title)
        out.answered = self._answer(ctx, facts, f"message:{facts.message.pk}:fix-answer", [answer])
        return out

    @staticmethod
    def _fix_task(ctx: RunContext, facts: Inbound, project: Project, *, key: str, title: str) -> list[str]:
        hours = SIZE_HOURS["small"]
        tasks = add_project_tasks(
            project=project,
            kind=ProjectTask.Kind.FIX,
            tasks=[
                {
                    "key": key,
                    "title": title,
                    "description": f"Estimate: {hours}h\nReported by {facts.sender.email}:\n{facts.message.body}",
                    "estimate_hours": hours,
                    "due_on": add_working_days(ctx.now().date(), 2),
                }
            ],
        )
        push(ctx, key=f"{key}-task", project=project, description="", tasks=tasks)
        return [t.title for t in tasks]


def fix_title(project: Project, summary: str) -> tuple[str, ProjectTask | None]:
    """The title of a fix for the defect ``summary`` on ``project``, and the open fix task it already
    has (the client reported it again before we closed it). A task title is unique per project: a
    defect that comes back after its fix was closed is a new task, numbered by the reports before it."""
    base = f"Fix: {summary}"[:240]
    earlier = list(ProjectTask.objects.filter(project=project, kind=ProjectTask.Kind.FIX, title__startswith=base))
    open_fix = next(
        (t for t in earlier if t.status in (ProjectTask.Status.TO_DO, ProjectTask.Status.IN_PROGRESS)), None
    )
    return (f"{base} (report {len(earlier) + 1})" if earlier else base), open_fix
