"""What the call agents share: their input, the meeting's people and local date, the transcript
as a prompt, and the check that quotes really come from the transcript."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence

from pydantic import BaseModel

from crm.models import Lead
from sales.agents.calls._transcript import Turn
from sales.models import Meeting


class MeetingRef(BaseModel):
    meeting_id: int


def load_meeting(meeting_id: int) -> Meeting:
    return Meeting.objects.select_related("lead__company", "client__company", "client__primary_contact").get(
        pk=meeting_id
    )


def counterpart(meeting: Meeting) -> Lead | None:
    """Who the meeting was with: its lead, or the client's primary contact."""
    if meeting.lead is not None:
        return meeting.lead
    return meeting.client.primary_contact if meeting.client is not None else None


def company_name(meeting: Meeting) -> str:
    lead = counterpart(meeting)
    if lead is not None and lead.company is not None:
        return lead.company.name
    return str(meeting.client.company) if meeting.client is not None else ""


def zone(meeting: Meeting) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(meeting.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_start(meeting: Meeting, *, default: dt.datetime) -> dt.datetime:
    """When the meeting started, on the clock of its time zone (``default`` if it has no time)."""
    return (meeting.starts_at or default).astimezone(zone(meeting))


def numbered(turns: Sequence[Turn]) -> str:
    """The transcript for a prompt: line number, side and speaker, so answers can cite lines."""
    label = {"us": "us", "them": "prospect", "unknown": "?"}
    return "\n".join(f"[{t.index}] ({label[t.side]}) {t.speaker}: {t.text}" for t in turns)


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[\u2018\u2019]", "'", text).lower().split())


def quote_problem(line: int, quote: str, turns: Sequence[Turn]) -> str | None:
    """None if ``quote`` occurs in transcript line ``line`` (case and spacing aside), else why not."""
    if not 0 <= line < len(turns):
        return f"line {line} is not in the transcript ({len(turns)} lines)"
    if _folded(quote).strip(" .,!?;:") not in _folded(turns[line].text):
        return f"{quote[:80]!r} is not said in line {line}"
    return None
