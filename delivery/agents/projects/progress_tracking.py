"""progress_tracking: where the work stands, from the PM tool, every morning.

The daily beat hands each open project to a run of its own (one project's bad data fails alone),
and hands back to change_request the change requests an operator rejected (the kit cancels a run
whose approval is rejected; the client still needs an answer).
Per project, facts: our tasks, milestones and deliverables, and the tool's task list.
Decides, in code:
- each of our tasks takes the tool's status (done, closed as "won't do", in progress, to do);
- a task in the tool that we never created is not imported: it is recorded with the reason and
  an operator decides (it may be scope the client added: a change request);
- a milestone whose tasks are all closed is done (with the slip it finished with), and its
  deliverable is ready for QA (the event that starts quality_assurance); after rework, again;
- an open milestone's finish is forecast from the hours left up to and including it, at the plan's
  pace: ``SLIP_FLAG_DAYS`` late or more flags it at risk with the slip in days, ``BIG_SLIP_DAYS``
  or more also escalates, once per milestone;
- a project whose milestones are all done and delivered is completed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from delivery.agents.projects.common import CHANGE_KEY_PREFIX, add_working_days, move, working_days_for
from delivery.models import ChangeRequest, Deliverable, Milestone, Project, ProjectTask
from delivery.services.projects import add_deliverable, submit_deliverable_for_qa
from integrations.values import Task
from smarter_team import clock
from smarter_team.db import pk_key

SLIP_FLAG_DAYS = 2  # a couple of days is noise in a forecast; more is worth saying
BIG_SLIP_DAYS = 7  # a week late: the client will notice, a human should decide what to tell them
OPEN_PROJECTS = (Project.Status.PLANNING, Project.Status.ACTIVE)
OPEN_MILESTONES = (Milestone.Status.PENDING, Milestone.Status.IN_PROGRESS, Milestone.Status.AT_RISK)
_DROPPED = re.compile(r"won'?t do|wontfix|cancel+ed|not doing|dropped|rejected|obsolete", re.I)
_DOING = re.compile(r"progress|review|doing|started|active|testing|qa\b|blocked", re.I)


class TrackScope(BaseModel):
    project_id: int | None = None


class Tracking(Facts):
    """What one run looks at: every open project (the beat) or one project's board."""


class Board(Tracking):
    """One project as we planned it and as the tool shows it."""

    project: Project
    milestones: list[Milestone]
    tasks: list[ProjectTask]
    deliverables: dict[int, Deliverable]  # the latest per milestone
    remote: list[Task]
    escalated: set[str]  # dedupe keys of escalations raised before (answered or not)
    today: dt.date


class Portfolio(Tracking):
    projects: list[int]
    rejected_changes: list[int]  # source messages of change requests an operator rejected


class Slip(BaseModel):
    milestone: str
    slip_days: int


class Tracked(BaseModel):
    projects: list[int] = Field(default_factory=list)
    changes_reanswered: list[int] = Field(default_factory=list)
    tasks_changed: int = 0
    completed: list[str] = Field(default_factory=list)
    to_qa: list[int] = Field(default_factory=list)
    slipping: list[Slip] = Field(default_factory=list)
    foreign: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    escalated: list[str] = Field(default_factory=list)
    project_completed: bool = False


def task_status(remote: Task) -> str:
    if remote.done:
        return ProjectTask.Status.DROPPED if _DROPPED.search(remote.status) else ProjectTask.Status.DONE
    return ProjectTask.Status.IN_PROGRESS if _DOING.search(remote.status) else ProjectTask.Status.TO_DO


def hours_left(tasks: list[ProjectTask]) -> Decimal:
    """Open work: a task in progress is counted half done."""
    left = Decimal("0")
    for task in tasks:
        if task.status == ProjectTask.Status.TO_DO:
            left += task.estimate_hours
        elif task.status == ProjectTask.Status.IN_PROGRESS:
            left += task.estimate_hours / 2
    return left


def forecast_slip(*, due_on: dt.date | None, hours_before_and_own: Decimal, today: dt.date) -> int:
    """Days a milestone will finish after its due date, if the work up to it goes at the plan's pace."""
    if due_on is None:
        return 0
    finish = add_working_days(today, working_days_for(hours_before_and_own)) if hours_before_and_own else today
    return max(0, (finish - due_on).days)


