"""Reading a proposal's ``requirements``: what the prospect asked for, each with where it was said.

transcript_processing writes them from the discovery call (needs, scope items, a budget range,
a timeline, the decision makers, each with the transcript line it came from); upsell_detection and
renewal_manager write drafts of their own. The JSON is read tolerantly here, once, so pricing and
proposal_creation see the same typed view whatever the writer's exact keys: an item may be a plain
string or an object (``text``/``need``/``item``/``description``), its evidence a ``quote`` and a
``line`` (or a nested ``source``), a budget ``low``/``high`` (or ``min``/``max``, ``amount``) or
just the sentence that stated it ("between $8,000 and $12,000").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field

TEXT_KEYS = ("text", "need", "item", "description", "summary", "name", "title", "value")
QUOTE_KEYS = ("quote", "source_quote", "evidence", "said", "line_text", "excerpt")
LINE_KEYS = ("line", "line_index", "index", "source_line", "line_no")
LOW_KEYS = ("low", "min", "minimum", "from", "lower")
HIGH_KEYS = ("high", "max", "maximum", "to", "upper", "amount", "value", "total")
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
# "$8,000", "8k", "12.5k", "8 000 EUR": an amount with an optional thousands suffix.
_AMOUNT = re.compile(r"([$€£])?\s?(\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)\s?(k|K|thousand)?\b")
_WEEKS = re.compile(r"(\d+)\s*(week|wk|month|day)s?", re.IGNORECASE)
_CURRENCY = re.compile(r"\b(USD|EUR|GBP|CAD|AUD|CHF)\b")


class Said(BaseModel):
    """One thing the prospect said, with the evidence for it (the quote and its transcript line)."""

    text: str
    quote: str = ""
    line: int | None = None


class Budget(BaseModel):
    low: Decimal | None = None
    high: Decimal
    currency: str = "USD"
    quote: str = ""
    line: int | None = None


class Requirements(BaseModel):
    needs: list[Said] = Field(default_factory=list)
    scope: list[Said] = Field(default_factory=list)
    budget: Budget | None = None
    timeline: Said | None = None
    timeline_weeks: int | None = None
    decision_makers: list[Said] = Field(default_factory=list)
    discount_requested: Decimal | None = None  # percent, when the buyer or an operator asked for one

    @property
    def deliverables(self) -> list[Said]:
        """What to price: the scope items when stated, else the needs (each need is one piece of work)."""
        return self.scope or self.needs

    def quotes(self) -> list[str]:
        found = [s.quote for s in (*self.needs, *self.scope, *self.decision_makers) if s.quote]
        found += [s.quote for s in (self.timeline,) if s is not None and s.quote]
        if self.budget is not None and self.budget.quote:
            found.append(self.budget.quote)
        return found


def read_requirements(raw: Any) -> Requirements:
    """The typed view of a proposal's ``requirements`` JSON (unknown keys are ignored)."""
    if not isinstance(raw, Mapping):
        return Requirements()
    timeline = _said(_first(raw, "timeline", "timeframe", "deadline"))
    return Requirements(
        needs=_list(_first(raw, "needs", "pains", "problems", "goals", "goal")),
        scope=_list(_first(raw, "scope", "scope_items", "deliverables", "services")),
        budget=_budget(_first(raw, "budget", "budget_range")),
        timeline=timeline,
        timeline_weeks=_weeks(_first(raw, "timeline", "timeframe", "deadline"), timeline),
        decision_makers=_list(_first(raw, "decision_makers", "decision_maker", "stakeholders")),
        discount_requested=_percent(_first(raw, "discount", "discount_requested", "discount_percent")),
    )


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    return next((raw[k] for k in keys if raw.get(k) not in (None, "", [], {})), None)


def _list(value: Any) -> list[Said]:
    items = value if isinstance(value, list | tuple) else ([value] if value is not None else [])
    return [s for s in (_said(i) for i in items) if s is not None]


def _said(value: Any) -> Said | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        text = str(value).strip()
        return Said(text=text) if text else None
    nested = value.get("source")
    source: Mapping[str, Any] = nested if isinstance(nested, Mapping) else {}
    text = next((str(value[k]).strip() for k in TEXT_KEYS if value.get(k) not in (None, "")), "")
    quote = next((str(d[k]).strip() for d in (value, source) for k in QUOTE_KEYS if d.get(k)), "")
    if not text and not quote:
        return None
    role = str(value.get("role") or value.get("title") or "").strip()
    if role and role not in text:
        text = f"{text} ({role})" if text else role
    return Said(text=text or quote, quote=quote, line=_line(value, source))


def _line(*sources: Mapping[str, Any]) -> int | None:
    for data in sources:
        for key in LINE_KEYS:
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().isdigit():
                return int(value.strip())
    return None


def parse_amount(text: str) -> Decimal | None:
    """'$12,000' -> 12000, '12k' -> 12000, '12.5' -> 12.5; None when no number is there."""
    match = _AMOUNT.search(text)
    if match is None:
        return None
    return _scaled(match)


def _scaled(match: re.Match[str]) -> Decimal | None:
    try:
        number = Decimal(re.sub(r"[,\s]", "", match.group(2)))
    except InvalidOperation:
        return None
    return number * 1000 if match.group(3) else number


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return parse_amount(str(value))


def _budget(value: Any) -> Budget | None:
    if value is None:
        return None
    data: Mapping[str, Any] = value if isinstance(value, Mapping) else {"text": str(value)}
    said = _said(data) or Said(text="")
    low = next((m for k in LOW_KEYS if (m := _money(data.get(k))) is not None), None)
    high = next((m for k in HIGH_KEYS if (m := _money(data.get(k))) is not None), None)
    sentence = said.quote or said.text
    if high is None and sentence:
        # Only the words: the amounts in them, the largest being what they would stretch to.
        amounts = [a for m in _AMOUNT.finditer(sentence) if (a := _scaled(m)) is not None and a >= 100]
        if amounts:
            low, high = (min(amounts), max(amounts)) if len(amounts) > 1 else (None, amounts[0])
    if high is None or high <= 0:
        return None
    if low is not None and (low <= 0 or low > high):
        low = None
    currency = str(data.get("currency") or "").strip().upper()
    if not currency:
        code = _CURRENCY.search(sentence)
        symbol = next((c for s, c in SYMBOLS.items() if s in sentence), "")
        currency = code.group(1) if code else symbol or "USD"
    return Budget(low=low, high=high, currency=currency[:3], quote=said.quote, line=said.line)


def _weeks(value: Any, said: Said | None) -> int | None:
    if isinstance(value, Mapping):
        for key in ("weeks", "duration_weeks"):
            if isinstance(value.get(key), int) and value[key] > 0:
                return int(value[key])
    if said is None:
        return None
    match = _WEEKS.search(f"{said.text} {said.quote}")
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    weeks = {"week": number, "wk": number, "month": number * 4, "day": max(1, round(number / 7))}[unit]
    return weeks if weeks > 0 else None


def _percent(value: Any) -> Decimal | None:
    if isinstance(value, Mapping):
        value = value.get("percent", value.get("value"))
    number = _money(value)
    return number if number is not None and 0 < number < 100 else None
