"""no_show_recovery: a prospect missed the call. Follow up kindly with new times, at most twice.

Facts: the missed meeting and its lead; where recovery stands (recovery_state: the follow-ups
already sent to this lead, whether they answered since, how long ago we wrote); three free slots in
the lead's business hours, shown in their zone.
Decides: the first follow-up after a no-show, one nudge when it goes unanswered for WAIT, or close
(two tries for the lead already, or the lead may not be contacted / is lost): the meeting goes to
followed_up and the lead to lost, without more mail. When the prospect already wrote back naming a
time, no email: the re-booking goes to meeting_scheduler {"lead_id", "meeting_id"}.
The email (brain or heuristic): short, kind, no blame, the missed time and the new slots in the
lead's zone, an easy way to say no. A brain's answer that offers a time we did not give, or is
empty or long, is replaced by the heuristic's.
Does: crm.services.outbound.queue_email under ``no-show:lead:{lead}:meeting:{meeting}:{n}[:nudge]``
(one per no-show and step, so a retry sends nothing twice), or closes the meeting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead, Message
from crm.services.agency import profile
from crm.services.leads import lead_set_status
from crm.services.outbound import may_email, queue_email
from integrations.values import Slot
from sales.agents.meeting.common import (
    CALL_MINUTES,
    received_at,
    requested,
    slot_text,
    suitable,
    when_text,
    zone_of,
)
from sales.models import Meeting
from sales.services.meetings import mark_meeting_followed_up

S = Meeting.Status
MAX_TRIES = 2  # follow-up emails per lead after no-shows, whatever the number of meetings missed
WAIT = dt.timedelta(days=5)  # unanswered this long: the nudge, then (after the second try) close
SLOTS_OFFERED = 3
EARLIEST = dt.timedelta(hours=24)
SEARCH = dt.timedelta(days=10)
CLOSED = (Lead.Status.LOST, Lead.Status.DISQUALIFIED, Lead.Status.BOUNCED, Lead.Status.UNSUBSCRIBED)
Step = Literal["first", "nudge", "rebook", "close", ""]

PROMPT = """You write a short follow-up email from an AI services agency to a prospect who missed a
booked discovery call. Be kind: never blame them, assume something came up. Say when the call was
(as given), offer the new times given, written exactly as given (they are in the prospect's own time
zone), and ask them to reply with the one that suits; make it easy to say it is not a priority now.
A nudge (second email) is shorter and says you will not chase further. Plain text, under 110 words,
signed with the sender's name. In `offered`, list the ISO start of every time you offered, as given."""


def message_key(meeting: Meeting, *, nudge: bool = False) -> str:
    assert meeting.lead_id is not None
    key = f"no-show:lead:{meeting.lead_id}:meeting:{meeting.pk}:{meeting.no_show_attempts}"
    return f"{key}:nudge" if nudge else key


@dataclass(frozen=True)
class RecoveryState:
    step: Step
    why: str
    tries: int = 0  # follow-ups the lead had already


def recovery_state(meeting: Meeting, lead: Lead, *, now: dt.datetime) -> RecoveryState:
    """Where following up this no-show stands; ``step`` is what is due now ("" = nothing)."""
    tries = Message.objects.filter(idempotency_key__startswith=f"no-show:lead:{lead.pk}:").count()
    if not may_email(lead) or lead.status in CLOSED:
        return RecoveryState("close", f"{lead} may not be contacted or is {lead.status}: no follow-up", tries)
    ours = list(
        Message.objects.filter(idempotency_key__in=[message_key(meeting), message_key(meeting, nudge=True)]).order_by(
            "created_at", "pk"
        )
    )
    since = ours[-1].created_at if ours else (meeting.starts_at or now)
    answer = (
        Message.objects.filter(conversation__lead=lead, direction=Message.Direction.IN, created_at__gt=since)
        .order_by("-created_at")
        .first()
    )
    if answer is not None:
        if requested(answer.body, received=received_at(answer), zone=zone_of(lead)).named:
            return RecoveryState("rebook", "the prospect wrote back with a time", tries)
        return RecoveryState("", "the prospect wrote back: the reply agents have the thread", tries)
    if not ours:
        if tries >= MAX_TRIES:
            return RecoveryState("close", f"{tries} follow-ups after no-shows already: no more mail", tries)
        return RecoveryState("first", "no follow-up for this no-show yet", tries)
    if now - (ours[-1].sent_at or ours[-1].created_at) < WAIT:
        return RecoveryState("", "waiting for an answer to our follow-up", tries)
    if tries < MAX_TRIES and len(ours) == 1:
        return RecoveryState("nudge", f"no answer in {WAIT.days} days", tries)
    return RecoveryState("close", f"no answer to {tries} follow-ups", tries)


