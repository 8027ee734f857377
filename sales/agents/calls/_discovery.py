"""What a discovery call says the prospect needs: needs, scope, budget, timeline, decision makers,
each with the transcript line and the words it came from (sales.requirements).

The offline reading behind transcript_processing and the qualification in meeting_follow_up.
Written for how buyers say these things ("somewhere between 10 and 15k", "we've set aside up to
$25,000", "live within six weeks", "by the end of next quarter", "Dana, our CFO, signs off"),
not for one script: the tests feed it the sandbox's calls and hand-written real-sounding ones.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Literal

from sales.agents.calls._dialogue import OBJECTIONS, sentences
from sales.agents.calls._transcript import Turn
from sales.requirements import Budget, DecisionMaker, Need, Requirements, ScopeItem, Timeline

# Longest first: "US$" before "$".
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("US$", "USD"), ("AU$", "AUD"), ("A$", "AUD"), ("CA$", "CAD"), ("C$", "CAD"), ("NZ$", "NZD"),
    ("$", "USD"), ("\u20ac", "EUR"), ("\u00a3", "GBP"),
)  # fmt: skip
_CODES = ("USD", "EUR", "GBP", "CHF", "AUD", "CAD", "NZD")
_WORDS = {
    "dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pounds": "GBP",
    "quid": "GBP", "francs": "CHF", "australian dollars": "AUD", "canadian dollars": "CAD",
}  # fmt: skip
_MULTIPLIERS = {"k": 1000, "thousand": 1000, "grand": 1000, "m": 1_000_000, "mm": 1_000_000, "million": 1_000_000}
_AMOUNT = re.compile(
    r"(?P<pre>US\$|AU\$|A\$|CA\$|C\$|NZ\$|\$|€|£|\b(?:USD|EUR|GBP|CHF|AUD|CAD|NZD)\s?)?"
    r"(?P<num>\d{1,3}(?:[,.]\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>k|thousand|grand|mm|m|million)\b)?"
    r"(?:\s?(?P<sym>[$\u20ac\u00a3]))?"
    r"(?:\s?(?P<post>australian dollars|canadian dollars|dollars?|bucks|euros?|pounds|quid|francs|"
    r"usd|eur|gbp|chf|aud|cad|nzd)\b)?",
    re.I,
)
_RANGE_GAP = re.compile(r"^\s*(?:-|\u2013|\u2014|to|and|or)\s*$", re.I)
_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SPELLED = re.compile(
    r"\b(?P<tens>" + "|".join(_TENS) + r")?(?:[- ]?(?P<unit>" + "|".join(_UNITS[1:]) + r"))?"
    r"(?P<hundred> hundred)?(?= (?:thousand|grand|k)\b)",
    re.I,
)
_NOT_BUDGET = re.compile(
    r"revenue|turnover|\bsales of|\barr\b|raised|funding|valuation|salar|per hour|an hour|hourly|per seat|a seat", re.I
)
_BUDGET_CUE = re.compile(
    r"budget|set aside|spend|invest|thinking|range|ballpark|allocat|up to|willing|afford|looking at|\bcap\b|"
    r"\bmax|somewhere|around|about|roughly|approved|could do|can do|stretch",
    re.I,
)
_BUDGET_QUESTION = re.compile(r"budget|invest|spend|price|pricing|cost|money|ballpark|\bpay\b", re.I)
_UP_TO = re.compile(r"up to|at most|no more than|\bmax|maximum|\bcap\b|\bunder\b|below|less than", re.I)
_AT_LEAST = re.compile(r"at least|minimum|more than|\bover\b", re.I)
_PER_MONTH = re.compile(r"(a|per|each|every) month|monthly|/mo\b", re.I)
_PER_YEAR = re.compile(r"(a|per|each|every) year|annual|yearly|/yr\b", re.I)

_NO_TIMELINE = re.compile(r"no (fixed|hard|real|set) (date|deadline|timeline)|whenever|no rush|not in a hurry", re.I)
_TIMELINE_CUE = re.compile(
    r"\b(within|weeks?|months?|days?|quarter|q[1-4]|asap|as soon as possible|deadline|go live|live by|launch|"
    r"by (the )?(end|summer|spring|autumn|fall|winter|january|february|march|april|may|june|july|august|"
    r"september|october|november|december))\b",
    re.I,
)
_GOING_LIVE = re.compile(
    r"\b(live|launch\w*|ready|running|deadline|within|by (the )?(end|early|mid|late|next|this))\b", re.I
)
_TIMELINE_QUESTION = re.compile(r"timeline|timeframe|time frame|when would|how soon|by when|deadline|live", re.I)
_COUNT = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_COUNT |= {"a few": 3, "a couple of": 2, "a couple": 2, "few": 3, "several": 4}
_SPAN = re.compile(
    r"\b(\d+|a few|a couple of|a couple|few|several|" + "|".join(k for k in _COUNT if " " not in k) + r")\s+"
    r"(day|week|month)s?\b",
    re.I,
)
_MONTH_NAMES = [m.lower() for m in calendar.month_name if m]

_PAIN = re.compile(
    r"\b(spends?|spent|spending|wastes?|wasting|takes us|take us|taking us|by hand|manual(ly)?|chasing|chase|"
    r"fall(s|ing)? through|slip(s|ping)? through|no idea|no visibility|can'?t see|struggl\w*|problem|challenge|"
    r"pain|bottleneck|too (long|slow)|back and forth|wait(s|ing)? (a day|days|hours|too long|for)|"
    r"miss(es|ed|ing)?|los(e|ing)|lost|error-prone|mistakes|copy(ing)? and past\w*|re-?typ\w*|"
    r"we (really )?need (a|an|to|better)|we'?d love (a|an|to)|we want (a|an|to)|looking for|would love|frustrat\w*|"
    r"backlog|overwhelm\w*|can'?t keep up|drowning|out of control|half a day|a whole day|"
    r"takes? (us|them|our \w+|the team|forever|ages|weeks|days|hours))\b",
    re.I,
)
_FILLER = re.compile(
    r"^(?:(?:also|and|honestly|so|well|really|plus|mainly|basically|on top of that|and on top of that|"
    r"the (?:big|main|biggest|real) (?:one|thing|problem|issue|pain)(?: is)?(?: that)?|the problem is(?: that)?|"
    r"(?:two|three) things(?: really)?)[,:]?\s+)+",
    re.I,
)
_CLAUSE = re.compile(r",\s+and\s+|;\s+|:\s+|\s+-\s+")

# Kinds of work and what in a need points at them; the service name comes from the rate card.
SERVICES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("chatbot", "AI chatbot build", re.compile(
        r"answer|questions|support|customers? wait|\bchat|inquir|enquir|faq|respond|repl(y|ies)|calls? (in|coming)|"
        r"assistant|\bbot\b|drafts?\b",
        re.I)),
    ("automation", "Workflow automation", re.compile(
        r"by hand|manual|chasing|follow-?ups?|onboarding|spreadsheet|report|back and forth|data entry|copy|invoice|"
        r"schedul|connect|integrat|\bcrm\b|leads?\b|paperwork|admin|no idea which|visibility|attribution|"
        r"dashboard|track", re.I)),
    ("workshop", "AI discovery workshop", re.compile(r"where to start|strategy|roadmap|explor|figur\w* out", re.I)),
    ("retainer", "AI operations retainer", re.compile(
        r"run it for us|ongoing|maintain|look after|keep it running", re.I)),
)  # fmt: skip

_ROLE = (
    r"(?:co-?founder|founder|owner|ceo|cfo|coo|cto|cmo|cio|president|managing partner|managing director|"
    r"general manager|partner|board|"
    r"head of (?:sales|operations|ops|finance|marketing|growth|it|technology|product|customer success|hr|people)|"
    r"(?:vp|vice president|director) of (?:sales|operations|finance|marketing|growth|it|technology|product)|"
    r"(?:operations|finance|marketing|sales|it|technical|office|practice) (?:director|lead|manager))"
)
_NAME = r"(?P<name>[A-Z][a-z'\u2019-]+(?: [A-Z][a-z'\u2019-]+)?)"
# Names are capitalised words (so no re.I on them); the words around them in any case.
_DECIDER_PATTERNS = (
    re.compile(_NAME + r",? (?i:our|my|the) (?P<role>(?i:" + _ROLE + r"))\b"),
    re.compile(r"\b(?i:our|my|the) (?P<role>(?i:" + _ROLE + r")),? " + _NAME),
    re.compile(r"\b(?i:run it by|talk to|check with|loop in|sign-?off from|approval from) " + _NAME),
)
_NOT_NAMES = {"me", "i", "we", "our", "the", "and", "but", "so", "sure", "yes", "ideally", "us", "they", "he", "she"}
_SELF_DECIDES = re.compile(
    r"^(?:it'?s )?(?:just |mostly )?me\b|\bme and\b|\bi (?:decide|make the (?:call|decision)|sign off|"
    r"have the final say|own the budget|approve)|\bi'?m the (?:decision maker|one who decides)|^i do\b",
    re.I,
)
_DECISION_CONTEXT = re.compile(
    r"decid|decision|sign(s|ed)? off|approv|final say|involved|budget holder|run it by", re.I
)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str | None
    unit: int  # the thousands word's multiplier, 1 without one
    start: int
    end: int

    @property
    def money(self) -> bool:
        """A currency or a thousands word: a sum of money, not a count of people or weeks."""
        return self.currency is not None or self.unit > 1


def _spelled_to_digits(text: str) -> str:
    """ "twenty-five thousand" -> "25 thousand", so the amount reader sees digits; lengths change,
    so only values (never quotes) are read from the result."""

    def number(match: re.Match[str]) -> str:
        if not (match["tens"] or match["unit"]):
            return match[0]
        value = _TENS.get((match["tens"] or "").lower(), 0) + (
            _UNITS.index(match["unit"].lower()) if match["unit"] else 0
        )
        return str(value * (100 if match["hundred"] else 1))

    return _SPELLED.sub(number, text)


def _number(raw: str) -> Decimal | None:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", raw):
        raw = raw.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")  # 15.000: a European thousands separator
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def amounts(text: str) -> list[Amount]:
    """The sums of money in a sentence; in "10 to 15k" the first takes the second's units."""
    said = _spelled_to_digits(text)
    found: list[Amount] = []
    for match in _AMOUNT.finditer(said):
        value = _number(match["num"])
        if value is None:
            continue
        unit = _MULTIPLIERS.get((match["mult"] or "").lower(), 1)
        pre, post = (match["pre"] or match["sym"] or "").strip(), (match["post"] or "").lower()
        currency = next((code for symbol, code in _SYMBOLS if pre == symbol), None)
        currency = currency or (pre.upper() if pre.upper() in _CODES else None)
        currency = currency or _WORDS.get(post) or (post.upper() if post.upper() in _CODES else None)
        found.append(Amount(value * unit, currency, unit, match.start(), match.end()))
    for position, (first, second) in enumerate(pairwise(found)):
        if first.unit > 1 or not second.money or not _RANGE_GAP.match(said[first.end : second.start]):
            continue
        unit = second.unit if second.unit > 1 else 1000
        if first.value * unit > second.value:
            unit = 1  # "$800 to 1,000": the first is complete as said
        currency = first.currency or second.currency  # "£8-12k": one currency for both ends
        if unit > 1 or not first.money:
            found[position] = Amount(first.value * unit, currency, max(unit, first.unit), first.start, first.end)
        found[position + 1] = Amount(second.value, currency, second.unit, second.start, second.end)
    return [a for a in found if a.money and a.value > 0]


