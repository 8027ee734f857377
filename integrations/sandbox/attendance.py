"""Whether a prospect comes to a booked call, and how they answer us after missing one.

Decided when the call starts (integrations/sandbox/meetings.py plans the moment), from the
prospect's hidden fit and the reminders they actually received before it: the sandbox's outreach
keeps a record of every email we sent to the address (``kind="email"``), with the moment it
arrived. A reminder counts when it came in its window before the start, at an hour of the
attendee's day when mail is read, and names the call's time as the attendee reads it (in their
zone; the subject line is what the inbox shows). After a no-show, our follow-up may bring a new
booking: the prospect answers with one of the times we offered, or drops off.

Outcomes are drawn from generators seeded by the attendee's address and the call's start (market
identities, never our ids), so the same prospect at the same time draws the same number whatever
the agency did: a policy with reminders and one without are compared on the same draws.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from integrations.models import SandboxRecord
from integrations.sandbox import sending
from integrations.sandbox.inbox import Answer
from integrations.sandbox.rng import rng_for
from integrations.sandbox.store import records
from integrations.sandbox.world import Person

# --- showing up --------------------------------------------------------------------------------
# Without reminders about 30% of booked discovery calls are missed by a prospect of middling fit:
# sales-scheduling vendors commonly quote 20-40% no-shows for first calls, more for cold leads.
# A prospect who needs what we sell comes more often. Judgement within that range.
NO_SHOW_UNFIT, NO_SHOW_FIT = 0.40, 0.20  # at fit 0 and at fit 1; fit 0.5 -> 0.30
# Reminders cut the no-show odds; both together about halve them (30% -> 15%). Judgement, in line
# with the appointment-reminder literature: e.g. Guy et al. (2012, Sex Transm Infect 88:487),
# a meta-analysis of SMS reminders, finds attendance odds about 1.5x higher with a reminder, and
# scheduling tools report no-show rates falling by a third to a half with day-before and
# hour-before reminders.
DAY_BEFORE_FACTOR = 0.75
HOUR_BEFORE_FACTOR = 0.67
# When a reminder is read in time: the day before (12-36 h ahead) or just before (10 min-3 h).
DAY_BEFORE_WINDOW = (dt.timedelta(hours=12), dt.timedelta(hours=36))
HOUR_BEFORE_WINDOW = (dt.timedelta(minutes=10), dt.timedelta(hours=3))
# A reminder arriving at night is buried under the morning's mail (judgement).
READING_HOURS = range(7, 21)
# A call booked less than a day ahead is fresh in mind: the invitation does the day-before
# reminder's job (so an agency is not marked down for a reminder it could not send).
FRESH_BOOKING = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Reminders:
    day_before: bool = False
    hour_before: bool = False


def no_show_chance(*, fit: float, reminders: Reminders) -> float:
    """The odds that the prospect does not come, by fit and the reminders they had."""
    fit = min(max(fit, 0.0), 1.0)
    chance = NO_SHOW_UNFIT + (NO_SHOW_FIT - NO_SHOW_UNFIT) * fit
    if reminders.day_before:
        chance *= DAY_BEFORE_FACTOR
    if reminders.hour_before:
        chance *= HOUR_BEFORE_FACTOR
    return round(chance, 4)


def shows_up(*, attendee_email: str, start: dt.datetime, fit: float, reminders: Reminders) -> bool:
    rng = rng_for("meeting-show", attendee_email.strip().lower(), start.astimezone(dt.UTC).isoformat())
    return rng.random() >= no_show_chance(fit=fit, reminders=reminders)


def zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?(?![\w:])|\b(\d{1,2})\s*([ap]\.?m\.?)(?!\w)", re.I)


def times_named(text: str) -> set[tuple[int, int]]:
    """The clock times a text names, as (hour, minute): "10:00", "2:30 pm", "3pm"."""
    found = set()
    for match in _TIME.finditer(text):
        hour, minute, half = (
            (int(match.group(1)), int(match.group(2)), match.group(3))
            if match.group(1)
            else (int(match.group(4)), 0, match.group(5))
        )
        if half:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if half.lower().startswith("p") else 0)
        if hour < 24 and minute < 60:
            found.add((hour, minute))
    return found


def counts_as_reminder(*, subject: str, sent_at: dt.datetime, start: dt.datetime, timezone: str) -> str:
    """Which reminder an email to the attendee is ("day_before", "hour_before") or "" for none."""
    local_start, local_sent = start.astimezone(zone(timezone)), sent_at.astimezone(zone(timezone))
    if (local_start.hour, local_start.minute) not in times_named(subject):
        return ""  # it does not say when, in the attendee's own time: they cannot act on it
    if local_sent.hour not in READING_HOURS:
        return ""
    ahead = start - sent_at
    if DAY_BEFORE_WINDOW[0] <= ahead <= DAY_BEFORE_WINDOW[1]:
        return "day_before"
    if HOUR_BEFORE_WINDOW[0] <= ahead <= HOUR_BEFORE_WINDOW[1]:
        return "hour_before"
    return ""


def reminders_received(*, attendee_email: str, start: dt.datetime, booked_at: dt.datetime, timezone: str) -> Reminders:
    """What the attendee received from us before this start (our outreach's records of the address)."""
    sent = SandboxRecord.objects.filter(
        kind="email",
        party=attendee_email.strip().lower(),
        created_at__gte=start - DAY_BEFORE_WINDOW[1],
        created_at__lt=start,
    ).only("data", "created_at")
    kinds = {
        counts_as_reminder(subject=str(r.data.get("subject", "")), sent_at=r.created_at, start=start, timezone=timezone)
        for r in sent
    }
    fresh = start - booked_at < FRESH_BOOKING
    return Reminders(day_before=fresh or "day_before" in kinds, hour_before="hour_before" in kinds)


# --- after a no-show ------------------------------------------------------------------------------
# A prospect who missed the call and is offered concrete new times rebooks far more often than one
# asked to "let me know when suits" (the same reason follow_up_odds rewards offered slots). Sales
# teams report recovering roughly a third of no-shows with a prompt follow-up: judgement.
REBOOK_BASE, REBOOK_SLOT = 0.15, 0.35
REBOOK_AGAIN_FACTOR = 0.5  # someone who missed twice is half as likely to book a third time
NO_SHOW_MEMORY = dt.timedelta(days=21)  # after three weeks our email is no longer about the call
_OFFERED = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday)\b[ ,]*(\d{1,2}(?:st|nd|rd|th)? [a-z]+)?[ ,]*(?:at )?"
    r"(\d{1,2}:\d{2}(?:\s*[ap]m)?)",
    re.I,
)
_REBOOKED = "So sorry I missed our call, something came up. {when} works for me, I've put it in my calendar."