class MeetingRef(BaseModel):
    meeting_id: int


class Missed(Facts):
    meeting: Meeting
    lead: Lead
    state: RecoveryState
    missed: str = ""  # the missed call's time, as the lead reads it
    zone: str = "UTC"
    slots: list[Slot] = Field(default_factory=list)
    sender_name: str = ""


class RecoveryEmail(BaseModel):
    subject: str = ""
    body: str = ""
    offered: list[dt.datetime] = Field(default_factory=list)


class Recovered(BaseModel):
    step: str
    message_id: int | None = None
    offered: list[dt.datetime] = Field(default_factory=list)
    note: str = ""


@register
class NoShowRecovery(LLMAgent[MeetingRef, Recovered, RecoveryEmail]):
    name = "no_show_recovery"
    category = "meeting"
    trigger = "handoff"
    Input = MeetingRef
    Facts = Missed
    Output = Recovered
    Decision = RecoveryEmail
    system_prompt = PROMPT
    next = ("meeting_scheduler",)

    def load(self, ctx: RunContext, data: MeetingRef) -> Missed:
        meeting = Meeting.objects.select_related("lead").get(pk=data.meeting_id)
        if meeting.lead is None:
            raise SkipRun(f"meeting #{meeting.pk} has no lead to follow up")
        if meeting.status != S.NO_SHOW:
            raise SkipRun(f"meeting #{meeting.pk} is {meeting.status}, not a no-show")
        lead, now = meeting.lead, ctx.now()
        zone = zone_of(lead, meeting.time_zone)
        facts = Missed(
            meeting=meeting,
            lead=lead,
            state=recovery_state(meeting, lead, now=now),
            missed=when_text(meeting.starts_at, zone) if meeting.starts_at else "",
            zone=zone.key,
            sender_name=profile().sender_name,
        )
        if facts.state.step in ("first", "nudge"):
            earliest = now + EARLIEST
            free = ctx.roles.calendar.available_slots(
                start=earliest, end=earliest + SEARCH, duration_minutes=CALL_MINUTES, timezone=zone.key
            )
            country = lead.country or ""
            facts.slots = spread(suitable(free, zone=zone, country=country, after=earliest), SLOTS_OFFERED, zone=zone)
        return facts

    def decide(self, ctx: RunContext, facts: Missed) -> RecoveryEmail:
        if facts.state.step not in ("first", "nudge"):
            return RecoveryEmail()  # nothing to write
        return ctx.brain.decide_checked(facts, check=lambda email: problem(email, facts))

    def prompt(self, ctx: RunContext, facts: Missed) -> str:
        zone = zone_of(facts.lead, facts.zone)
        times = "\n".join(f"- {slot_text(s.start, zone)} (ISO {s.start.isoformat()})" for s in facts.slots)
        return "\n".join(
            [
                f"Email: {'nudge (second and last)' if facts.state.step == 'nudge' else 'first follow-up'}",
                f"Prospect: {facts.lead.full_name or facts.lead.email}, "
                f"{facts.lead.company.name if facts.lead.company else ''}",
                f"Missed call: {facts.missed}",
                f"New times ({facts.zone}):\n{times or '- none free: ask them for a time that suits'}",
                f"Sender: {facts.sender_name}",
            ]
        )

    def heuristic(self, ctx: RunContext, facts: Missed) -> RecoveryEmail:
        zone = zone_of(facts.lead, facts.zone)
        first = facts.lead.first_name or "there"
        nudge = facts.state.step == "nudge"
        times = [f"- {slot_text(s.start, zone)}" for s in facts.slots]
        if nudge:
            lines = [f"Hi {first},", "", "Just bringing this back up in case it got buried."]
            if times:
                lines += ["", f"If a call is still useful, these times are free (your time, {facts.zone}):", *times]
                lines += ["", "Reply with the one that suits and I'll send a fresh invite."]
            else:
                lines += ["", "If a call is still useful, send me a time that suits you."]
            lines += ["", "If the timing isn't right, no problem at all: I won't chase further."]
            subject = "Still up for a call?"
        else:
            lines = [
                f"Hi {first},",
                "",
                f"We had our call in the diary for {facts.missed} and it looks like we missed each other. "
                "No problem at all, things come up.",
            ]
            if times:
                lines += [
                    "",
                    f"If it's still useful, here are a few times that work on our side (your time, {facts.zone}):",
                ]
                lines += [*times, "", "Just reply with the one that suits you and I'll send a new invite."]
            else:
                lines += ["", "If it's still useful, send me a time that suits you and I'll send a new invite."]
            lines += ["If now isn't the right time, just say so."]
            subject = "Sorry we missed each other"
        lines += ["", "Best,", facts.sender_name]
        return RecoveryEmail(subject=subject, body="\n".join(lines), offered=[s.start for s in facts.slots])

    def act(self, ctx: RunContext, facts: Missed, email: RecoveryEmail) -> Recovered:
        meeting, lead, state = ctx.lock(facts.meeting), ctx.lock(facts.lead), facts.state
        if meeting.status != S.NO_SHOW:
            raise SkipRun(f"meeting #{meeting.pk} is {meeting.status} now: nothing to follow up")
        if state.step == "rebook":
            ctx.handoff("meeting_scheduler", {"lead_id": lead.pk, "meeting_id": meeting.pk, "reason": state.why})
            return Recovered(step="rebook", note=state.why)
        if state.step == "close":
            return self._close(ctx, meeting, lead, state.why)
        if not state.step:
            return Recovered(step="", note=state.why)
        nudge = state.step == "nudge"
        message = queue_email(
            ctx,
            key=message_key(meeting, nudge=nudge),
            lead=lead,
            subject=email.subject,
            body=email.body,
            intent="no_show_follow_up",
        )
        if message is None:
            return self._close(ctx, meeting, lead, f"{lead} may not be contacted")
        ctx.update(meeting, action="meeting.no_show_followed_up", note={"step": state.step, "try": state.tries + 1})
        return Recovered(step=state.step, message_id=message.pk, offered=email.offered, note=state.why)

    @staticmethod
    def _close(ctx: RunContext, meeting: Meeting, lead: Lead, why: str) -> Recovered:
        mark_meeting_followed_up(meeting=meeting)
        ctx.update(meeting, action="meeting.recovery_closed", note={"why": why})
        if lead.status not in CLOSED and lead.STATUS_MACHINE.allowed(lead.status, Lead.Status.LOST):
            lead_set_status(lead=lead, status=Lead.Status.LOST, reason=f"no-show not recovered: {why}")
        return Recovered(step="close", note=why)


