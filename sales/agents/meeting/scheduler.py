"""meeting_scheduler: books the discovery call a prospect agreed to, in their zone, once.

Facts: the lead; their live meeting (a lead has at most one); the meeting to re-book (``meeting_id``,
else the lead's latest missed call, when they write again after it); the day and time their latest
message names, read in their zone from the day they wrote ("Tuesday at 10:00 works for me"); the
calendar's free slots (Cal.com v2) inside their business hours, on their business days.
Decides: skip (may not be contacted, lost, a live meeting already, nothing to move), or the slot:
the one they named, else the nearest to it that day, else the earliest suitable (a day out, so the
invitation is seen and the day-before reminder can go).
Does: creates the Meeting with its participants and records the booking (``calendar.book``) under
the key lead + meeting, so a retry never books twice; or moves the meeting and its booking
(``calendar.reschedule``). The lead becomes meeting_booked. Hands off
meeting_lifecycle_orchestrator {"meeting_id"}.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import QuerySet
from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Lead
from crm.services.agency import profile
from crm.services.leads import lead_set_status
from crm.services.outbound import may_email
from integrations.values import Slot
from sales.agents.meeting.bookings import BOOK, MOVE, BookCall, MoveCall, booking_key, move_key
from sales.agents.meeting.common import (
    CALL_MINUTES,
    LIVE,
    Requested,
    choose_slot,
    latest_inbound,
    received_at,
    requested,
    suitable,
    when_text,
    zone_of,
)
from sales.models import Meeting, MeetingParticipant
from sales.services.meetings import create_meeting, reschedule_meeting

S = Meeting.Status
UNASKED_NOTICE = dt.timedelta(hours=24)  # earliest call we pick ourselves: the invite is seen, reminders fit
ASKED_NOTICE = dt.timedelta(hours=1)  # a time the prospect named may be soon
SEARCH = dt.timedelta(days=14)
REBOOK_WITHIN = dt.timedelta(days=30)  # a call missed longer ago is a new conversation, not a re-booking
CLOSED = (Lead.Status.LOST, Lead.Status.DISQUALIFIED, Lead.Status.BOUNCED, Lead.Status.UNSUBSCRIBED)


class ScheduleRequest(BaseModel):
    lead_id: int
    meeting_id: int | None = None
    reason: str = ""


class Plan(Facts):
    lead: Lead
    zone: str
    target: Meeting | None = None  # the meeting to move (re-book); None: a new one
    ask: Requested = Requested()
    slot: Slot | None = None
    why: str = ""


class Scheduled(BaseModel):
    action: Literal["booked", "moved", "unchanged", "no_slot"]
    meeting_id: int | None = None
    starts_at: dt.datetime | None = None
    local_time: str = ""
    why: str = ""


def _live(lead: Lead, *, besides: Meeting | None) -> QuerySet[Meeting]:
    live = Meeting.objects.filter(lead=lead, status__in=LIVE)
    return live.exclude(pk=besides.pk) if besides is not None else live


@register
class MeetingScheduler(Agent[ScheduleRequest, Scheduled]):
    name = "meeting_scheduler"
    category = "meeting"
    trigger = "handoff"
    queue = "sales"
    Input = ScheduleRequest
    Facts = Plan
    Output = Scheduled
    next = ("meeting_lifecycle_orchestrator",)

    def load(self, ctx: RunContext, data: ScheduleRequest) -> Plan:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        if not may_email(lead):
            raise SkipRun(f"{lead} may not be contacted: no call is booked")
        if lead.status in CLOSED:
            raise SkipRun(f"{lead} is {lead.status}: no call is booked")
        zone = zone_of(lead)
        target = self._target(lead, data, now=ctx.now())
        live = _live(lead, besides=target).first()
        inbound = latest_inbound(lead)
        ask = Requested()
        if inbound is not None:
            ask = requested(inbound.body, received=received_at(inbound), zone=zone)
            if (
                target is not None
                and target.status == S.NO_SHOW
                and received_at(inbound) < (target.starts_at or ctx.now())
            ):
                ask = Requested()  # written before the missed call: not an answer about a new time
        if live is not None:
            if target is not None or not (ask.moves and ask.named):
                raise SkipRun(f"{lead} already has a live meeting (#{live.pk}, {live.status}): never two")
            target = live  # they ask to move the call they have
        if target is not None and target.status in LIVE and not ask.named:
            raise SkipRun(f"meeting #{target.pk} is already scheduled and no new time was asked for")
        plan = Plan(lead=lead, zone=zone.key, target=target, ask=ask)
        plan.slot, plan.why = self._slot(ctx, plan)
        return plan

    def _target(self, lead: Lead, data: ScheduleRequest, *, now: dt.datetime) -> Meeting | None:
        if data.meeting_id is None:
            # A prospect who missed a call and writes again is re-booked into that meeting.
            return (
                Meeting.objects.filter(lead=lead, status=S.NO_SHOW, starts_at__gte=now - REBOOK_WITHIN)
                .order_by("-starts_at")
                .first()
            )
        meeting = Meeting.objects.get(pk=data.meeting_id)
        if meeting.lead_id != lead.pk:
            raise SkipRun(f"meeting #{meeting.pk} is not {lead}'s: nothing is booked")
        if meeting.status in (S.HELD, S.FOLLOWED_UP):
            raise SkipRun(f"meeting #{meeting.pk} was {meeting.status} already: nothing to re-book")
        return None if meeting.status in (S.CANCELED, S.PROPOSED) else meeting

    def _slot(self, ctx: RunContext, plan: Plan) -> tuple[Slot | None, str]:
        lead, ask, target, now = plan.lead, plan.ask, plan.target, ctx.now()
        zone = zone_of(lead)
        earliest = now + (ASKED_NOTICE if ask.named else UNASKED_NOTICE)
        if ask.day is not None:
            earliest = max(earliest, dt.datetime.combine(ask.day, dt.time(0), tzinfo=zone))
        free = ctx.roles.calendar.available_slots(
            start=earliest, end=earliest + SEARCH, duration_minutes=CALL_MINUTES, timezone=zone.key
        )
        if target is not None and target.status in LIVE and target.starts_at and target.ends_at:
            # The call's own time is ours to keep: the calendar shows it as taken.
            free = [*free, Slot(start=target.starts_at, end=target.ends_at)]
        country = lead.country or (lead.company.country if lead.company else "") or ""
        return choose_slot(suitable(free, zone=zone, country=country, after=earliest), ask=ask, zone=zone)

    def act(self, ctx: RunContext, plan: Plan) -> Scheduled:
        lead = ctx.lock(plan.lead)
        zone = zone_of(lead)
        target = ctx.lock(plan.target) if plan.target is not None else None
        if _live(lead, besides=target).select_for_update().exists():
            raise SkipRun(f"{lead} already has a live meeting: never two")  # booked by a concurrent run
        if plan.slot is None:
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"no free {CALL_MINUTES}-minute slot for {lead} in their business hours ({plan.zone}) in the next "
                f"{SEARCH.days} days: book the call by hand",
                payload={"lead_id": lead.pk, "asked": {"day": str(plan.ask.day), "time": str(plan.ask.time)}},
                dedupe_key=f"meeting:lead:{lead.pk}:no-slot",
                subject=lead,
            )
            return Scheduled(action="no_slot", why=plan.why)
        start, end = plan.slot.start, plan.slot.end
        if target is not None and target.status in LIVE and target.starts_at == start:
            return Scheduled(action="unchanged", meeting_id=target.pk, starts_at=start,
                             local_time=when_text(start, zone), why="already at the chosen time")  # fmt: skip
        agency = profile()
        if target is None:
            meeting = create_meeting(
                lead=lead,
                kind=Meeting.Kind.DISCOVERY,
                title=f"Discovery call: {lead.company.name if lead.company else lead} and {agency.name}",
                starts_at=start,
                ends_at=end,
                time_zone=zone.key,
                participants=[
                    {"email": agency.sender_email, "name": agency.sender_name, "role": MeetingParticipant.Role.HOST},
                    {"email": lead.email or "", "name": lead.full_name, "role": MeetingParticipant.Role.PROSPECT},
                ],
            )
            ctx.update(meeting, action="meeting.booked", note={"starts_at": start.isoformat(), "why": plan.why})
            ctx.act(BOOK, booking_key(lead_id=lead.pk, meeting_id=meeting.pk), self._invite(meeting, lead, plan))
            action: Literal["booked", "moved"] = "booked"
        else:
            before = target.starts_at
            meeting = reschedule_meeting(meeting=target, starts_at=start, ends_at=end)
            note = {"from": before.isoformat() if before else "", "starts_at": start.isoformat(), "why": plan.why}
            ctx.update(meeting, action="meeting.moved", note=note)
            if meeting.booking_uid:
                move = MoveCall(meeting_id=meeting.pk, attendee_email=lead.email or "",
                                booking_uid=meeting.booking_uid, start=start, reason=plan.why)  # fmt: skip
                ctx.act(MOVE, move_key(lead_id=lead.pk, meeting_id=meeting.pk, start=start), move)
            else:  # never booked (its booking failed): book it now, under a key of its own
                key = booking_key(lead_id=lead.pk, meeting_id=meeting.pk, start=start)
                ctx.act(BOOK, key, self._invite(meeting, lead, plan))
            action = "moved"
        if lead.status != Lead.Status.MEETING_BOOKED and lead.STATUS_MACHINE.allowed(
            lead.status, Lead.Status.MEETING_BOOKED
        ):
            lead_set_status(
                lead=lead, status=Lead.Status.MEETING_BOOKED, reason=f"call {action}: meeting #{meeting.pk}"
            )
        ctx.handoff("meeting_lifecycle_orchestrator", {"meeting_id": meeting.pk})
        return Scheduled(
            action=action, meeting_id=meeting.pk, starts_at=start, local_time=when_text(start, zone), why=plan.why
        )

    @staticmethod
    def _invite(meeting: Meeting, lead: Lead, plan: Plan) -> BookCall:
        assert meeting.starts_at is not None and meeting.ends_at is not None
        return BookCall(
            meeting_id=meeting.pk,
            attendee_email=lead.email or "",
            attendee_name=lead.full_name or (lead.email or ""),
            start=meeting.starts_at,
            duration_minutes=int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
            title=meeting.title or "Discovery call",
            timezone=plan.zone,
            notes=plan.why,
        )
