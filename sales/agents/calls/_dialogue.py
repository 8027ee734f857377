"""How a call went, read from its turns: questions, objections and their answers, the next step,
who promised what by when.

Phrase lists, not a model: they are the offline reading that call_performance_analytics uses
and that meeting_notes and meeting_follow_up fall back on. They are written for the way people
talk on sales calls in English (contractions, hedges, "sounds good"), not for one script.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sales.agents.calls._transcript import Turn

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])")
_QUESTION_OPENER = re.compile(
    r"^(?:so,?\s+|and\s+|okay,?\s+|ok,?\s+)?(?:what|how|who|when|where|why|which|could you|can you|would you|"
    r"do you|did you|are you|is there|have you|tell me|walk me through)\b",
    re.I,
)

OBJECTIONS: dict[str, re.Pattern[str]] = {
    "adoption": re.compile(r"\badopt|yet another tool|won'?t (use|adopt)|learning curve|resist|too complicated", re.I),
    "past failure": re.compile(
        r"tried .{0,60}\b(before|last year|already|but)\b|did ?n[o']t deliver|burn(ed|t)|bad experience|"
        r"did ?n[o']t work|over-?promis|wrong answers|switched it off|gave up on",
        re.I,
    ),
    "return": re.compile(r"pays? for itself|\broi\b|return on|worth (it|the)|justify|payback", re.I),
    "price": re.compile(r"expensive|too much money|can'?t afford|pricey|over (our )?budget|costs? too much", re.I),
    "timing": re.compile(r"not (a|the) (priority|right time)|bad time|too busy|not right now", re.I),
    "trust": re.compile(r"privacy|security|gdpr|accura|hallucinat|make mistakes|trust (ai|it|the)", re.I),
    "incumbent": re.compile(r"already (have|use|work with)|in-house|existing (tool|vendor|provider|agency)", re.I),
    "competition": re.compile(
        r"talking to (another|other|a few)|other (agencies|vendors|options)|comparing|shopping around", re.I
    ),
    "concern": re.compile(
        r"\b(my|our|one|the main|the big) (worry|concern|hesitation|fear)\b|\bworried\b|\bconcerned\b|"
        r"\bnot sure (about|if|that|whether)\b|\bsk[ea]ptical\b",
        re.I,
    ),
}
# What answering an objection sounds like (an acknowledgement alone does not count).
_HANDLING = re.compile(
    r"\bpilot|start small|measur|results|case stud|reference|guarantee|refund|payback|pays? for itself|\broi\b|"
    r"return on|\btrain|onboard|we (set|build|run|handle|take care|integrate)|tools you (already )?use|fixed price|"
    r"\bphase|milestone|secure|your data|approv|complian|gdpr|support|no lock-?in|cancel any ?time|"
    r"up front|step by step|proof|example",
    re.I,
)
_PROPOSES = re.compile(
    r"next step|i'?ll (send|put together|prepare|draft|share|set up|book)|i will (send|prepare)|we'?ll (send|prepare)|"
    r"i can (send|prepare)|send (you|over)|let'?s (book|schedule|set up|meet|reconvene|talk again)|"
    r"(book|schedule|set up) (a|another|the|\d+)|walk (you )?through|go through it|follow-?up call|"
    r"\bdemo\b|\bworkshop\b|\bproposal\b|\bquote\b",
    re.I,
)
_THEY_ASK = re.compile(
    r"(send|share|email) (me|us) (a|the|your) (proposal|quote|pricing|estimate|contract|sow)|"
    r"let'?s (book|schedule|set up|do (it|this))|can we (book|schedule|meet|set up)",
    re.I,
)
_ACCEPTS = re.compile(
    r"\b(sounds (good|great|perfect)|works for (me|us)|that works|\w+day works|perfect|great|yes|yeah|yep|sure|"
    r"absolutely|definitely|let'?s do (it|that)|looking forward|deal|agreed|of course|see you|will do)\b",
    re.I,
)
_HEDGES = re.compile(
    r"let'?s see|we'?ll see|i'?ll (think|get back|have a look|take a look|let you know)|need to think|"
    r"think about it|not sure|maybe|send me something|send me some (info|information|material)|no promises|"
    r"circle back|be in touch|overview first|not (yet|now)",
    re.I,
)
_COMMITS = re.compile(
    r"\b(?:i'?ll|i will|we'?ll|we will|let me|i'?m going to|we'?re going to|i'?d be happy to)\s+"
    r"(?:\w+\s+){0,2}?(?:send|share|prepare|put together|draft|write|follow up|check|talk|speak|run it by|loop|"
    r"introduce|book|schedule|set up|get back|review|look|take a look|think|bring|forward|invite|confirm|ask|give|"
    r"let|send over|circulate|sign)\b",
    re.I,
)
_REQUESTS = re.compile(r"^(?:\w+[,.!]?\s+){0,3}(?:send|share|email|forward) (me|us)\b", re.I)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "a": 1, "a couple of": 2}
_WEEKDAY = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_MONTH = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(_QUESTION_OPENER.match(sentence.strip()))


def questions(turns: Sequence[Turn]) -> list[tuple[int, str]]:
    """Our questions: (line, sentence)."""
    return [(t.index, s) for t in turns if t.ours for s in sentences(t.text) if is_question(s)]


@dataclass(frozen=True)
class Objection:
    label: str
    line: int
    quote: str
    handled: bool
    answer: str = ""  # our words that answered it


def objections(turns: Sequence[Turn]) -> list[Objection]:
    """Each objection the prospect raised (one per sentence), and whether our next words answered it:
    the turns of ours right after it, before they speak again, with something beyond a nod."""
    found: list[Objection] = []
    for position, turn in enumerate(turns):
        if not turn.theirs:
            continue
        for sentence in sentences(turn.text):
            label = next((name for name, rx in OBJECTIONS.items() if rx.search(sentence)), None)
            if label is None:
                continue
            reply = []
            for later in turns[position + 1 :]:
                if later.theirs:
                    break
                if later.ours:
                    reply.append(later.text)
            answer = next((s for text in reply for s in sentences(text) if _HANDLING.search(s)), "")
            found.append(Objection(label=label, line=turn.index, quote=sentence, handled=bool(answer), answer=answer))
    return found


@dataclass(frozen=True)
class NextStep:
    agreed: bool
    line: int | None = None  # where the step was put forward
    text: str = ""
    reply: str = ""  # what the other side said to it
    reply_line: int | None = None


def _answer_after(turns: Sequence[Turn], position: int, *, side: str) -> Turn | None:
    for later in turns[position + 1 :]:
        if later.side == side:
            return later
    return None


def next_step(turns: Sequence[Turn]) -> NextStep:
    """The last next step put forward, and whether it was agreed: one side proposes something
    concrete, the other says yes without hedging ("let's see, send me something" is not a yes)."""
    result = NextStep(agreed=False)
    for position, turn in enumerate(turns):
        if turn.ours:
            asked = [s for s in sentences(turn.text) if _PROPOSES.search(s)]
            answer_side = "them"
        elif turn.theirs:
            asked = [s for s in sentences(turn.text) if _THEY_ASK.search(s)]
            answer_side = "us"
        else:
            continue
        if not asked:
            continue
        reply = _answer_after(turns, position, side=answer_side)
        said = reply.text if reply is not None else ""
        agreed = bool(said) and bool(_ACCEPTS.search(said)) and not _HEDGES.search(said)
        if answer_side == "us":
            agreed = agreed or bool(reply is not None and _COMMITS.search(said))
        result = NextStep(
            agreed=agreed,
            line=turn.index,
            text=" ".join(asked),
            reply=said,
            reply_line=reply.index if reply is not None else None,
        )
    return result


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner: str  # "us" or "them"
    owner_name: str
    due: dt.date | None
    line: int

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "owner": self.owner,
            "owner_name": self.owner_name,
            "due": self.due.isoformat() if self.due else None,
            "line": self.line,
        }


_CLAUSES = re.compile(r",\s+and\s+|;\s+|\.\s+|,?\s+and\s+(?=(?:we|i|you|they)\b)", re.I)
_MEET = re.compile(r"\b(book|call|meet|walk|go through)", re.I)


def action_items(turns: Sequence[Turn], *, on: dt.date) -> list[ActionItem]:
    """Who promised what, by when: every "I'll ..." of either side (the promise, not the whole
    sentence), what the prospect asked us to send, and the follow-up call of an agreed next step.
    ``on`` is the call's local date."""
    items: dict[str, ActionItem] = {}
    step = next_step(turns)

    def add(text: str, owner: str, name: str, due: dt.date | None, line: int) -> None:
        items.setdefault(text.lower(), ActionItem(text, owner, name, due, line))

    for position, turn in enumerate(turns):
        if turn.side not in ("us", "them"):
            continue
        for sentence in sentences(turn.text):
            for clause in _CLAUSES.split(sentence):
                promise = _COMMITS.search(clause)
                if promise is None:
                    continue
                due = due_date(clause, on=on)
                if due is None and step.agreed and step.line == turn.index and step.reply:
                    due = due_date(step.reply, on=on)
                add(_clean(clause[promise.start() :]), turn.side, turn.speaker, due, turn.index)
            if turn.theirs and _REQUESTS.search(sentence):
                host = _answer_after(turns, position, side="us") or next((t for t in turns if t.ours), None)
                add(f'Send them what they asked for ("{sentence}")', "us", host.speaker if host else "",
                    due_date(sentence, on=on), turn.index)  # fmt: skip
    if step.agreed and step.line is not None and _MEET.search(step.text):
        # The call's own words name its date ("a proposal by Thursday, and a call early next week").
        clause = next((c for c in _CLAUSES.split(step.text) if _MEET.search(c)), step.text)
        due = due_date(clause, on=on) or due_date(step.reply, on=on)
        owner = next((t.speaker for t in turns if t.ours), "")
        add(f"Follow-up call: {_clean(clause)}", "us", owner, due, step.line)
    return sorted(items.values(), key=lambda i: (i.line, i.owner))