@register
class ProgressTracking(Agent[TrackScope, Tracked]):
    name, category, trigger, queue = "progress_tracking", "delivery", ("schedule", "handoff"), "delivery"
    Input, Output = TrackScope, Tracked
    Facts = Tracking
    schedule = "0 7 * * *"  # daily, before the team's day and the weekly report
    next = ("progress_tracking", "change_request")

    def load(self, ctx: RunContext, data: TrackScope) -> Tracking:
        if data.project_id is None:
            # A waiting change whose approval was rejected, matched in SQL: the rejections are never
            # purged, and reading all of their keys back each day grew with the history.
            rejected = Escalation.objects.filter(
                kind=Escalation.Kind.APPROVAL, status=Escalation.Status.REJECTED, dedupe_key=OuterRef("approval")
            )
            waiting = (
                ChangeRequest.objects.filter(
                    status=ChangeRequest.Status.AWAITING_APPROVAL, source_message__isnull=False
                )
                .annotate(approval=pk_key(f"approval:{CHANGE_KEY_PREFIX}"))
                .filter(Exists(rejected))
            )
            return Portfolio(
                projects=list(
                    Project.objects.filter(status__in=OPEN_PROJECTS)
                    .exclude(pm_tool_id="")
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
                rejected_changes=[m for m in waiting.values_list("source_message_id", flat=True) if m is not None],
            )
        project = Project.objects.select_related("client__company").get(pk=data.project_id)
        if not project.pm_tool_id:
            raise SkipRun(f"project #{project.pk} is not on the PM tool yet: nothing to sync")
        milestones = list(project.milestones.order_by("order", "pk"))
        deliverables: dict[int, Deliverable] = {}
        for deliverable in Deliverable.objects.filter(milestone__project=project).order_by("pk"):
            deliverables[deliverable.milestone_id] = deliverable
        return Board(
            project=project,
            milestones=milestones,
            tasks=list(project.tasks.order_by("order", "pk")),
            deliverables=deliverables,
            remote=ctx.roles.project_tool.list_tasks(project_id=project.pm_tool_id),
            escalated=set(
                Escalation.objects.filter(dedupe_key__startswith=f"project:{project.pk}:").values_list(
                    "dedupe_key", flat=True
                )
            ),
            today=ctx.now().date(),
        )

    def act(self, ctx: RunContext, facts: Tracking) -> Tracked:
        if isinstance(facts, Portfolio):
            for pk in facts.projects:
                ctx.handoff("progress_tracking", {"project_id": pk})
            for message_id in facts.rejected_changes:
                ctx.handoff("change_request", {"message_id": message_id})
            return Tracked(projects=facts.projects, changes_reanswered=facts.rejected_changes)
        assert isinstance(facts, Board)
        out = Tracked()
        self._sync(ctx, facts, out)
        self._milestones(ctx, facts, out)
        return out

    # --- tasks ----------------------------------------------------------------------------------
    def _sync(self, ctx: RunContext, facts: Board, out: Tracked) -> None:
        project, now = facts.project, ctx.now()
        by_id = {t.external_id: t for t in facts.tasks if t.external_id}
        # A task created before its id came back (a lost answer): the same title is ours.
        unlinked = {t.title: t for t in facts.tasks if not t.external_id}
        listed: set[str] = set()
        foreign: list[Task] = []
        for remote in facts.remote:
            listed.add(remote.task_id)
            task = by_id.get(remote.task_id) or unlinked.pop(remote.title, None)
            if task is None:
                foreign.append(remote)
                continue
            status = task_status(remote)
            changes: dict[str, Any] = {
                "status": status,
                "pm_status": remote.status[:64],
                "external_id": remote.task_id,
            }
            if remote.url and not task.url:
                changes["url"] = remote.url[:500]
            closed = status in (ProjectTask.Status.DONE, ProjectTask.Status.DROPPED)
            changes["done_at"] = (task.done_at or now) if closed else None
            if any(getattr(task, name) != value for name, value in changes.items()):
                ctx.update(task, action="task.synced", synced_at=now, **changes)
                out.tasks_changed += 1
        for task in facts.tasks:
            if not task.external_id or task.external_id in listed:
                continue
            out.missing.append(task.title)
            key = f"project:{project.pk}:missing:{task.pk}"
            if key not in facts.escalated:
                ctx.escalate(
                    Escalation.Kind.ERROR,
                    f"{project.name}: {task.title!r} is no longer on the PM tool's board (deleted or moved there). "
                    "Its status stays as last synced, so its milestone cannot complete: put it back on the board",
                    {"project_id": project.pk, "task_id": task.pk, "external_id": task.external_id},
                    wait=False,
                    dedupe_key=key,
                    subject=task,
                )
                out.escalated.append(key)
        for remote in foreign:
            key = f"project:{project.pk}:foreign:{remote.task_id}"
            out.foreign.append(remote.title)
            if key in facts.escalated:
                continue
            reason = (
                f"{project.name}: the PM tool lists a task we never created, {remote.title!r} ({remote.status}). "
                "Not imported: decide whether it is in scope (raise a change request) or remove it from the board"
            )
            ctx.escalate(
                Escalation.Kind.ERROR,
                reason,
                {"project_id": project.pk, "task_id": remote.task_id, "title": remote.title, "url": remote.url},
                wait=False,
                dedupe_key=key,
                subject=project,
            )
            ctx.update(project, action="project.foreign_task", note={"task_id": remote.task_id, "title": remote.title})
            out.escalated.append(key)

    # --- milestones -----------------------------------------------------------------------------
    def _milestones(self, ctx: RunContext, facts: Board, out: Tracked) -> None:
        today, ahead = facts.today, Decimal("0")
        for milestone in facts.milestones:
            tasks = [t for t in facts.tasks if t.milestone_id == milestone.pk]
            ahead += hours_left(tasks)
            if milestone.status not in OPEN_MILESTONES or not tasks:
                continue
            if all(t.closed for t in tasks):
                self._complete(ctx, facts, milestone, tasks, out)
                continue
            slip = forecast_slip(due_on=milestone.due_on, hours_before_and_own=ahead, today=today)
            started = any(t.status != ProjectTask.Status.TO_DO for t in tasks)
            if slip >= SLIP_FLAG_DAYS:
                move(ctx, milestone, Milestone.Status.AT_RISK, action="milestone.slipping", slip_days=slip)
                out.slipping.append(Slip(milestone=milestone.name, slip_days=slip))
                self._big_slip(ctx, facts, milestone, slip, out)
            elif milestone.status == Milestone.Status.AT_RISK or started:
                move(ctx, milestone, Milestone.Status.IN_PROGRESS, action="milestone.progress", slip_days=slip)
        self._project_done(ctx, facts, out)

    def _big_slip(self, ctx: RunContext, facts: Board, milestone: Milestone, slip: int, out: Tracked) -> None:
        key = f"project:{facts.project.pk}:milestone:{milestone.pk}:slip"
        if slip < BIG_SLIP_DAYS or key in facts.escalated:
            return
        ctx.escalate(
            Escalation.Kind.POLICY,
            f"{facts.project.name}: milestone {milestone.name!r} (due {milestone.due_on}) is forecast {slip} days "
            "late from the work left; decide on scope, people or a new date, and tell the client",
            {
                "project_id": facts.project.pk,
                "milestone_id": milestone.pk,
                "slip_days": slip,
                "due_on": str(milestone.due_on),
            },
            wait=False,
            dedupe_key=key,
            subject=milestone,
        )
        out.escalated.append(key)

    def _complete(
        self, ctx: RunContext, facts: Board, milestone: Milestone, tasks: list[ProjectTask], out: Tracked
    ) -> None:
        today = facts.today
        slip = max(0, (today - milestone.due_on).days) if milestone.due_on else 0
        move(ctx, milestone, Milestone.Status.DONE, action="milestone.completed", completed_on=today, slip_days=slip)
        if facts.project.status == Project.Status.PLANNING:
            move(ctx, facts.project, Project.Status.ACTIVE, action="project.started")
        out.completed.append(milestone.name)
        description = "\n".join(
            [
                "Work closed in the PM tool:",
                *(f"- {t.title} ({t.pm_status or t.status})" for t in tasks),
                "Acceptance criteria:",
                *(f"- {c}" for c in milestone.acceptance_criteria),
            ]
        )
        deliverable = facts.deliverables.get(milestone.pk)
        if deliverable is None:
            url = next((t.url for t in tasks if t.url), "")
            deliverable = add_deliverable(milestone=milestone, name=milestone.name, url=url, description=description)
            deliverable = submit_deliverable_for_qa(deliverable=deliverable)
        elif deliverable.status in (Deliverable.Status.REJECTED, Deliverable.Status.IN_PROGRESS):
            deliverable = submit_deliverable_for_qa(deliverable=deliverable, description=description)
        else:
            return  # reviewed already (an operator reopened the milestone): nothing new for QA
        # Ready for QA: the service starts quality_assurance ("deliverable ready"), as for an operator's.
        ctx.update(deliverable, action="deliverable.ready", note={"milestone": milestone.pk, "tasks": len(tasks)})
        out.to_qa.append(deliverable.pk)

    def _project_done(self, ctx: RunContext, facts: Board, out: Tracked) -> None:
        project = facts.project
        finished = (Milestone.Status.DONE, Milestone.Status.ACCEPTED)
        delivered = (Deliverable.Status.APPROVED, Deliverable.Status.DELIVERED)
        if project.status != Project.Status.ACTIVE or not facts.milestones:
            return
        for milestone in facts.milestones:
            deliverable = facts.deliverables.get(milestone.pk)
            if milestone.status not in finished or deliverable is None or deliverable.status not in delivered:
                return
        move(ctx, project, Project.Status.COMPLETED, action="project.completed", note={"on": str(clock.today())})
        out.project_completed = True
