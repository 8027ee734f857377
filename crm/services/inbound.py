"""Recording an inbound email: the thread it joins, the Message it becomes, what it does to the sequence.

One path for every carrier (the Instantly webhook, ``manage.py ingest_email``): email_response_handler
calls these in its act, inside the run's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Sequence

from crm.models import Conversation, Enrollment, Lead, Message

# A return date says when they are back, not when they have read their inbox: the day after, mid-morning.
RESUME_HOUR = 10
# An out-of-office reply without a date: try again after a week.
DEFAULT_AWAY = dt.timedelta(days=7)


def inbound_key(*, message_id: str, sender: str, text: str) -> str:
    """The inbound Message's idempotency key: its Message-ID, else a digest of who said what."""
    if message_id:
        return f"inbound:{message_id}"[:200]
    digest = hashlib.sha256(f"{sender}\n{text}".encode()).hexdigest()[:40]
    return f"inbound:sha256:{digest}"


def find_sent(*, keys: Sequence[str]) -> Message | None:
    """Our sent Message a reply answers, by its Message-ID (In-Reply-To first, then References)."""
    keys = [k for k in keys if k]
    if not keys:
        return None
    found = {
        m.provider_message_id: m
        for m in Message.objects.select_related("conversation", "enrollment").filter(
            direction=Message.Direction.OUT, provider_message_id__in=keys
        )
    }
    return next((found[k] for k in keys if k in found), None)


def thread_for(*, lead: Lead, sent: Message | None) -> Conversation | None:
    """The conversation a message from ``lead`` joins: the sent message's, else the lead's latest email one."""
    if sent is not None:
        return sent.conversation
    return (
        Conversation.objects.filter(lead=lead, channel=Conversation.Channel.EMAIL)
        .order_by("-last_message_at", "-pk")
        .first()
    )


def running_enrollment(*, lead: Lead, sent: Message | None) -> Enrollment | None:
    if sent is not None and sent.enrollment is not None:
        return sent.enrollment
    return (
        Enrollment.objects.filter(lead=lead, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED])
        .order_by("-pk")
        .first()
    )


def resume_at(*, back_on: dt.date | None, now: dt.datetime, time_zone: str) -> dt.datetime:
    """When to write again to someone who is away: the day after their return, mid-morning their time."""
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(time_zone) if time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    if back_on is None:
        return now + DEFAULT_AWAY
    when = dt.datetime.combine(back_on + dt.timedelta(days=1), dt.time(RESUME_HOUR), tzinfo=zone)
    return max(when, now)
