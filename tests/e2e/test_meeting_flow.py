"""From a prospect's yes to a held or missed call, on simulated time (the meeting flow's first half).

Prospects of the sandbox market write back agreeing to a time, through the real Instantly webhook;
email_response_handler hands the reply to meeting_scheduler, which books the call in each one's
zone through the sandbox's Cal.com; meeting_reminder reminds on its 15-minute beat; when each call
starts the sandbox decides who comes (from fit and the reminders they actually received) and
reports it through the real Cal.com webhook; meeting_lifecycle_orchestrator records held or
no-show and starts the follow-up of a missed call.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from agents.models import AgentRun, AuditLog
from agents.testing import advance
from crm.models import Lead, Message
from integrations.models import SandboxRecord
from integrations.sandbox import payloads
from integrations.sandbox.store import schedule
from sales.models import Meeting
from tests.sales.agents.meeting.conftest import market_lead, person_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_world")]

CITIES = ("Sydney", "Berlin", "New York", "London", "Austin", "San Francisco", "Toronto", "Denver")
STAGE = ("meeting_reminder", "meeting_lifecycle_orchestrator")


def says_yes(lead: Lead, n: int) -> None:
    """The prospect answers our email agreeing to a time, as the market reports a reply."""
    email = {"to": lead.email, "from_mailbox": "alex@agency.example", "message_id": f"sbx_msg_yes{n}",
             "thread_id": f"sbx_thr_{n}", "campaign_id": ""}  # fmt: skip
    text = "Thanks! Thursday at 10:00 works for me, I've put it in my calendar. Talk then."
    schedule(
        key=f"instantly:yes:{n}", provider="instantly", kind="reply_interested", subject=lead.email or "",
        payload=payloads.instantly_event(event_type="reply_received", email=email, at=lead.created_at,
                                         reply_subject="Re: A quick idea", reply_text=text),
        due_at=lead.created_at,
    )  # fmt: skip


def test_a_yes_becomes_a_call_reminded_once_each_and_held_or_missed(frozen_clock: Any) -> None:
    call_command("sync_schedules", verbosity=0)
    PeriodicTask.objects.exclude(args__contains=STAGE[0]).exclude(args__contains=STAGE[1]).update(enabled=False)
    leads = [market_lead(person_in(city, n)) for city in CITIES for n in (0, 1)]
    for n, lead in enumerate(leads):
        says_yes(lead, n)

    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(days=4, hours=12), step=dt.timedelta(minutes=30))

    assert not AgentRun.objects.filter(status__in=["failed", "running"]).exists(), list(
        AgentRun.objects.filter(status="failed").values_list("agent_name", "error")
    )
    meetings = list(Meeting.objects.select_related("lead").order_by("pk"))
    # Every yes became a call, booked once at the provider (a move by the prospect is a new booking).
    # A prospect may ask for another call once theirs is over (answering the recap): never two at once.
    assert {m.lead_id for m in meetings} == {lead.pk for lead in leads}
    by_lead: dict[int, list[Meeting]] = {}
    for meeting in meetings:
        by_lead.setdefault(meeting.lead_id or 0, []).append(meeting)
    for calls in by_lead.values():
        for earlier, later in pairwise(calls):
            assert earlier.ends_at is not None and later.created_at >= earlier.ends_at, "two live calls for one lead"
    first_bookings = SandboxRecord.objects.filter(kind="booking", data__previous_booking_id__isnull=True)
    assert Counter(b.data["attendee_email"] for b in first_bookings) == Counter(
        m.lead.email for m in meetings if m.lead is not None
    )
    for lead_id, calls in by_lead.items():
        # What the market received: each reminder once (the outbox performed each send once). Counted per
        # prospect, since the market's mail names no meeting and a prospect may have had a second call.
        keys = [
            key
            for m in calls
            for key in Message.objects.filter(idempotency_key__startswith=f"meeting:{m.pk}:reminder:").values_list(
                "idempotency_key", flat=True
            )
        ]
        received = Counter(
            r.data["subject"].split(":")[0]
            for r in SandboxRecord.objects.filter(kind="email", data__to=calls[0].lead.email if calls[0].lead else "")
            if r.data["subject"].startswith(("Reminder:", "Starting soon:"))
        )
        assert received == Counter("Reminder" if ":24h:" in k else "Starting soon" for k in keys), (lead_id, received)
    now = frozen_clock.now
    outcomes: Counter[str] = Counter()
    for meeting in meetings:
        assert meeting.starts_at is not None and meeting.booking_uid and meeting.lead is not None
        starts = {meeting.starts_at} | {
            dt.datetime.fromisoformat(str(a.after["from"]))
            for a in AuditLog.objects.filter(action="meeting.moved", target_id=str(meeting.pk))
            if a.after and a.after.get("from")
        }
        sent = Message.objects.filter(idempotency_key__startswith=f"meeting:{meeting.pk}:reminder:")
        keys = list(sent.values_list("idempotency_key", flat=True))
        for message in sent:
            named = dt.datetime.strptime(message.idempotency_key.rsplit(":", 1)[1], "%Y%m%dT%H%MZ").replace(
                tzinfo=dt.UTC
            )
            assert named in starts and message.sent_at is not None and message.sent_at < named, "a reminder came late"
            window = dt.timedelta(hours=24) if ":24h:" in message.idempotency_key else dt.timedelta(hours=1)
            assert named - window <= message.sent_at < named - window + dt.timedelta(hours=1)
        if meeting.ends_at is not None and meeting.ends_at < now - dt.timedelta(hours=1):
            booking = SandboxRecord.objects.get(kind="booking", ref=meeting.booking_uid).data
            if meeting.status == "canceled":
                outcomes["canceled"] += 1
                continue
            # A held call goes on to its recap (meeting_follow_up), a missed one to its recovery.
            expected = {"no_show", "followed_up"} if booking["no_show"] else {"held", "followed_up"}
            assert meeting.status in expected, (meeting.status, booking)
            assert ":1h:" in " ".join(keys), "every call that happened had its hour-before reminder"
            outcomes["no_show" if booking["no_show"] else "held"] += 1
    assert outcomes["held"] >= 1, outcomes
    for meeting in Meeting.objects.filter(status="no_show"):
        assert Message.objects.filter(idempotency_key__startswith=f"no-show:lead:{meeting.lead_id}:").exists()