def rebook_chance(*, fit: float, slot: bool, misses: int) -> float:
    chance = (REBOOK_BASE + REBOOK_SLOT * slot) * (0.5 + 0.5 * min(max(fit, 0.0), 1.0))
    return round(chance * REBOOK_AGAIN_FACTOR ** max(misses - 1, 0), 4)


def _start(booking: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(booking["start"])


def _booked_at(booking: dict[str, Any]) -> str:
    return str(booking.get("booked_at") or booking["start"])


def answer_about_meeting(*, person: Person, body: str, replying: bool, now: dt.datetime) -> Answer | None:
    """How the attendee of one of our bookings answers an email from us about it; None: the email
    is not about a booking (the usual reactions apply).

    Before the call, mail that does not answer something they wrote (a reminder, the logistics) gets
    no answer: its effect is read when the call starts. After a missed call, our follow-up brings a
    new booking (they pick one of the times we offered) or silence.
    """
    bookings = sorted(records(kind="booking", party=person.email), key=_booked_at)
    if not bookings:
        return None
    latest = bookings[-1]
    start = _start(latest)
    if latest.get("status") == "accepted" and not latest.get("no_show") and start > now - dt.timedelta(hours=1):
        return None if replying else Answer("drop_off")
    if not latest.get("no_show") or now - start > NO_SHOW_MEMORY:
        return None
    misses = sum(1 for b in bookings if b.get("no_show"))
    rounds = SandboxRecord.objects.filter(kind="email", party=person.email, created_at__gte=start).count()
    rng = rng_for("no-show-answer", person.email, latest["start"], rounds)
    chance = rebook_chance(fit=person.company.fit, slot=sending.offers_slot(body), misses=misses)
    if rng.random() >= chance:
        return Answer("drop_off")
    offered = _OFFERED.findall(body)
    if offered:
        day, date, hour = rng.choice(offered)
        when = f"{day.capitalize()} {date} at {hour}" if date else f"{day.capitalize()} at {hour}"
    else:
        when = f"{rng.choice(('Tuesday', 'Wednesday', 'Thursday'))} at {rng.choice(('10:00', '14:00'))}"
    return Answer("booking", "interested", _REBOOKED.format(when=when), dt.timedelta(hours=rng.uniform(0.5, 20)))
