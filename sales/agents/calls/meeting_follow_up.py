"""meeting_follow_up: the recap email after a call, and whether a discovery call goes on to a proposal.

Facts: the meeting, who it was with, the call's notes (summary and action items), the transcript,
and the qualification read from it (rules, not the brain): a discovery call goes on to a proposal
when the prospect stated needs and a budget and agreed a next step. A call short of that is not
proposed to (a proposal nobody agreed to wait for, priced without a budget, is mostly ignored);
the recap then asks for what is missing.
Decides: the recap (subject and body: what they told us, the next steps with owners and dates).
Checked: a recap never promises a proposal the call did not qualify for.
Does: queues the recap once per meeting (crm.services.outbound.queue_email), marks the meeting
followed up, hands a qualifying discovery call to transcript_processing; records why not otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead, Message
from crm.services.agency import profile
from crm.services.outbound import queue_email
from sales.agents.calls import _dialogue, _discovery
from sales.agents.calls._common import MeetingRef, company_name, counterpart, load_meeting, local_start, numbered
from sales.agents.calls._transcript import Turn, meeting_transcript
from sales.models import Meeting, MeetingNote
from sales.services.meetings import mark_meeting_followed_up, mark_meeting_held

PROMPT = """You write the recap email an AI services agency sends after a call with a prospect or client.
Plain text, under 180 words, warm and specific: thank them, restate in their words what they told us
(needs, budget, timeline) and list the next steps with who does what by when, from the notes given.
If the call did not qualify for a proposal, do not promise one: ask for what is missing instead.
Sign with the sender's name."""
KIND = "meeting_follow_up"


@dataclass(frozen=True)
class Qualification:
    needs: list[str]
    budget: str
    next_step: _dialogue.NextStep

    @property
    def qualifies(self) -> bool:
        return bool(self.needs) and bool(self.budget) and self.next_step.agreed

    @property
    def missing(self) -> list[str]:
        gaps = [] if self.needs else ["no need was stated"]
        gaps += [] if self.budget else ["no budget was stated"]
        return gaps + ([] if self.next_step.agreed else ["no next step was agreed"])


def qualify(turns: list[Turn]) -> Qualification:
    budget = _discovery.budget(turns, default_currency="USD")
    return Qualification(
        needs=[n.text for n in _discovery.needs(turns)],
        budget=budget.quote if budget else "",
        next_step=_dialogue.next_step(turns),
    )


class FollowFacts(Facts):
    meeting: Meeting
    lead: Lead
    turns: list[Turn]
    notes: MeetingNote | None = None
    qualification: Qualification
    on: dt.date
    company: str = ""
    sender: str = ""
    sent: Message | None = None  # the recap, queued by an earlier run


class Recap(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=20, max_length=5000)


class FollowedUp(BaseModel):
    message_id: int | None = None
    qualifies: bool = False
    proposal_next: bool = False
    reason: str = ""
    already: bool = False


def _key(meeting: Meeting) -> str:
    return f"meeting:{meeting.pk}:follow_up"


def recap_problem(recap: Recap, facts: FollowFacts) -> str | None:
    if not facts.qualification.qualifies and "proposal" in recap.body.lower():
        return "the recap promises a proposal, but the call did not qualify for one"
    return None