def _clause(text: str) -> str:
    return _FILLER.sub("", text.strip()).rstrip(" .!?,;")


def _asked_before(turns: Sequence[Turn], position: int, pattern: re.Pattern[str]) -> bool:
    for earlier in reversed(turns[:position]):
        if earlier.ours:
            return bool(pattern.search(earlier.text))
    return False


def budget(turns: Sequence[Turn], *, default_currency: str) -> Budget | None:
    """The budget they stated: the last sentence of theirs naming a sum of money as what they would
    spend (a budget word, or the answer to our question about money); revenue and prices of
    other things are not a budget."""
    found: Budget | None = None
    for position, turn in enumerate(turns):
        if not turn.theirs:
            continue
        asked = _asked_before(turns, position, _BUDGET_QUESTION)
        for sentence in sentences(turn.text):
            sums = amounts(sentence)
            if not sums or _NOT_BUDGET.search(sentence) or not (asked or _BUDGET_CUE.search(sentence)):
                continue
            values = sorted(a.value for a in sums)
            low: Decimal | None = values[0]
            high: Decimal | None = values[-1]
            if len(values) == 1 and _UP_TO.search(sentence):
                low = None
            elif len(values) == 1 and _AT_LEAST.search(sentence):
                high = None
            per: Literal["", "month", "year"] = (
                "month" if _PER_MONTH.search(sentence) else "year" if _PER_YEAR.search(sentence) else ""
            )
            currency = next((a.currency for a in sums if a.currency), None) or default_currency
            found = Budget(line=turn.index, quote=sentence, low=low, high=high, currency=currency.upper(), per=per)
    return found


