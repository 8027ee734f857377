"""What the delivery agents share: audited status moves, working days, hours, word matching."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models

from agents.context import RunContext
from crm.models import Lead
from delivery.models import ChangeRequest
from sales.models import Client

HOURS = Decimal("0.5")  # estimates are kept to the half hour
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which work a text is about.
_STOP = frozenset(
    """a an and are as at be by can could do does for from has have how i if in into is it its me my of on
    or our so that the their them then there these this to up us was we what when where which who why
    will with would you your all also any each new one more should must works work done end""".split()  # noqa: SIM905
)


def move(
    ctx: RunContext, obj: Any, status: str, *, action: str, note: dict[str, Any] | None = None, **fields: Any
) -> bool:
    """A status change the model's machine allows, saved and audited with any fields set with it.
    Returns whether anything changed. Raises InvalidTransition otherwise."""
    obj.STATUS_MACHINE.check(obj, status)
    return bool(ctx.update(obj, action=action, note=note, status=status, **fields))


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def half_hours(value: float | Decimal) -> Decimal:
    """Hours rounded to the half hour, at least half an hour."""
    halves = (Decimal(str(value)) / HOURS).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return max(HOURS, halves * HOURS)


def blended_rate() -> Decimal:
    return Decimal(str(settings.DELIVERY_BLENDED_HOURLY_RATE))


def project_pace() -> Decimal:
    """Hours of work a week one project gets when its plan is paced."""
    return Decimal(settings.DELIVERY_PROJECT_HOURS_PER_WEEK)


# --- working days ---------------------------------------------------------------------------
def is_working_day(day: dt.date) -> bool:
    return day.isoweekday() <= 5


def next_working_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, days: int) -> dt.date:
    """``day`` moved ``days`` working days on (a weekend start counts from the Monday)."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    for _ in range(max(0, days)):
        day = next_working_day(day)
    return day


def working_days_for(hours: Decimal, *, pace: Decimal | None = None) -> int:
    """Working days ``hours`` of work take at ``pace`` hours a week (whole days, at least one)."""
    per_day = (pace or project_pace()) / 5
    return max(1, math.ceil(hours / per_day)) if per_day > 0 else 1


# --- words ------------------------------------------------------------------------------------------
def content_words(text: str) -> set[str]:
    """The words that carry meaning, crudely stemmed ("integrations" meets "integration")."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 3:
            continue
        for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        words.add(word)
    return words


def overlap(a: str, b: str) -> float:
    """How much of ``a``'s meaning ``b`` covers: shared content words over ``a``'s (0..1)."""
    mine = content_words(a)
    return len(mine & content_words(b)) / len(mine) if mine else 0.0


def best_match(text: str, candidates: Iterable[str]) -> tuple[int, float]:
    """(index, score) of the candidate that covers ``text`` best; (-1, 0) when there is none."""
    best, score = -1, 0.0
    for index, candidate in enumerate(candidates):
        found = max(overlap(text, candidate), overlap(candidate, text))
        if found > score:
            best, score = index, found
    return best, score


# --- people ---------------------------------------------------------------------------------
def contact_of(client: Client) -> Lead | None:
    """Who hears from us about the work: the client's primary contact."""
    return client.primary_contact


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday and Sunday of ``day``'s ISO week."""
    monday = day - dt.timedelta(days=day.isoweekday() - 1)
    return monday, monday + dt.timedelta(days=6)


def sum_hours(values: Iterable[Decimal]) -> Decimal:
    return sum(values, Decimal("0"))


def label(obj: models.Model) -> str:
    return f"{type(obj).__name__.lower()} #{obj.pk}"


CHANGE_KEY_PREFIX = "change_request:"


def change_key(change: ChangeRequest) -> str:
    """A change request's key: its approval's dedupe key is ``approval:<this>``, its emails' start with it."""
    return f"{CHANGE_KEY_PREFIX}{change.pk}"