def spread(slots: list[Slot], count: int, *, zone: dt.tzinfo) -> list[Slot]:
    """``count`` slots on different days where possible (a choice of days, not three in a row)."""
    chosen: list[Slot] = []
    days: set[dt.date] = set()
    for slot in slots:
        day = slot.start.astimezone(zone).date()
        if day not in days:
            chosen.append(slot)
            days.add(day)
        if len(chosen) == count:
            return chosen
    rest = [s for s in slots if s not in chosen]
    return sorted([*chosen, *rest[: count - len(chosen)]], key=lambda s: s.start)


def problem(email: RecoveryEmail, facts: Missed) -> str | None:
    """Why the brain's email cannot go out (None: it can)."""
    if not email.subject.strip() or not email.body.strip():
        return "an empty subject or body"
    if len(email.body) > 1500:
        return "a body over 1500 characters"
    given = {s.start for s in facts.slots}
    unknown = [t for t in email.offered if t not in given]
    if unknown:
        return f"offers times that are not free: {[t.isoformat() for t in unknown]}"
    zone = zone_of(facts.lead, facts.zone)
    missing = [t for t in email.offered if slot_text(t, zone).split(", ")[1] not in email.body]
    if missing:
        return "lists offered times the body does not show in the lead's zone"
    return None