def weeks_until(sentence: str, *, on: dt.date) -> int | None:
    """Weeks from the call to when they want it, from what they said (None: no time named)."""
    said = sentence.lower()
    match = _SPAN.search(said)
    if match:
        count = int(match[1]) if match[1].isdigit() else _COUNT[match[1]]
        days = {"day": 1, "week": 7, "month": 30}[match[2]] * count
        return max(round(days / 7), 1)
    quarter = (on.month - 1) // 3
    if re.search(r"next quarter", said):
        return _weeks(on, _quarter_end(on.year, quarter + 1))
    if re.search(r"(this|the) quarter", said):
        return _weeks(on, _quarter_end(on.year, quarter))
    if re.search(r"end of (the|this) year|this year", said):
        return _weeks(on, dt.date(on.year, 12, 31))
    month = next((n for n, name in enumerate(_MONTH_NAMES, start=1) if re.search(rf"\b{name}\b", said)), None)
    if month is not None:
        year = on.year if month > on.month else on.year + 1
        return _weeks(on, dt.date(year, month, 1))
    return None


def _quarter_end(year: int, quarter: int) -> dt.date:
    year += quarter // 4
    month = (quarter % 4) * 3 + 3
    return (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)


def _weeks(on: dt.date, until: dt.date) -> int:
    return max((until - on).days // 7, 0)


def timeline(turns: Sequence[Turn], *, on: dt.date) -> Timeline | None:
    """When they want it: their first sentence naming a time for going live (or answering our
    question about timing); "no fixed date, whenever" is not a timeline."""
    for position, turn in enumerate(turns):
        if not turn.theirs:
            continue
        asked = _asked_before(turns, position, _TIMELINE_QUESTION)
        for sentence in sentences(turn.text):
            if _NO_TIMELINE.search(sentence) or amounts(sentence) or not _TIMELINE_CUE.search(sentence):
                continue
            if not asked and not _GOING_LIVE.search(sentence):
                continue  # "it takes us three weeks" is a pain, not a timeline
            if any(rx.search(sentence) for rx in OBJECTIONS.values()):
                continue
            weeks = weeks_until(sentence, on=on)
            if weeks is None and not re.search(r"asap|as soon as possible", sentence, re.I):
                continue
            return Timeline(line=turn.index, quote=sentence, text=_clause(sentence), weeks=weeks)
    return None


def needs(turns: Sequence[Turn]) -> list[Need]:
    """Each problem they named (a clause with a pain in it), in their words."""
    found: list[Need] = []
    for turn in turns:
        if not turn.theirs:
            continue
        for sentence in sentences(turn.text):
            if amounts(sentence) or any(rx.search(sentence) for rx in OBJECTIONS.values()):
                continue
            for part in _CLAUSE.split(sentence):
                quote = part.strip().rstrip(" .!?,;")
                if len(quote) < 12 or not _PAIN.search(quote):
                    continue
                text = _clause(quote)
                if text and not any(n.text.lower() == text.lower() for n in found):
                    found.append(Need(line=turn.index, quote=quote, text=text[:1].upper() + text[1:]))
    return found


def scope(found: Sequence[Need], *, services: Sequence[str]) -> list[ScopeItem]:
    """What we would do about each need, as the rate card's service for that kind of work."""
    items: list[ScopeItem] = []
    for need in found:
        kind = next(((key, label) for key, label, rx in SERVICES if rx.search(need.text)), None)
        if kind is None:
            continue
        key, label = kind
        service = next((s for s in services if key in s.lower()), label)
        items.append(ScopeItem(line=need.line, quote=need.quote, text=f"{service}: {need.text}", service=service))
    return items


def decision_makers(turns: Sequence[Turn], *, speaker_role: str = "") -> list[DecisionMaker]:
    """Who decides: people named with their role, people they will run it by, and the speaker when
    they say they decide ("me and Dana, our CFO")."""
    found: dict[str, DecisionMaker] = {}
    for turn in turns:
        if not turn.theirs:
            continue
        for sentence in sentences(turn.text):
            for pattern in _DECIDER_PATTERNS:
                for match in pattern.finditer(sentence):
                    name = match["name"].strip()
                    if name.split()[0].lower() in _NOT_NAMES:
                        continue
                    role = (match.groupdict().get("role") or "").strip()
                    known = found.get(name.lower())
                    if known is None or (role and not known.role):
                        found[name.lower()] = DecisionMaker(line=turn.index, quote=sentence, name=name, role=role)
            if _SELF_DECIDES.search(sentence) and _DECISION_CONTEXT.search(
                sentence + " " + _previous_ours(turns, turn)
            ):
                found.setdefault(
                    turn.speaker.lower(),
                    DecisionMaker(line=turn.index, quote=sentence, name=turn.speaker, role=speaker_role),
                )
    return list(found.values())


def _previous_ours(turns: Sequence[Turn], turn: Turn) -> str:
    earlier = [t for t in turns if t.index < turn.index and t.ours]
    return earlier[-1].text if earlier else ""


def requirements(
    turns: Sequence[Turn], *, on: dt.date, currency: str, services: Sequence[str], speaker_role: str = ""
) -> Requirements:
    found = needs(turns)
    return Requirements(
        needs=found,
        scope=scope(found, services=services),
        budget=budget(turns, default_currency=currency),
        timeline=timeline(turns, on=on),
        decision_makers=decision_makers(turns, speaker_role=speaker_role),
    )
