"""send_time_optimization: the enrollment's next send inside the lead's business window.

Rules: the campaign's window (09:00-17:00 by default) in the lead's time zone (or the agency's, by
the campaign's policy), on its weekdays, skipping the public holidays of the lead's country
(the ``holidays`` library). Before the window opens, the send lands at a stable offset into its
first half, so a campaign's emails do not all leave in the same minute.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._timing import lead_zone, next_slot
from crm.models import Enrollment


class EnrollmentRef(BaseModel):
    enrollment_id: int


class Timing(Facts):
    enrollment: Enrollment


class Scheduled(BaseModel):
    enrollment_id: int
    next_send_at: dt.datetime | None
    changed: bool = False
    note: str = ""


def country_of(enrollment: Enrollment) -> str:
    lead = enrollment.lead
    return lead.country or (lead.company.country if lead.company else "") or ""


def slot_for(enrollment: Enrollment, after: dt.datetime, *, step: int | None = None) -> dt.datetime:
    campaign = enrollment.campaign
    zone = lead_zone(enrollment.lead, campaign)
    return next_slot(
        after,
        campaign=campaign,
        zone=zone,
        country=country_of(enrollment),
        key=f"{enrollment.pk}:{enrollment.current_step if step is None else step}",
    )


@register
class SendTimeOptimization(Agent[EnrollmentRef, Scheduled]):
    name, category, trigger, queue = "send_time_optimization", "campaign", "handoff", "crm"
    Input, Facts, Output = EnrollmentRef, Timing, Scheduled

    def load(self, ctx: RunContext, data: EnrollmentRef) -> Timing:
        return Timing(
            enrollment=Enrollment.objects.select_related("lead__company", "campaign").get(pk=data.enrollment_id)
        )

    def act(self, ctx: RunContext, facts: Timing) -> Scheduled:
        enrollment = ctx.lock(facts.enrollment)
        out = Scheduled(enrollment_id=enrollment.pk, next_send_at=enrollment.next_send_at)
        if enrollment.status != Enrollment.Status.ACTIVE or enrollment.next_send_at is None:
            out.note = f"enrollment is {enrollment.status}: nothing to schedule"
            return out
        # Never earlier than already due, never in the past.
        after = max(enrollment.next_send_at, ctx.now())
        enrollment.lead, enrollment.campaign = facts.enrollment.lead, facts.enrollment.campaign
        slot = slot_for(enrollment, after)
        out.changed = bool(ctx.update(enrollment, action="enrollment.send_time", next_send_at=slot))
        out.next_send_at = slot
        return out
