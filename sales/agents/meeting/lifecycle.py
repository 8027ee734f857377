"""meeting_lifecycle_orchestrator: keeps each meeting's status true to what happened, and starts
what each state needs.

Started three ways. A Cal.com booking webhook (BookingEvent): created, rescheduled (the meeting
moves; a reschedule may arrive before the booking it moves), cancelled, no_show, ended (held). The
booking is matched to our meeting by its uid, the uid it replaced, the booking key Cal.com echoes
in its metadata (our own bookings), or the attendee's lead and the time; a booking for an address
no lead has, or a second live booking for one lead, is recorded nowhere and escalated with the
reason. The 15-minute beat ({}): meeting_prep once per meeting about 24 h before the start,
meetings past their end with no outcome for a human (once per time), and no_show_recovery when a
no-show's follow-up is due (first email, nudge or close). {"meeting_id"} from meeting_scheduler:
the same checks for that meeting (a call booked less than a day ahead gets its prep at once).
Statuses move through sales.services.meetings (Meeting.STATUS_MACHINE): scheduled -> reminded ->
held / no_show -> followed_up.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Min
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.clockwork import earliest_after
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import AuditLog, Escalation
from agents.registry import register
from crm.models import Lead, Message
from crm.services.leads import lead_set_status
from integrations.webhooks.inputs import BookingEvent
from sales.agents.meeting.bookings import meeting_of_key
from sales.agents.meeting.common import LIVE, audited, when_text, zone_of
from sales.agents.meeting.no_show import WAIT as NO_SHOW_WAIT
from sales.agents.meeting.no_show import recovery_state
from sales.models import Meeting, MeetingNote, MeetingParticipant
from sales.services.meetings import (
    add_participant,
    cancel_meeting,
    mark_meeting_held,
    mark_meeting_no_show,
    record_attendance,
    upsert_meeting_from_booking,
)

S = Meeting.Status
PREP_AHEAD = dt.timedelta(hours=24)
OUTCOME_GRACE = dt.timedelta(hours=2)  # Cal.com and Fathom report within minutes; two hours is silence
RECOVERY_HORIZON = dt.timedelta(days=60)  # older no-shows are no longer followed up by the beat
BATCH = 100
DEFAULT_MINUTES = 30
Mode = Literal["event", "meeting", "beat"]


class LifecycleInput(BookingEvent):
    """A Cal.com booking event, or {"meeting_id"} from meeting_scheduler, or {} from the beat."""

    kind: Literal["created", "rescheduled", "cancelled", "no_show", "ended"] | None = None  # type: ignore[assignment]
    meeting_id: int | None = None


class Lifecycle(Facts):
    mode: Mode
    data: LifecycleInput
    meeting: Meeting | None = None
    lead: Lead | None = None
    matched_by: str = ""
    problem: str = ""  # a human must look: escalated, nothing written
    stale: str = ""  # nothing to do, and why
    prep_due: list[Meeting] = Field(default_factory=list)
    overdue: list[Meeting] = Field(default_factory=list)
    recover: list[Meeting] = Field(default_factory=list)


class Driven(BaseModel):
    mode: str
    meeting_id: int | None = None
    status: str = ""
    matched_by: str = ""
    note: str = ""
    escalated: bool = False
    prep: list[int] = Field(default_factory=list)
    overdue: list[int] = Field(default_factory=list)
    recovery: list[int] = Field(default_factory=list)


def no_outcome_key(meeting: Meeting) -> str:
    start = meeting.starts_at.astimezone(dt.UTC) if meeting.starts_at else None
    return f"meeting:{meeting.pk}:no-outcome:{start:%Y%m%dT%H%MZ}"


@register
class MeetingLifecycleOrchestrator(Agent[LifecycleInput, Driven]):
    name = "meeting_lifecycle_orchestrator"
    category = "meeting"
    trigger = ("event", "schedule", "handoff")
    queue = "sales"
    schedule = 900
    Input = LifecycleInput
    Facts = Lifecycle
    Output = Driven
    next = ("meeting_prep", "no_show_recovery")

    # --- load -----------------------------------------------------------------------------------

    @classmethod
    def next_work_at(cls, now: dt.datetime) -> dt.datetime | None:
        live = Meeting.objects.filter(status__in=LIVE, starts_at__isnull=False)
        prep = live.filter(starts_at__gt=now + PREP_AHEAD).aggregate(at=Min("starts_at"))["at"]
        check = live.filter(starts_at__gt=now - OUTCOME_GRACE).aggregate(at=Min("starts_at"))["at"]
        # A no-show's follow-up is nudged when it stays unanswered for no_show.WAIT.
        followed = (
            Message.objects.filter(idempotency_key__startswith="no-show:", created_at__gt=now - NO_SHOW_WAIT)
            .aggregate(at=Min("created_at"))
            .get("at")
        )
        return earliest_after(
            now,
            prep and prep - PREP_AHEAD,
            check and check + OUTCOME_GRACE,
            followed and followed + NO_SHOW_WAIT,
        )

    def load(self, ctx: RunContext, data: LifecycleInput) -> Lifecycle:
        if data.kind is not None:
            return self._match(ctx, data)
        now = ctx.now()
        if data.meeting_id is not None:
            meeting = Meeting.objects.select_related("lead").get(pk=data.meeting_id)
            return self._due(Lifecycle(mode="meeting", data=data, meeting=meeting), [meeting], now=now)
        live = Meeting.objects.filter(status__in=LIVE, starts_at__isnull=False)
        candidates = list(
            live.filter(starts_at__gt=now, starts_at__lte=now + PREP_AHEAD).order_by("starts_at")[:BATCH]
        ) + list(live.filter(starts_at__lt=now - OUTCOME_GRACE).order_by("starts_at")[:BATCH])
        missed = Meeting.objects.filter(status=S.NO_SHOW, starts_at__gte=now - RECOVERY_HORIZON)
        candidates += list(missed.select_related("lead").order_by("starts_at")[:BATCH])
        return self._due(Lifecycle(mode="beat", data=data), candidates, now=now)

    def _due(self, facts: Lifecycle, meetings: list[Meeting], *, now: dt.datetime) -> Lifecycle:
        ids = [m.pk for m in meetings]
        prepped = audited("meeting.prep_requested", ids) | set(
            MeetingNote.objects.filter(meeting_id__in=ids, kind=MeetingNote.Kind.PREP).values_list(
                "meeting_id", flat=True
            )
        )
        flagged = set(
            Escalation.objects.filter(dedupe_key__in=[no_outcome_key(m) for m in meetings if m.starts_at]).values_list(
                "dedupe_key", flat=True
            )
        )
        for meeting in meetings:
            start = meeting.starts_at
            if meeting.status in LIVE and start is not None:
                end = meeting.ends_at or start + dt.timedelta(minutes=DEFAULT_MINUTES)
                if now < start <= now + PREP_AHEAD and meeting.pk not in prepped:
                    facts.prep_due.append(meeting)
                elif end < now - OUTCOME_GRACE and no_outcome_key(meeting) not in flagged:
                    facts.overdue.append(meeting)
            elif meeting.status == S.NO_SHOW and meeting.lead is not None:
                step = recovery_state(meeting, meeting.lead, now=now).step
                marker = f"{meeting.no_show_attempts}:{step}"
                if step and meeting.pk not in audited("meeting.recovery_requested", [meeting.pk], step=marker):
                    facts.recover.append(meeting)
        return facts

    def _match(self, ctx: RunContext, data: LifecycleInput) -> Lifecycle:
        """Find the meeting a booking event is about (or why there is none)."""
        facts = Lifecycle(mode="event", data=data)
        uid = data.booking_uid.strip()
        if not uid:
            raise SkipRun(f"a Cal.com {data.kind} event without a booking uid: nothing to match it to")
        attendee = data.attendee_email.strip().lower()
        facts.lead = Lead.objects.filter(email=attendee).first() if attendee else None
        matched: tuple[str, Meeting] | None = None
        if (by_uid := Meeting.objects.filter(booking_uid=uid).first()) is not None:
            matched = ("booking uid", by_uid)
        elif data.previous_booking_uid:
            previous = Meeting.objects.filter(booking_uid=data.previous_booking_uid).first()
            matched = ("the booking it replaced", previous) if previous is not None else None
        if matched is None:
            matched = self._by_key(data)
        if matched is None and facts.lead is not None and data.start is not None:
            same_time = (
                Meeting.objects.filter(lead=facts.lead, booking_uid__isnull=True, starts_at=data.start)
                .exclude(status=S.CANCELED)
                .first()
            )
            matched = ("the attendee and the time", same_time) if same_time is not None else None
        if matched is not None:
            facts.matched_by, facts.meeting = matched
            facts.lead = facts.meeting.lead or facts.lead
            if facts.meeting.booking_uid not in (None, uid) and facts.matched_by == "our booking key":
                facts.stale = f"booking {uid} was replaced by {facts.meeting.booking_uid} already"
            return facts
        if self._replaced(uid):
            facts.stale = f"booking {uid} was moved to a later booking already"
        elif data.kind in ("cancelled",):
            facts.stale = f"booking {uid} is not one of our meetings: nothing to cancel"
        elif facts.lead is None:
            facts.problem = f"a Cal.com booking ({data.kind}) for {attendee or 'no attendee'}, whom no lead has"
        elif data.kind in ("no_show", "ended"):
            facts.problem = f"an outcome ({data.kind}) for booking {uid}, which is none of {facts.lead}'s meetings"
        elif data.start is None:
            facts.problem = f"booking {uid} for {facts.lead} has no start time"
        else:
            live = Meeting.objects.filter(lead=facts.lead, status__in=LIVE).first()
            if live is not None:
                facts.problem = (
                    f"{facts.lead} booked {uid} while meeting #{live.pk} ({live.status}) is live: "
                    "cancel one of them by hand (a lead has one live meeting)"
                )
        return facts

    @staticmethod
    def _by_key(data: LifecycleInput) -> tuple[str, Meeting] | None:
        named = meeting_of_key(str(data.metadata.get("idempotency_key", "")))
        if named is None:
            return None
        lead_id, meeting_id = named
        meeting = Meeting.objects.filter(pk=meeting_id, lead_id=lead_id).first()
        return ("our booking key", meeting) if meeting is not None else None

    @staticmethod
    def _replaced(uid: str) -> bool:
        return AuditLog.objects.filter(action="meeting.booking_moved", after__previous_booking_uid=uid).exists()

    # --- act ------------------------------------------------------------------------------------

    def act(self, ctx: RunContext, facts: Lifecycle) -> Driven:
        if facts.mode != "event":
            return self._checks(ctx, facts)
        data = facts.data
        out = Driven(mode="event", matched_by=facts.matched_by)
        if facts.problem:
            ctx.escalate(
                Escalation.Kind.ERROR,
                facts.problem,
                payload=data.model_dump(mode="json", include={"kind", "booking_uid", "attendee_email", "start"}),
                dedupe_key=f"calcom:{data.booking_uid}:{data.kind}",
            )
            out.note, out.escalated = facts.problem, True
            return out
        if facts.stale:
            out.note = facts.stale
            return out
        handle = {
            "created": self._booked,
            "rescheduled": self._booked,
            "cancelled": self._cancelled,
            "no_show": self._no_show,
            "ended": self._ended,
        }[str(data.kind)]
        meeting, note = handle(ctx, facts)
        out.meeting_id, out.status, out.note = meeting.pk if meeting else None, meeting.status if meeting else "", note
        if meeting is not None and meeting.status in LIVE:
            out.prep = self._prep(ctx, [meeting], now=ctx.now()) if self._prep_due(meeting, ctx.now()) else []
        return out

    def _booked(self, ctx: RunContext, facts: Lifecycle) -> tuple[Meeting | None, str]:
        data, uid = facts.data, facts.data.booking_uid.strip()
        assert data.start is not None or facts.meeting is not None
        meeting = ctx.lock(facts.meeting) if facts.meeting is not None else None
        if meeting is not None and meeting.status not in (*LIVE, S.PROPOSED, S.NO_SHOW):
            return meeting, f"meeting #{meeting.pk} is {meeting.status}: the booking change is not applied"
        start = data.start or (meeting.starts_at if meeting else None)
        assert start is not None
        end = data.end if data.end and data.end > start else start + dt.timedelta(minutes=DEFAULT_MINUTES)
        if meeting is not None and meeting.booking_uid != uid:
            if meeting.booking_uid:  # Cal.com moved it to a new booking: the old uid is remembered
                note = {"previous_booking_uid": meeting.booking_uid}
                ctx.update(meeting, action="meeting.booking_moved", note=note, booking_uid=uid)
            else:  # our own booking, reported before its call returned
                ctx.update(meeting, action="meeting.booking_attached", booking_uid=uid)
        before = meeting.starts_at if meeting is not None else None
        lead = facts.lead
        zone = zone_of(lead, data.attendee_timezone or "UTC")
        meeting, created = upsert_meeting_from_booking(
            booking_uid=uid,
            starts_at=start,
            ends_at=end,
            lead=lead,
            title=data.title,
            time_zone=zone.key,
            join_url=data.meeting_url,
        )
        if created:
            add_participant(meeting=meeting, email=data.attendee_email, name=data.attendee_name,
                            role=MeetingParticipant.Role.PROSPECT)  # fmt: skip
            ctx.update(meeting, action="meeting.booked", note={"starts_at": start.isoformat(), "source": "calcom"})
            if data.previous_booking_uid:  # a move reported before the booking it moves: that one is stale
                note = {"previous_booking_uid": data.previous_booking_uid}
                ctx.update(meeting, action="meeting.booking_moved", note=note)
        elif before != meeting.starts_at:
            moved = {"from": before.isoformat() if before else "", "starts_at": start.isoformat(), "source": "calcom"}
            ctx.update(meeting, action="meeting.moved", note=moved)
        if (
            lead is not None
            and lead.status != Lead.Status.MEETING_BOOKED
            and lead.STATUS_MACHINE.allowed(lead.status, Lead.Status.MEETING_BOOKED)
        ):
            lead_set_status(lead=lead, status=Lead.Status.MEETING_BOOKED, reason=f"booking {uid}")
        verb = "booked" if created else ("moved" if before != meeting.starts_at else "confirmed")
        return meeting, f"{verb} for {when_text(start, zone)}"

    def _cancelled(self, ctx: RunContext, facts: Lifecycle) -> tuple[Meeting | None, str]:
        assert facts.meeting is not None
        meeting = ctx.lock(facts.meeting)
        if meeting.status not in (*LIVE, S.PROPOSED, S.NO_SHOW):
            return meeting, f"meeting #{meeting.pk} is {meeting.status}: the cancellation changes nothing"
        if meeting.booking_uid != facts.data.booking_uid:
            return meeting, f"booking {facts.data.booking_uid} was replaced already: the meeting stays"
        meeting = cancel_meeting(meeting=meeting)
        lead = meeting.lead
        others = Meeting.objects.filter(lead=lead, status__in=LIVE).exists() if lead else True
        if lead is not None and not others and lead.status == Lead.Status.MEETING_BOOKED:
            lead_set_status(lead=lead, status=Lead.Status.INTERESTED, reason="the call was cancelled")
        ctx.update(meeting, action="meeting.cancelled", note={"reason": facts.data.reason[:200]})
        return meeting, f"cancelled: {facts.data.reason or 'no reason given'}"

    def _no_show(self, ctx: RunContext, facts: Lifecycle) -> tuple[Meeting | None, str]:
        assert facts.meeting is not None
        meeting = ctx.lock(facts.meeting)
        absent = set(facts.data.no_show_emails)
        prospect = (meeting.lead.email if meeting.lead else "") or facts.data.attendee_email
        if prospect.lower() not in absent:
            return meeting, "no prospect is marked absent (a no-show cleared or another attendee's)"
        if meeting.status == S.NO_SHOW:
            return meeting, "marked a no-show already"
        if meeting.status not in LIVE:
            return meeting, f"meeting #{meeting.pk} is {meeting.status}: the no-show is not applied"
        meeting = mark_meeting_no_show(meeting=meeting)
        emails = set(meeting.participants.values_list("email", flat=True))
        record_attendance(meeting=meeting, attended_emails=emails - absent)
        self._recover(ctx, [meeting])
        return meeting, f"no-show #{meeting.no_show_attempts} for this meeting: recovery started"

    def _ended(self, ctx: RunContext, facts: Lifecycle) -> tuple[Meeting | None, str]:
        assert facts.meeting is not None
        meeting = ctx.lock(facts.meeting)
        if meeting.status not in LIVE:
            return meeting, f"meeting #{meeting.pk} is {meeting.status}: its end changes nothing"
        meeting = mark_meeting_held(meeting=meeting)
        ctx.update(meeting, action="meeting.held", note={"booking_uid": meeting.booking_uid or ""})
        return meeting, "held"

    # --- the beat's checks ----------------------------------------------------------------------

    def _checks(self, ctx: RunContext, facts: Lifecycle) -> Driven:
        now = ctx.now()
        out = Driven(mode=facts.mode, meeting_id=facts.meeting.pk if facts.meeting else None)
        out.prep = self._prep(ctx, facts.prep_due, now=now)
        for meeting in facts.overdue:
            meeting = ctx.lock(meeting)
            if meeting.status not in LIVE:
                continue
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"meeting #{meeting.pk} with {meeting.lead or meeting.client} ended over "
                f"{int(OUTCOME_GRACE.total_seconds() // 3600)} h ago and neither Cal.com nor Fathom reported "
                "an outcome: mark it held or a no-show",
                payload={"meeting_id": meeting.pk, "starts_at": str(meeting.starts_at)},
                dedupe_key=no_outcome_key(meeting),
                subject=meeting,
            )
            out.overdue.append(meeting.pk)
        out.recovery = self._recover(ctx, facts.recover)
        if facts.meeting is not None:
            facts.meeting.refresh_from_db()
            out.status = facts.meeting.status
        return out

    @staticmethod
    def _prep_due(meeting: Meeting, now: dt.datetime) -> bool:
        start = meeting.starts_at
        if not (start and now < start <= now + PREP_AHEAD):
            return False
        prepped = MeetingNote.objects.filter(meeting=meeting, kind=MeetingNote.Kind.PREP).exists()
        return not prepped and not audited("meeting.prep_requested", [meeting.pk])

    def _prep(self, ctx: RunContext, meetings: list[Meeting], *, now: dt.datetime) -> list[int]:
        handed = []
        for meeting in meetings:
            if ctx.handoff("meeting_prep", {"meeting_id": meeting.pk}) is None:
                continue  # not built yet: asked again on the next beat
            ctx.update(meeting, action="meeting.prep_requested", note={"starts_at": str(meeting.starts_at)})
            handed.append(meeting.pk)
        return handed

    def _recover(self, ctx: RunContext, meetings: list[Meeting]) -> list[int]:
        handed = []
        now = ctx.now()
        for meeting in meetings:
            if meeting.lead is None:
                continue
            step = recovery_state(meeting, meeting.lead, now=now).step
            if not step:
                continue
            marker = f"{meeting.no_show_attempts}:{step}"
            if meeting.pk in audited("meeting.recovery_requested", [meeting.pk], step=marker):
                continue
            ctx.handoff("no_show_recovery", {"meeting_id": meeting.pk})
            ctx.update(meeting, action="meeting.recovery_requested", note={"step": marker})
            handed.append(meeting.pk)
        return handed
