"""call_performance_analytics: how our side ran the call, measured from its speaker turns.

Facts: the meeting's stored transcript, each turn on our side (the host: a host participant, the
agency's sender or a mailbox of ours) or theirs.
Measures (rules):
- talk ratio: our words / all words. Gong Labs' published analyses of recorded sales calls put
  the best sellers near 43% of the talking: the number to watch.
- questions we asked (sentences ending in "?" or opening like one); the same analyses found
  11-14 questions on the discovery calls that went well.
- our longest monologue, in seconds: a run of our turns with nobody else speaking, from its first
  turn's time to the next speaker's; the call's last run ends after its words at SPEECH_RATE.
- objections the prospect raised, and those we handled (our next words answered them, beyond a nod).
- whether a next step was agreed (one side proposed something concrete, the other said yes).
Does: CallPerformance for the meeting (measured again only when the transcript changed).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from sales.agents.calls import _dialogue
from sales.agents.calls._common import MeetingRef, load_meeting
from sales.agents.calls._transcript import Turn, meeting_transcript
from sales.models import Meeting
from sales.services.calls import save_call_performance

SPEECH_RATE = 2.5  # words a second: about 150 a minute, a usual conversational pace


class Measured(Facts):
    meeting: Meeting
    turns: list[Turn]


class Performance(BaseModel):
    talk_ratio: Decimal
    questions_asked: int
    longest_monologue_seconds: int
    objections_raised: int
    objections_handled: int
    next_step_agreed: bool
    objections: list[str] = []
    changed: bool = False


def talk_ratio(turns: list[Turn]) -> Decimal:
    total = sum(t.words for t in turns)
    if not total:
        return Decimal("0.000")
    ours = sum(t.words for t in turns if t.ours)
    return (Decimal(ours) / Decimal(total)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def longest_monologue(turns: list[Turn]) -> int:
    """Seconds of our longest stretch of talking with nobody else speaking."""
    longest = 0
    position = 0
    while position < len(turns):
        first = turns[position]
        end = position
        while end + 1 < len(turns) and turns[end + 1].speaker == first.speaker:
            end += 1
        if first.ours:
            if end + 1 < len(turns):
                length = turns[end + 1].start - first.start
            else:  # the call's last words: as long as they take to say
                length = turns[end].start - first.start + round(turns[end].words / SPEECH_RATE)
            longest = max(longest, length)
        position = end + 1
    return longest


def measure(turns: list[Turn]) -> Performance:
    objections = _dialogue.objections(turns)
    return Performance(
        talk_ratio=talk_ratio(turns),
        questions_asked=len(_dialogue.questions(turns)),
        longest_monologue_seconds=longest_monologue(turns),
        objections_raised=len(objections),
        objections_handled=sum(1 for o in objections if o.handled),
        next_step_agreed=_dialogue.next_step(turns).agreed,
        objections=[f"{o.label}: {o.quote}{' (handled)' if o.handled else ''}" for o in objections],
    )


@register
class CallPerformanceAnalytics(Agent[MeetingRef, Performance]):
    name = "call_performance_analytics"
    category = "meeting"
    trigger = "handoff"
    queue = "sales"
    Input = MeetingRef
    Facts = Measured
    Output = Performance

    def load(self, ctx: RunContext, data: MeetingRef) -> Measured:
        meeting = load_meeting(data.meeting_id)
        _, turns = meeting_transcript(meeting)
        if not turns:
            raise SkipRun(f"no transcript is stored for meeting {meeting.pk}: nothing to measure")
        if not any(t.ours for t in turns):
            raise SkipRun(f"no speaker of meeting {meeting.pk}'s transcript is on our side: nothing to measure")
        return Measured(meeting=meeting, turns=turns)

    def act(self, ctx: RunContext, facts: Measured) -> Performance:
        found = measure(facts.turns)
        _, found.changed = save_call_performance(
            meeting=facts.meeting,
            talk_ratio=found.talk_ratio,
            questions_asked=found.questions_asked,
            longest_monologue_seconds=found.longest_monologue_seconds,
            objections_raised=found.objections_raised,
            objections_handled=found.objections_handled,
            next_step_agreed=found.next_step_agreed,
        )
        return found
