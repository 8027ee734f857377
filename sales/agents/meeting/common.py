"""What the meeting agents share: the lead's zone and business hours there, reading the time a
prospect names, showing a time the way the lead reads it, and which meetings are live."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import holidays
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, QuerySet

from agents.models import AuditLog
from crm.models import Lead, Message
from crm.services.replies.dates import fold, return_date
from integrations.values import Slot
from sales.models import Meeting

S = Meeting.Status
# A meeting that is still going to happen: the lead may have only one.
LIVE = (S.SCHEDULED, S.RESCHEDULED, S.REMINDED)
CALL_MINUTES = 30
# Calls are offered inside the lead's working day, on their business days (public holidays of
# their country excluded).
BUSINESS_START, BUSINESS_END = dt.time(9), dt.time(17)
BUSINESS_WEEKDAYS = (1, 2, 3, 4, 5)


def zone_of(lead: Lead | None, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    """The lead's IANA zone; UTC when unknown or unreadable (the time is then shown as UTC)."""
    for name in ((lead.time_zone if lead is not None else ""), fallback, "UTC"):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        return None  # a country the library does not know: weekdays only


def is_business_day(day: dt.date, *, country: str) -> bool:
    if day.isoweekday() not in BUSINESS_WEEKDAYS:
        return False
    table = _holidays(country, day.year) if country else None
    return table is None or day not in table


def in_business_hours(start: dt.datetime, *, zone: zoneinfo.ZoneInfo, country: str) -> bool:
    """A call of CALL_MINUTES starting at ``start`` lies inside the lead's working day."""
    local = start.astimezone(zone)
    end = local + dt.timedelta(minutes=CALL_MINUTES)
    return (
        is_business_day(local.date(), country=country)
        and local.time() >= BUSINESS_START
        and end.date() == local.date()
        and end.time() <= BUSINESS_END
    )


def suitable(slots: list[Slot], *, zone: zoneinfo.ZoneInfo, country: str, after: dt.datetime) -> list[Slot]:
    """The calendar's free slots a lead can take: after ``after``, in their business hours, in order."""
    return sorted(
        (s for s in slots if s.start >= after and in_business_hours(s.start, zone=zone, country=country)),
        key=lambda s: s.start,
    )


def when_text(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """A time as the lead reads it: "Tuesday 3 March at 10:00 (AEDT)"."""
    local = when.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({local.tzname()})"


def slot_text(when: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """One offered time in a list: "Thursday 5 March, 10:00"."""
    local = when.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


# --- the time a prospect names ------------------------------------------------------------------
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<half>[ap])\.?m\b|\b(?P<h24>\d{1,2})[:h](?P<m24>\d{2})\b|\b(?P<noon>noon)\b"
)
# Words that ask to move a call already booked (rather than agree to one).
_MOVE = re.compile(
    r"\b(reschedul\w*|move (it|the call|our call)|push (it|the call)|postpone|another (day|time)|"
    r"instead|can ?not make|can t make|won t make|unable to make)\b"
)


@dataclass(frozen=True)
class Requested:
    """What a prospect's message asks for: a day, a time of day, or both (None: not named)."""

    day: dt.date | None = None
    time: dt.time | None = None
    moves: bool = False  # they ask to move a call already booked

    @property
    def named(self) -> bool:
        return self.day is not None or self.time is not None


def clock_time(folded: str) -> dt.time | None:
    match = _CLOCK.search(folded)
    if match is None:
        return None
    if match.group("noon"):
        return dt.time(12)
    if match.group("h24"):
        hour, minute = int(match.group("h24")), int(match.group("m24"))
    else:
        hour, minute = int(match.group("h")), int(match.group("m") or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group("half") == "p" else 0)
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def requested(text: str, *, received: dt.datetime, zone: zoneinfo.ZoneInfo) -> Requested:
    """The day and time a prospect names ("Tuesday at 10:00 works for me", "Thursday 5 March at
    2pm", "tomorrow at noon", "next week"), read in their zone from the day they wrote."""
    folded = fold(text).replace("\u2019", "'").replace("'", " ")
    day = return_date(text, received=received.astimezone(zone).date())
    return Requested(day=day, time=clock_time(folded), moves=bool(_MOVE.search(folded)))


def latest_inbound(lead: Lead) -> Message | None:
    return (
        Message.objects.filter(conversation__lead=lead, direction=Message.Direction.IN)
        .order_by("-created_at", "-pk")
        .first()
    )


def received_at(message: Message) -> dt.datetime:
    return message.sent_at or message.created_at


def choose_slot(slots: list[Slot], *, ask: Requested, zone: zoneinfo.ZoneInfo) -> tuple[Slot | None, str]:
    """The slot to book among ``slots`` (suitable, in order) and why: the one the prospect named,
    else the nearest to it on the day they named, else the earliest after it, else the earliest."""
    if not slots:
        return None, "no free slot in the lead's business hours"
    local = [(s, s.start.astimezone(zone)) for s in slots]
    if ask.day is not None and ask.time is not None:
        exact = next((s for s, at in local if at.date() == ask.day and at.time() == ask.time), None)
        if exact is not None:
            return exact, "the time the prospect named"
    if ask.day is not None:
        wanted = dt.datetime.combine(ask.day, ask.time or BUSINESS_START, tzinfo=zone)
        same_day = [s for s, at in local if at.date() == ask.day]
        if same_day:
            nearest = min(same_day, key=lambda s: abs(s.start - wanted))
            return nearest, "the free time nearest to the one the prospect named, that day"
        later = next((s for s, at in local if at.date() > ask.day), None)
        if later is not None:
            return later, "the first free time after the day the prospect named"
    elif ask.time is not None:
        same_time = next((s for s, at in local if at.time() == ask.time), None)
        if same_time is not None:
            return same_time, "the first day the time the prospect named is free"
    return slots[0], "the earliest free time in the lead's business hours"


# --- what the meeting agents recorded about a meeting (its audit trail) -------------------------
# Set whenever a meeting gets its time (booked or moved): when the current time was agreed.
TIMED_ACTIONS = ("meeting.booked", "meeting.moved")


def _entries(action: str | Iterable[str], ids: Iterable[int], **after: str) -> QuerySet[AuditLog]:
    actions = [action] if isinstance(action, str) else list(action)
    return AuditLog.objects.filter(
        action__in=actions,
        target_type=ContentType.objects.get_for_model(Meeting),
        target_id__in=[str(i) for i in ids],
        **{f"after__{key}": value for key, value in after.items()},
    )


def audited(action: str, ids: Iterable[int], **after: str) -> set[int]:
    """The meetings among ``ids`` with an audit entry ``action`` (whose ``after`` has these values)."""
    return {int(t) for t in _entries(action, ids, **after).values_list("target_id", flat=True)}


def timed_at(meetings: Iterable[Meeting]) -> dict[int, dt.datetime]:
    """When each meeting's current time was agreed: its last booking or move, else its creation."""
    found = {m.pk: m.created_at for m in meetings}
    rows = _entries(TIMED_ACTIONS, found).values("target_id").annotate(last=Max("at"))
    for row in rows:
        pk = int(row["target_id"])
        found[pk] = max(found[pk], row["last"])
    return found
