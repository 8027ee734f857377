"""meeting_prep: the host's briefing, about a day before the meeting, from stored facts only.

Facts: the meeting and who it is with; what our records hold about them (the lead, the company,
the sourced research findings, the email thread and what conversation_intelligence read in it,
the persona's usual objections), each as a source the briefing may cite.
Decides: the briefing: who they are and what we know (every point cites its source: a finding's
URL or one of our records), the objections to expect with an answer to each, an agenda and the
questions to ask. Checked: a point with an unknown source, or saying more than its source does,
or a summary naming things no source mentions, is refused and the heuristic briefing is used.
Does: MeetingNote(kind=prep), once per meeting.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Conversation, Lead, Message
from crm.selectors import sourced_findings
from crm.services.findings import Finding, supported
from sales.agents.calls._common import MeetingRef, company_name, counterpart, load_meeting, local_start
from sales.models import Meeting, MeetingNote
from sales.services.meetings import save_meeting_note

PROMPT = """You brief the host of an AI services agency's sales meeting, the day before.
Use ONLY the sources given. Every point about the prospect or their company cites the key of the one
source it comes from and says no more than that source does. Then the objections to expect (from
their messages, the conversation's insights or the persona; cite the source when there is one) with
an honest answer to each, a short agenda for the meeting's length, and the questions to ask to learn
their needs, budget, timeline and who decides. The summary names only people and facts from the sources."""

MESSAGES = 6
FINDINGS = 8
# Answers to the objections people raise most, by the labels conversation_intelligence uses.
ANSWERS = {
    "price": "Start with a small fixed-price pilot, so the return is visible before anything larger.",
    "timing": "Offer a pilot sized to their team's time now; we build and run it, so it costs them little.",
    "incumbent": "We work alongside the tools and vendors they have and take only the repetitive part.",
    "trust": "Approval steps stay with them and their data stays under their control.",
    "authority": "Ask who else decides and offer a short session with them.",
    "adoption": "We build into the tools they already use and train the team.",
    "return": "Agree the numbers up front and measure the pilot against them.",
}
DISCOVERY_OBJECTIONS = (
    ("Is this worth the money for a company our size?", ANSWERS["return"]),
    ("Will the team actually use it?", ANSWERS["adoption"]),
)
# What would be a claim if no source said it: a name inside a sentence, or a figure ($5M, 40%, 200).
_NAMEISH = re.compile(r"(?<![.!?:]\s)(?<=\s)([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*)\b")
_FIGURE = re.compile(
    r"[$€£]\s?\d[\d,.]*\s?[kKmM]?\b|\b\d[\d,.]*\s?(?:%|percent|[kKmM]\b|million|employees|people|staff)|\b\d{3,}\b"
)
_COMMON = frozenset({"We", "They", "Their", "The", "Goal", "Agenda", "Our", "Confirm", "Agree", "Monday", "Tuesday",
                     "Wednesday", "Thursday", "Friday"})  # fmt: skip


class Point(BaseModel):
    text: str = Field(min_length=3, max_length=400)
    source: str = Field(min_length=3, max_length=1000)


class LikelyObjection(BaseModel):
    objection: str = Field(min_length=3, max_length=300)
    answer: str = Field(min_length=3, max_length=400)
    source: str = ""


class Briefing(BaseModel):
    summary: str = Field(min_length=10, max_length=1500)
    points: list[Point] = []
    objections: list[LikelyObjection] = []
    agenda: list[str] = []
    questions: list[str] = []


class PrepFacts(Facts):
    meeting: Meeting
    lead: Lead
    when: dt.datetime
    company: str
    sources: dict[str, str]  # key -> what the source says
    findings: list[Finding] = []
    messages: list[Message] = []
    insights: dict[str, object] = {}
    insights_key: str = ""
    persona_objections: list[str] = []
    persona_key: str = ""
    done: MeetingNote | None = None


class Prepared(BaseModel):
    note_id: int | None = None
    points: int = 0
    cited: list[str] = []
    already: bool = False


def briefing_problem(briefing: Briefing, facts: PrepFacts) -> str | None:
    """Why the briefing may not be stored (None: every claim is backed by a stored source)."""
    for point in briefing.points:
        said = facts.sources.get(point.source)
        if said is None:
            return f"point {point.text[:60]!r} cites {point.source[:80]!r}, which is not a stored source"
        if not supported(point.text, said, share=0.6):
            return f"point {point.text[:60]!r} says more than its source {point.source[:80]!r}"
    for objection in briefing.objections:
        if objection.source and objection.source not in facts.sources:
            return f"objection {objection.objection[:60]!r} cites an unknown source"
    known = " ".join([*facts.sources.values(), facts.company, facts.lead.full_name, facts.meeting.title])
    names = [w for w in _NAMEISH.findall(briefing.summary) if w not in _COMMON and w not in known]
    if names:
        return f"the summary names {names[:3]}, which no source mentions"
    for text in (briefing.summary, *briefing.agenda, *briefing.questions):
        figures = [f for f in _FIGURE.findall(text) if f.strip() not in known]
        if figures:
            return f"{text[:60]!r} states {figures[:3]}, which no source gives"
    return None


@register
class MeetingPrep(LLMAgent[MeetingRef, Prepared, Briefing]):
    name = "meeting_prep"
    category = "meeting"
    trigger = "handoff"
    Input = MeetingRef
    Facts = PrepFacts
    Output = Prepared
    Decision = Briefing
    system_prompt = PROMPT

    def load(self, ctx: RunContext, data: MeetingRef) -> PrepFacts:
        meeting = load_meeting(data.meeting_id)
        if meeting.status in (Meeting.Status.CANCELED, Meeting.Status.NO_SHOW, Meeting.Status.FOLLOWED_UP):
            raise SkipRun(f"meeting {meeting.pk} is {meeting.status}: no briefing needed")
        lead = counterpart(meeting)
        if lead is None:
            raise SkipRun(f"meeting {meeting.pk} is with nobody we know")
        facts = PrepFacts(
            meeting=meeting,
            lead=lead,
            when=local_start(meeting, default=ctx.now()),
            company=company_name(meeting),
            sources={},
            done=MeetingNote.objects.filter(meeting=meeting, kind=MeetingNote.Kind.PREP).first(),
        )
        if facts.done is None:
            _gather(facts)
        return facts

    def decide(self, ctx: RunContext, facts: PrepFacts) -> Briefing:
        if facts.done is not None:
            return Briefing(summary=facts.done.content[:1500])
        return ctx.brain.decide_checked(facts, check=lambda briefing: briefing_problem(briefing, facts))

    def prompt(self, ctx: RunContext, facts: PrepFacts) -> str:
        meeting = facts.meeting
        minutes = (
            int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
            if meeting.ends_at and meeting.starts_at
            else 30
        )
        sources = "\n".join(f"- [{key}] {said}" for key, said in facts.sources.items())
        return (
            f"{meeting.get_kind_display()} meeting, {minutes} minutes, {facts.when:%A %d %B %Y %H:%M} "
            f"({meeting.time_zone}), with {facts.lead.full_name} of {facts.company}.\n\nSources:\n{sources}"
        )

    def heuristic(self, ctx: RunContext, facts: PrepFacts) -> Briefing:
        lead, meeting = facts.lead, facts.meeting
        points = [Point(text=said, source=key) for key, said in facts.sources.items() if not key.startswith("message:")]
        theirs = [m for m in facts.messages if m.direction == Message.Direction.IN]
        if theirs:
            last = theirs[-1]
            points.append(Point(text=f"They last wrote: {_excerpt(last.body)}", source=f"message:{last.pk}"))
        objections = []
        raised = facts.insights.get("objections")
        for label in [str(o) for o in raised] if isinstance(raised, list) else []:
            answer = ANSWERS.get(label, "Acknowledge it and ask what would need to be true for this to work.")
            objections.append(LikelyObjection(objection=f"They raised {label} in writing", answer=answer,
                                              source=facts.insights_key))  # fmt: skip
        for worry in facts.persona_objections[:3]:
            objections.append(LikelyObjection(objection=worry, answer=_answer_for(worry), source=facts.persona_key))
        if meeting.kind == Meeting.Kind.DISCOVERY:
            objections += [LikelyObjection(objection=o, answer=a) for o, a in DISCOVERY_OBJECTIONS]
        tools = lead.company.tech_stack if lead.company is not None else []
        return Briefing(
            summary=(
                f"{meeting.get_kind_display()} meeting with {lead.full_name}"
                f"{f', {lead.title}' if lead.title else ''} of {facts.company}. "
                "Goal: understand their problems, budget, timeline and who decides, and agree a next step."
            ),
            points=points[: FINDINGS + 4],
            objections=objections[:6],
            agenda=_agenda(meeting),
            questions=_questions(meeting, tools=[str(t) for t in tools][:3]),
        )

    def act(self, ctx: RunContext, facts: PrepFacts, briefing: Briefing) -> Prepared:
        if facts.done is not None:
            return Prepared(note_id=facts.done.pk, already=True)
        note = save_meeting_note(
            meeting=facts.meeting, kind=MeetingNote.Kind.PREP, content=render(facts, briefing), source=self.name
        )
        cited = list(dict.fromkeys(p.source for p in briefing.points))
        return Prepared(note_id=note.pk, points=len(briefing.points), cited=cited)


def _gather(facts: PrepFacts) -> None:
    """Every stored fact about them, keyed by where it is kept: what the briefing may cite."""
    lead = facts.lead
    company = lead.company
    sources = facts.sources
    role = f", {lead.title}" if lead.title else ""
    sources[f"lead:{lead.pk}"] = f"{lead.full_name}{role} at {facts.company}"
    if company is not None:
        size = f", {company.employee_range} employees" if company.employee_range else ""
        where = f", in {company.country}" if company.country else ""
        sources[f"company:{company.pk}"] = f"{company.name}: {company.industry or 'industry unknown'}{size}{where}"
        if company.tech_stack:
            sources[f"company:{company.pk}:tools"] = f"{company.name} uses {', '.join(map(str, company.tech_stack))}"
        if company.description:
            sources[f"company:{company.pk}:description"] = _excerpt(company.description, 300)
    facts.findings = sourced_findings(lead=lead)[:FINDINGS]
    for finding in facts.findings:
        sources[finding.source_url] = (
            f"{sources[finding.source_url]}; {finding.claim}" if finding.source_url in sources else finding.claim
        )
    conversation = Conversation.objects.filter(lead=lead).order_by("-last_message_at", "-pk").first()
    if conversation is not None:
        facts.messages = list(conversation.messages.order_by("-created_at", "-pk")[:MESSAGES])[::-1]
        for message in facts.messages:
            who = "They" if message.direction == Message.Direction.IN else "We"
            sources[f"message:{message.pk}"] = f"{who} wrote: {_excerpt(message.body)}"
        insights = conversation.insights or {}
        if insights.get("objections") or insights.get("buying_signals") or insights.get("summary"):
            facts.insights, facts.insights_key = insights, f"insights:conversation:{conversation.pk}"
            said = [
                f"{label}: {', '.join(map(str, insights.get(key) or [])) or 'none'}"
                for key, label in (("objections", "objections"), ("buying_signals", "buying signals"))
            ]
            if insights.get("summary"):
                said.append(str(insights["summary"]))
            sources[facts.insights_key] = "; ".join(said)
    if lead.persona is not None and (lead.persona.objections or lead.persona.pains):
        facts.persona_key = f"persona:{lead.persona.pk}"
        facts.persona_objections = [str(o) for o in lead.persona.objections]
        pains = ", ".join(map(str, lead.persona.pains))
        sources[facts.persona_key] = (
            f"people like them ({lead.persona.name}) worry about: {', '.join(facts.persona_objections) or '-'}; "
            f"their usual pains: {pains or '-'}"
        )


def _excerpt(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rsplit(" ", 1)[0] + "..."


def _answer_for(worry: str) -> str:
    folded = worry.lower()
    for label, words in (("price", "price cost budget expensive afford"), ("trust", "data trust privacy accura"),
                         ("adoption", "adopt team use tool learn"), ("timing", "time busy priority"),
                         ("incumbent", "already existing vendor agency")):  # fmt: skip
        if any(w in folded for w in words.split()):
            return ANSWERS[label]
    return "Acknowledge it, ask what is behind it, and offer a small pilot to test it."


def _agenda(meeting: Meeting) -> list[str]:
    if meeting.kind != Meeting.Kind.DISCOVERY:
        return ["Where things stand since we last spoke", "Open questions and decisions", "Next steps and owners"]
    return [
        "Introductions and the goal of the call (5 min)",
        "Their current process and where it hurts (10 min)",
        "Budget range, timeline and who decides (5 min)",
        "How we would approach it, briefly (5 min)",
        "Agree the next step and its date (5 min)",
    ]


def _questions(meeting: Meeting, *, tools: list[str]) -> list[str]:
    asks = [
        "What is the biggest challenge you want to solve, and what does it cost you today?",
        "Do you have a budget range in mind for a first project?",
        "When would you want this live?",
        "Who else is involved in the decision?",
    ]
    if tools:
        falls = "do they" if len(tools) > 1 else "does it"
        asks.insert(1, f"How do you use {', '.join(tools)} today, and where {falls} fall short?")
    if meeting.kind != Meeting.Kind.DISCOVERY:
        asks = ["What has changed since we last spoke?", "What would make this a success for you?"]
    return asks


def render(facts: PrepFacts, briefing: Briefing) -> str:
    meeting = facts.meeting
    lines = [f"Briefing: {meeting.get_kind_display()} meeting with {facts.lead.full_name}, {facts.company}",
             f"{facts.when:%A %d %B %Y, %H:%M} ({meeting.time_zone})", "", briefing.summary]  # fmt: skip
    if briefing.points:
        lines += ["", "What we know:"] + [f"- {p.text} [{p.source}]" for p in briefing.points]
    if briefing.objections:
        lines += ["", "Likely objections:"]
        for o in briefing.objections:
            lines.append(f"- {o.objection}{f' [{o.source}]' if o.source else ''} -> {o.answer}")
    if briefing.agenda:
        lines += ["", "Agenda:"] + [f"{n}. {item}" for n, item in enumerate(briefing.agenda, start=1)]
    if briefing.questions:
        lines += ["", "Questions to ask:"] + [f"- {q}" for q in briefing.questions]
    return "\n".join(lines)
