"""meeting_notes: what a call came to. Summary, decisions, action items with owners and due dates.

Facts: the meeting, its stored transcript (speaker turns, each on our side or theirs), Fathom's
own summary, the call's local date (due dates are read from it: "by Friday" said on a Tuesday).
Decides: the summary (needs, budget, timeline, who decides, objections, the next step), the
decisions taken, and the action items: who (us or them, by name) does what by when. The heuristic
reads them off the transcript (sales/agents/calls/_dialogue.py, _discovery.py).
Does: MeetingNote(kind=summary) with the action items, once per transcript; hands the meeting to
meeting_follow_up.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from sales.agents.calls import _dialogue, _discovery
from sales.agents.calls._common import MeetingRef, company_name, counterpart, load_meeting, local_start, numbered
from sales.agents.calls._transcript import Turn, meeting_transcript
from sales.models import FathomRecording, Meeting, MeetingNote
from sales.services.meetings import save_meeting_note

PROMPT = """You take the notes of an AI services agency's sales and client calls.
From the transcript (each line numbered, with the speaker's side), write a short factual summary
(their needs, budget, timeline, who decides, objections and how we answered, the next step), the
decisions taken, and every action item: what, whose (owner "us" for the agency, "them" for the
prospect or client, with the person's name), due date if one was said (resolve "by Friday" from the
call's date), and the line it was said in. Only what was said on the call; nothing invented."""
DECIDED = re.compile(r"\b(we'?ll go with|let'?s go with|decided|agreed|we'?ll start with|let'?s start with)\b", re.I)


class Item(BaseModel):
    text: str = Field(min_length=3, max_length=400)
    owner: Literal["us", "them"]
    owner_name: str = ""
    due: dt.date | None = None
    line: int | None = None


class Notes(BaseModel):
    summary: str = Field(min_length=10, max_length=4000)
    decisions: list[str] = []
    action_items: list[Item] = []


class CallFacts(Facts):
    meeting: Meeting
    transcript: MeetingNote
    turns: list[Turn]
    on: dt.date
    with_whom: str
    company: str
    fathom_summary: str = ""
    done: MeetingNote | None = None  # the summary already made from this transcript


class Noted(BaseModel):
    note_id: int | None = None
    action_items: int = 0
    ours: int = 0
    theirs: int = 0
    already: bool = False


def notes_problem(notes: Notes, facts: CallFacts) -> str | None:
    for item in notes.action_items:
        if item.due is not None and item.due < facts.on:
            return f"action item {item.text[:60]!r} is due {item.due}, before the call ({facts.on})"
        if item.line is not None and not 0 <= item.line < len(facts.turns):
            return f"action item {item.text[:60]!r} cites line {item.line}, not in the transcript"
    return None


@register
class MeetingNotes(LLMAgent[MeetingRef, Noted, Notes]):
    name = "meeting_notes"
    category = "meeting"
    trigger = "handoff"
    Input = MeetingRef
    Facts = CallFacts
    Output = Noted
    Decision = Notes
    system_prompt = PROMPT
    next = ("meeting_follow_up",)

    def load(self, ctx: RunContext, data: MeetingRef) -> CallFacts:
        meeting = load_meeting(data.meeting_id)
        transcript, turns = meeting_transcript(meeting)
        if transcript is None or not turns:
            raise SkipRun(f"no transcript is stored for meeting {meeting.pk}")
        lead = counterpart(meeting)
        recording = FathomRecording.objects.filter(recording_id=transcript.source).first()
        done = MeetingNote.objects.filter(
            meeting=meeting, kind=MeetingNote.Kind.SUMMARY, source=transcript.source
        ).first()
        return CallFacts(
            meeting=meeting,
            transcript=transcript,
            turns=turns,
            on=local_start(meeting, default=ctx.now()).date(),
            with_whom=lead.full_name if lead is not None else "",
            company=company_name(meeting),
            fathom_summary=recording.summary if recording is not None else "",
            done=done if transcript.source else None,
        )

    def decide(self, ctx: RunContext, facts: CallFacts) -> Notes:
        if facts.done is not None:
            return Notes(summary=facts.done.content, action_items=[Item(**i) for i in facts.done.action_items])
        return ctx.brain.decide_checked(facts, check=lambda notes: notes_problem(notes, facts))

    def prompt(self, ctx: RunContext, facts: CallFacts) -> str:
        meeting = facts.meeting
        head = f"{meeting.get_kind_display()} call with {facts.with_whom} ({facts.company}) on {facts.on:%A %d %B %Y}."
        fathom = f"\n\nFathom's summary:\n{facts.fathom_summary}" if facts.fathom_summary else ""
        return f"{head}{fathom}\n\nTranscript:\n{numbered(facts.turns)}"

    def heuristic(self, ctx: RunContext, facts: CallFacts) -> Notes:
        turns = facts.turns
        step = _dialogue.next_step(turns)
        items = _dialogue.action_items(turns, on=facts.on)
        decisions = [s for t in turns for s in _dialogue.sentences(t.text) if t.side != "unknown" and DECIDED.search(s)]
        if step.agreed:
            decisions.insert(0, f"Next step agreed: {step.text}")
        return Notes(
            summary=summary_of(facts, step),
            decisions=list(dict.fromkeys(decisions)),
            action_items=[Item.model_validate(i.as_json()) for i in items],
        )

    def act(self, ctx: RunContext, facts: CallFacts, notes: Notes) -> Noted:
        ours = sum(1 for i in notes.action_items if i.owner == "us")
        out = Noted(action_items=len(notes.action_items), ours=ours, theirs=len(notes.action_items) - ours)
        if facts.done is not None:
            out.note_id, out.already = facts.done.pk, True
            return out
        content = notes.summary.strip()
        if notes.decisions:
            content += "\n\nDecisions:\n" + "\n".join(f"- {d}" for d in notes.decisions)
        note = save_meeting_note(
            meeting=facts.meeting,
            kind=MeetingNote.Kind.SUMMARY,
            content=content,
            action_items=[i.model_dump(mode="json") for i in notes.action_items],
            source=facts.transcript.source,
        )
        ctx.handoff("meeting_follow_up", {"meeting_id": facts.meeting.pk})
        out.note_id = note.pk
        return out


def summary_of(facts: CallFacts, step: _dialogue.NextStep) -> str:
    """The call in a few sentences, from what was said."""
    turns, meeting = facts.turns, facts.meeting
    parts = [f"{meeting.get_kind_display()} call with {facts.with_whom or 'the prospect'}"
             f"{f' ({facts.company})' if facts.company else ''} on {facts.on:%d %B %Y}."]  # fmt: skip
    needs = _discovery.needs(turns)
    parts.append(
        "They described: " + "; ".join(n.text for n in needs[:4]) + "." if needs else "No specific problem was named."
    )
    budget = _discovery.budget(turns, default_currency="USD")
    parts.append(f'Budget: "{budget.quote}"' if budget else "No budget was stated.")
    timeline = _discovery.timeline(turns, on=facts.on)
    parts.append(f'Timeline: "{timeline.quote}"' if timeline else "No timeline was stated.")
    deciders = _discovery.decision_makers(turns)
    if deciders:
        parts.append("Decision: " + ", ".join(f"{d.name} ({d.role})" if d.role else d.name for d in deciders) + ".")
    for objection in _dialogue.objections(turns):
        answered = f"answered: {objection.answer}" if objection.handled else "left unanswered"
        parts.append(f'Objection ({objection.label}): "{objection.quote}" - {answered}')
    if step.agreed:
        parts.append(f"Next step agreed: {step.text}")
    elif step.line is not None:
        parts.append(f'No next step agreed: we offered "{step.text}", they said "{step.reply}".')
    else:
        parts.append("No next step was discussed.")
    return " ".join(parts)