def _clean(text: str) -> str:
    text = re.sub(r"^(next step|how about this|so|okay|ok|perfect|great|yes)[:,]?\s+", "", text.strip(), flags=re.I)
    text = text.rstrip(" ,;")
    return text[:1].upper() + text[1:]


def due_date(text: str, *, on: dt.date) -> dt.date | None:
    """The date a phrase names, from the call's date: "by Friday", "end of the week", "tomorrow",
    "next Tuesday", "in two weeks", "within 3 days", "by March 6", "end of the month"."""
    said = text.lower()
    if re.search(r"\b(end of (the )?day|today|tonight)\b", said):
        return on
    if re.search(r"\btomorrow\b", said):
        return on + dt.timedelta(days=1)
    if re.search(r"\b(end of (the|this) week|this week)\b", said):
        return on + dt.timedelta(days=4 - on.weekday()) if on.weekday() <= 4 else _coming(on, 4)
    if re.search(r"\bend of (the|this) month\b", said):
        return on.replace(day=calendar.monthrange(on.year, on.month)[1])
    match = re.search(r"\bnext (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", said)
    if match:
        coming = _coming(on, _WEEKDAY[match[1]])
        # "next Tuesday" said on a Monday usually means the one a week later, not tomorrow.
        return coming if (coming - on).days > 3 else coming + dt.timedelta(days=7)
    match = re.search(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", said)
    if match:
        return _coming(on, _WEEKDAY[match[1]])
    match = re.search(r"\b(?:in|within) (\d+|one|two|three|four|five|six|ten|a couple of|a) (day|week)s?\b", said)
    if match:
        count = int(match[1]) if match[1].isdigit() else _NUMBERS[match[1]]
        return on + dt.timedelta(days=count * (7 if match[2] == "week" else 1))
    if re.search(r"\b(early )?next week\b", said):
        return _coming(on, 0) if on.weekday() != 0 else on + dt.timedelta(days=7)
    match = re.search(r"\b(" + "|".join(_MONTH) + r")\.? (\d{1,2})(?:st|nd|rd|th)?\b", said) or re.search(
        r"\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?(" + "|".join(_MONTH) + r")\b", said
    )
    if match:
        month_word, day_text = (match[1], match[2]) if match[1].isalpha() else (match[2], match[1])
        return _next_date(on, _MONTH[month_word], int(day_text))
    return None


def _coming(on: dt.date, weekday: int) -> dt.date:
    """The next such weekday after ``on`` (a week later when ``on`` is that day)."""
    ahead = (weekday - on.weekday()) % 7 or 7
    return on + dt.timedelta(days=ahead)


def _next_date(on: dt.date, month: int, day: int) -> dt.date | None:
    for year in (on.year, on.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            return None
        if candidate >= on:
            return candidate
    return None
