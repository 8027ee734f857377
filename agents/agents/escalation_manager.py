"""escalation_manager: routes open escalations to their group, reminds on SLA, expires the stale.

Every 15 minutes, in one bounded act (at most BATCH escalations of each kind of work):
- **route** a new escalation: the group its kind belongs to (ESCALATION_ROUTES), a due time when
  it has none (ESCALATION_EXPIRE_HOURS, so nothing waits forever) and a notice to the group;
- **remind** the group when an open one was last told about ESCALATION_REMIND_HOURS ago;
- **expire** one past its due time: never approved by default; the runs waiting on it are canceled.

Notices are Django mail to the group's staff (auth group of the same name, active, with an
address), sent through the outbox (kind ``staff.notify``): once per escalation and reminder,
after the act commits, retried if the mail server hiccups. Staff are not prospects, so the
suppression list does not apply (no contacts declared).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import AgentRun, Escalation
from agents.outbox import register_performer
from agents.registry import register
from agents.services.audit import record_change
from agents.services.staff import staff_emails
from smarter_team import clock

BATCH = 200
DEFAULT_ROUTES = {"budget": "manager", "error": "admin", "loop": "admin"}


class StaffNotice(BaseModel):
    to: list[str]
    subject: str
    body: str


@register_performer("staff.notify", payload=StaffNotice, contacts=())
def notify_staff(payload: StaffNotice, key: str) -> dict[str, Any]:
    sent = send_mail(payload.subject, payload.body, None, payload.to, fail_silently=False)
    return {"sent": sent, "to": len(payload.to)}


class EscalationWork(Facts):
    new: list[Escalation]
    remind: list[Escalation]
    expire: list[Escalation]
    recipients: dict[str, list[str]]


class ManagerReport(BaseModel):
    routed: int = 0
    reminded: int = 0
    expired: int = 0
    runs_canceled: int = 0
    notices: int = 0
    without_recipients: list[int] = Field(default_factory=list)
    run_gone: list[int] = Field(default_factory=list)
    summary: str = ""


def _hours(name: str, default: float) -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, name, default)))


def _route(kind: str, current: str) -> str:
    routes = {**DEFAULT_ROUTES, **getattr(settings, "ESCALATION_ROUTES", {})}
    return routes.get(kind, current)


@register
class EscalationManager(Agent[Empty, ManagerReport]):
    """Routes open escalations, sends SLA reminders, expires the ones past their due time."""

    name = "escalation_manager"
    category = "system"
    trigger = "schedule"
    schedule = 900
    idle_finds_nothing = True
    Facts = EscalationWork
    Output = ManagerReport

    def load(self, ctx: RunContext, data: Empty) -> EscalationWork:
        now = ctx.now()
        opened = Escalation.objects.filter(status=Escalation.Status.OPEN).order_by("pk")
        expire = list(opened.filter(due_by__lte=now)[:BATCH])
        live = opened.filter(Q(due_by__isnull=True) | Q(due_by__gt=now))
        new = list(live.filter(reminded_at__isnull=True)[:BATCH])
        remind_before = now - _hours("ESCALATION_REMIND_HOURS", 4)
        remind = list(live.filter(reminded_at__lt=remind_before)[:BATCH])
        groups = {_route(e.kind, e.assigned_group) for e in new} | {e.assigned_group for e in remind}
        return EscalationWork(new=new, remind=remind, expire=expire, recipients=staff_emails(groups))

    def act(self, ctx: RunContext, facts: EscalationWork) -> ManagerReport:
        report = ManagerReport()
        now = ctx.now()
        for escalation in facts.expire:
            self._expire(ctx, escalation, report)
        for escalation in facts.new:
            escalation = ctx.lock(escalation)
            if escalation.status != Escalation.Status.OPEN:
                continue
            group = _route(escalation.kind, escalation.assigned_group)
            due_by = escalation.due_by or now + _hours("ESCALATION_EXPIRE_HOURS", 72)
            ctx.update(escalation, action="escalation.routed", assigned_group=group, due_by=due_by, reminded_at=now)
            report.routed += 1
            self._tell(ctx, escalation, facts, report, key=f"escalation:{escalation.pk}:notify", what="New")
        for escalation in facts.remind:
            escalation = ctx.lock(escalation)
            if escalation.status != Escalation.Status.OPEN:
                continue
            ctx.update(escalation, action="escalation.reminded", reminded_at=now)
            report.reminded += 1
            key = f"escalation:{escalation.pk}:remind:{now:%Y%m%dT%H%M}"
            self._tell(ctx, escalation, facts, report, key=key, what="Reminder")
        report.summary = (
            f"routed {report.routed}, reminded {report.reminded}, expired {report.expired}"
            if report.routed or report.reminded or report.expired
            else "no open escalation needs anything"
        )
        return report

    def _tell(
        self,
        ctx: RunContext,
        escalation: Escalation,
        facts: EscalationWork,
        report: ManagerReport,
        *,
        key: str,
        what: str,
    ) -> None:
        to = facts.recipients.get(escalation.assigned_group, [])
        if not to:
            report.without_recipients.append(escalation.pk)
            return
        due = f"{escalation.due_by:%Y-%m-%d %H:%M} UTC" if escalation.due_by else "no due time"
        body = (
            f"{escalation.get_kind_display()} escalation #{escalation.pk} "
            f"for the {escalation.assigned_group} group.\n\n"
            f"{escalation.reason}\n\nDecide by {due} in the admin; without a decision it expires "
            "(an approval expires as not approved)."
        )
        subject = f"[{settings.AGENCY_NAME}] {what}: {escalation.get_kind_display()} #{escalation.pk}"
        ctx.act("staff.notify", key, StaffNotice(to=to, subject=subject[:200], body=body))
        report.notices += 1

    def _expire(self, ctx: RunContext, escalation: Escalation, report: ManagerReport) -> None:
        escalation = ctx.lock(escalation)
        if escalation.status != Escalation.Status.OPEN:
            return  # decided meanwhile
        escalation.decided_at = clock.now()
        escalation.decision_note = f"expired: no decision by {escalation.due_by:%Y-%m-%d %H:%M} UTC"
        escalation.transition_to(Escalation.Status.EXPIRED, also=["decided_at", "decision_note"])
        waiting = AgentRun.objects.select_for_update().filter(
            Q(waiting_on=escalation) | Q(pk=escalation.run_id), status=AgentRun.Status.ESCALATED
        )
        canceled = 0
        for run in waiting:
            run.finished_at = clock.now()
            run.error = f"escalation #{escalation.pk} expired without a decision"
            run.transition_to(AgentRun.Status.CANCELED, also=["finished_at", "error"])
            canceled += 1
        if escalation.run_id is None and not canceled:
            report.run_gone.append(escalation.pk)
        record_change(
            action="escalation.expire",
            target=escalation,
            before={"status": "open"},
            after={"status": "expired", "runs_canceled": canceled},
            run=ctx.run,
        )
        report.expired += 1
        report.runs_canceled += canceled
