"""meeting_reminder: the day-before and hour-before reminders of a call, each exactly once.

Every 15 minutes (business time) it reads the live meetings starting within a day that still miss
a reminder (one indexed query: status, starts_at) and, for each, decides which is due:
- 24 h: in the hour that begins 24 h before the start, and only when the call's time was agreed at
  least a day ahead (a call booked or moved to less than 24 h away gets only the 1 h reminder: a
  "24 h" reminder that comes late says the wrong thing);
- 1 h: in the hour before the start, never at or after it.
In the act, under the meeting's row lock, it re-checks the time and the sent mark, writes the email
(crm.services.outbound.queue_email, key ``meeting:{id}:reminder:{24h|1h}:{start}``: a moved call is
reminded again for its new time, a retry never twice) and marks the reminder sent
(``Meeting.reminder_24h_sent_at`` / ``reminder_1h_sent_at``, status reminded). The time is shown in
the lead's zone, in the subject too: that is what the inbox shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Min, Q
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.clockwork import earliest_after
from agents.context import RunContext
from agents.registry import register
from crm.services.agency import profile
from crm.services.outbound import queue_email
from sales.agents.meeting.common import LIVE, timed_at, when_text, zone_of
from sales.models import Meeting
from sales.services.meetings import mark_meeting_reminded

Which = Literal["24h", "1h"]
DAY_BEFORE = dt.timedelta(hours=24)
HOUR_BEFORE = dt.timedelta(hours=1)
# The day-before reminder goes in the hour that begins 24 h ahead; after that it would be late.
DAY_BEFORE_SLACK = dt.timedelta(hours=1)
BATCH = 200


def reminder_key(meeting: Meeting, which: Which) -> str:
    assert meeting.starts_at is not None
    return f"meeting:{meeting.pk}:reminder:{which}:{meeting.starts_at.astimezone(dt.UTC):%Y%m%dT%H%MZ}"


def due(meeting: Meeting, *, now: dt.datetime, timed: dt.datetime) -> Which | None:
    """Which reminder this meeting needs now (None: none), ``timed`` being when its time was agreed."""
    start = meeting.starts_at
    if start is None or now >= start or meeting.status not in LIVE:
        return None
    if meeting.reminder_1h_sent_at is None and start - HOUR_BEFORE <= now:
        return "1h"
    if (
        meeting.reminder_24h_sent_at is None
        and start - DAY_BEFORE <= now < start - DAY_BEFORE + DAY_BEFORE_SLACK
        and start - timed >= DAY_BEFORE
    ):
        return "24h"
    return None


class Due(Facts):
    now: dt.datetime
    due: list[tuple[Meeting, Which]] = Field(default_factory=list)
    sender_name: str = ""


class Reminded(BaseModel):
    sent: list[str] = Field(default_factory=list)  # "meeting #12: 24h"
    not_sent: list[str] = Field(default_factory=list)  # with the reason


@register
class MeetingReminder(Agent[Empty, Reminded]):
    name = "meeting_reminder"
    category = "meeting"
    trigger = "schedule"
    queue = "sales"
    schedule = 900
    Input = Empty
    Facts = Due
    Output = Reminded

    @classmethod
    def next_work_at(cls, now: dt.datetime) -> dt.datetime | None:
        upcoming = Meeting.objects.filter(status__in=LIVE, lead__isnull=False, starts_at__gt=now)
        day = upcoming.filter(reminder_24h_sent_at__isnull=True).aggregate(at=Min("starts_at"))["at"]
        hour = upcoming.filter(reminder_1h_sent_at__isnull=True).aggregate(at=Min("starts_at"))["at"]
        # The day-before reminder of a meeting closer than a day is past; its next is the hour's.
        return earliest_after(now, day and day - DAY_BEFORE, hour and hour - HOUR_BEFORE)

    def load(self, ctx: RunContext, data: Empty) -> Due:
        now = ctx.now()
        meetings = list(
            Meeting.objects.filter(
                status__in=LIVE, starts_at__gt=now, starts_at__lte=now + DAY_BEFORE, lead__isnull=False
            )
            .filter(Q(reminder_24h_sent_at__isnull=True) | Q(reminder_1h_sent_at__isnull=True))
            .select_related("lead")
            .order_by("starts_at")[:BATCH]
        )
        timed = timed_at(meetings)
        found = [(m, which) for m in meetings if (which := due(m, now=now, timed=timed[m.pk])) is not None]
        return Due(now=now, due=found, sender_name=profile().sender_name)

    def act(self, ctx: RunContext, facts: Due) -> Reminded:
        out = Reminded()
        for meeting, which in facts.due:
            start = meeting.starts_at
            meeting = ctx.lock(meeting)
            sent_at = meeting.reminder_24h_sent_at if which == "24h" else meeting.reminder_1h_sent_at
            if (
                start is None
                or meeting.starts_at != start
                or meeting.status not in LIVE
                or sent_at is not None
                or facts.now >= start
            ):
                continue  # moved, held, started, or reminded since it was read
            lead = meeting.lead
            assert lead is not None
            subject, body = self._email(meeting, which, now=facts.now, sender=facts.sender_name)
            message = queue_email(
                ctx, key=reminder_key(meeting, which), lead=lead, subject=subject, body=body, intent="meeting_reminder"
            )
            if message is None:
                out.not_sent.append(f"meeting #{meeting.pk}: {which}: {lead} may not be contacted")
                continue
            mark_meeting_reminded(meeting=meeting, when=facts.now, hours_before=24 if which == "24h" else 1)
            ctx.update(meeting, action="meeting.reminded", note={"which": which, "message": message.pk})
            out.sent.append(f"meeting #{meeting.pk}: {which}")
        return out

    @staticmethod
    def _email(meeting: Meeting, which: Which, *, now: dt.datetime, sender: str) -> tuple[str, str]:
        assert meeting.starts_at is not None
        zone = zone_of(meeting.lead, meeting.time_zone)
        local, today = meeting.starts_at.astimezone(zone), now.astimezone(zone).date()
        clock = f"{local:%H:%M} ({local.tzname()})"
        if which == "1h":
            subject = f"Starting soon: our call today at {clock}"
        elif local.date() == today + dt.timedelta(days=1):
            subject = f"Reminder: our call tomorrow, {local:%A} at {clock}"
        else:
            subject = f"Reminder: our call on {local:%A} at {clock}"
        first = (meeting.lead.first_name if meeting.lead else "") or "there"
        lines = [f"Hi {first},", "", f"A quick reminder of our call on {when_text(meeting.starts_at, zone)}."]
        if meeting.join_url:
            lines.append(f"Join here: {meeting.join_url}")
        lines += ["", "If the time no longer works, just reply and we'll find another.", "", "Best,", sender]
        return subject, "\n".join(lines)