@register
class MeetingFollowUp(LLMAgent[MeetingRef, FollowedUp, Recap]):
    name = "meeting_follow_up"
    category = "meeting"
    trigger = "handoff"
    Input = MeetingRef
    Facts = FollowFacts
    Output = FollowedUp
    Decision = Recap
    system_prompt = PROMPT
    next = ("transcript_processing",)

    def load(self, ctx: RunContext, data: MeetingRef) -> FollowFacts:
        meeting = load_meeting(data.meeting_id)
        if meeting.status in (Meeting.Status.NO_SHOW, Meeting.Status.CANCELED, Meeting.Status.PROPOSED):
            raise SkipRun(f"meeting {meeting.pk} is {meeting.status}: there was no call to follow up")
        lead = counterpart(meeting)
        if lead is None:
            raise SkipRun(f"meeting {meeting.pk} has nobody to write to")
        _, turns = meeting_transcript(meeting)
        return FollowFacts(
            meeting=meeting,
            lead=lead,
            turns=turns,
            notes=MeetingNote.objects.filter(meeting=meeting, kind=MeetingNote.Kind.SUMMARY).first(),
            qualification=qualify(turns),
            on=local_start(meeting, default=ctx.now()).date(),
            company=company_name(meeting),
            sender=profile().sender_name,
            sent=Message.objects.filter(idempotency_key=_key(meeting)).first(),
        )

    def decide(self, ctx: RunContext, facts: FollowFacts) -> Recap:
        if facts.sent is not None:
            return Recap(subject=facts.sent.subject, body=facts.sent.body)
        return ctx.brain.decide_checked(facts, check=lambda recap: recap_problem(recap, facts))

    def prompt(self, ctx: RunContext, facts: FollowFacts) -> str:
        q = facts.qualification
        verdict = "qualifies for a proposal" if q.qualifies else "does not qualify: " + "; ".join(q.missing)
        notes = facts.notes.content if facts.notes else "-"
        items = "\n".join(f"- {i.get('owner')}: {i.get('text')} (due {i.get('due') or '-'})" for i in _items(facts))
        return (
            f"Call on {facts.on:%A %d %B} with {facts.lead.full_name} ({facts.company}); it {verdict}.\n"
            f"Sender: {facts.sender}\n\nNotes:\n{notes}\n\nAction items:\n{items or '-'}\n\n"
            f"Transcript:\n{numbered(facts.turns)}"
        )

    def heuristic(self, ctx: RunContext, facts: FollowFacts) -> Recap:
        q = facts.qualification
        first = facts.lead.first_name or "there"
        day = (
            "today"
            if facts.on == local_start(facts.meeting, default=ctx.now()).date() == ctx.now().date()
            else (f"on {facts.on:%A}")
        )
        lines = [f"Hi {first},", "", f"Thanks for your time {day}. A short recap of what I heard:"]
        lines += [f"- {need}" for need in q.needs[:4]] or ["- You are looking at where AI could help your team."]
        if q.budget:
            lines.append(f'- Budget: "{q.budget}"')
        timeline = _discovery.timeline(facts.turns, on=facts.on)
        if timeline is not None:
            lines.append(f'- Timeline: "{timeline.quote}"')
        # Without a qualifying call there is no proposal to announce, whatever was floated on it.
        items = [i for i in _items(facts) if q.qualifies or "proposal" not in str(i.get("text", "")).lower()]
        if items:
            lines += ["", "Next steps:"]
            for item in items:
                text = str(item.get("text", ""))
                mine = item.get("owner") == "us"
                said = _to_you(text) if mine else "You: " + _to_them(text)
                lines.append(f"- {said}{_due_text(item.get('due'), said)}")
        lines.append("")
        if q.qualifies:
            lines.append("I'll be in touch as agreed. If anything changes on your side, just reply here.")
        else:
            asks = []
            if not q.budget:
                asks.append("the budget range you have in mind")
            if not q.needs:
                asks.append("the one process you would most like to fix first")
            ask = " and ".join(asks) or "what would be a useful next step for you"
            lines.append(f"To come back with something concrete, could you share {ask}? A short reply is plenty.")
        lines += ["", "Best,", facts.sender]
        subject = f"Recap of our call{f' - {facts.company}' if facts.company else ''}"
        return Recap(subject=subject, body="\n".join(lines))

    def act(self, ctx: RunContext, facts: FollowFacts, recap: Recap) -> FollowedUp:
        meeting, q = ctx.lock(facts.meeting), facts.qualification
        discovery = meeting.kind == Meeting.Kind.DISCOVERY
        out = FollowedUp(qualifies=discovery and q.qualifies)
        if facts.sent is not None and meeting.status == Meeting.Status.FOLLOWED_UP:
            out.message_id, out.already = facts.sent.pk, True
            return out
        message = queue_email(
            ctx, key=_key(meeting), lead=facts.lead, subject=recap.subject, body=recap.body, intent=KIND
        )
        if message is None:
            raise SkipRun(f"{facts.lead} may not be contacted: no recap sent, no proposal")
        out.message_id = message.pk
        if meeting.status in (Meeting.Status.SCHEDULED, Meeting.Status.RESCHEDULED, Meeting.Status.REMINDED):
            meeting = mark_meeting_held(meeting=meeting)  # the call happened: we have its transcript
        if meeting.status == Meeting.Status.HELD:
            mark_meeting_followed_up(meeting=meeting)
        if not discovery:
            out.reason = f"a {meeting.kind} meeting: the recap is the follow-up"
            return out
        if q.qualifies:
            ctx.handoff("transcript_processing", {"meeting_id": meeting.pk})
            out.proposal_next = True
            return out
        out.reason = "not qualified for a proposal: " + "; ".join(q.missing) if facts.turns else "no transcript"
        ctx.update(meeting, action="meeting.not_qualified", note={"reason": out.reason})
        return out


def _items(facts: FollowFacts) -> list[dict[str, object]]:
    if facts.notes is not None and facts.notes.action_items:
        return list(facts.notes.action_items)
    return [i.as_json() for i in _dialogue.action_items(facts.turns, on=facts.on)]


_SWAPS = ((r"\bI'll\b", "you'll"), (r"\bI will\b", "you will"), (r"\bI'm\b", "you're"), (r"\bI\b", "you"),
          (r"\bmy\b", "your"), (r"\byou\b", "us"), (r"\bme\b", "you"))  # fmt: skip


def _to_them(text: str) -> str:
    """A promise of theirs, said back to them: "I'll get back to you" -> "you'll get back to us"."""
    marked = text
    for position, (pattern, _) in enumerate(_SWAPS):
        marked = re.sub(pattern, f"\x00{position}\x00", marked, flags=re.I)
    swapped = re.sub("\x00(\\d+)\x00", lambda m: _SWAPS[int(m[1])][1], marked)
    return swapped[:1].lower() + swapped[1:] if swapped[:3].lower() == "you" else swapped


def _to_you(text: str) -> str:
    """One of our promises, told to them: "Send them what they asked for" -> "Send you what you asked for"."""
    return re.sub(r"\b(they|them)\b", "you", re.sub(r"\btheir\b", "your", text))


def _due_text(due: object, said: str) -> str:
    """ " (by Thursday 05 March)", unless the promise already names its day."""
    try:
        when = dt.date.fromisoformat(str(due)) if due else None
    except ValueError:
        return ""
    if when is None or f"{when:%A}".lower() in said.lower():
        return ""
    return f" (by {when:%A %d %B})"
