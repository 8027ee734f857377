"""resource_planning: will the team manage the work it has committed to, the next few weeks?

Every Monday. Facts: the open projects (planning or active), each with the hours of work left
(open tasks' estimates, a task in progress counted half; a project without tasks yet, its committed
hours) and the weeks to its due date.
Decides, in code: each project's hours spread evenly over its weeks left (an overdue project's all
in the coming week: it is late, the work is now), summed per week for the next
``DELIVERY_PLANNING_HORIZON_WEEKS`` weeks and set against ``DELIVERY_TEAM_HOURS_PER_WEEK``.
Does: when a coming week needs more than the team has, one escalation for the week it runs in,
with the numbers (load per week, capacity, the projects that weigh most), before the overload.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.conf import settings
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Escalation
from agents.registry import register
from delivery.agents.projects.common import week_of
from delivery.agents.projects.progress_tracking import hours_left
from delivery.models import Project

OPEN = (Project.Status.PLANNING, Project.Status.ACTIVE)


class Commitment(BaseModel):
    project_id: int
    name: str
    hours_left: Decimal
    weeks_left: int


class Load(Facts):
    week_start: dt.date
    capacity: Decimal
    horizon: int
    commitments: list[Commitment]
    warned: bool  # this week's warning exists already


class WeekLoad(BaseModel):
    week_of: dt.date
    hours: Decimal
    utilisation: int  # percent of capacity


class Planned(BaseModel):
    capacity: Decimal
    weeks: list[WeekLoad] = Field(default_factory=list)
    over: list[dt.date] = Field(default_factory=list)
    escalated: bool = False


def weeks_until(due_on: dt.date | None, *, week_start: dt.date) -> int:
    """Whole weeks from this week to the due date's week, this one included (1 for an overdue or undated project)."""
    if due_on is None or due_on < week_start:
        return 1
    return max(1, math.floor((due_on - week_start).days / 7) + 1)


def weekly_load(commitments: list[Commitment], *, horizon: int) -> list[Decimal]:
    load = [Decimal("0")] * horizon
    for c in commitments:
        per_week = c.hours_left / c.weeks_left
        for week in range(min(horizon, c.weeks_left)):
            load[week] += per_week
    return [hours.quantize(Decimal("0.1")) for hours in load]


@register
class ResourcePlanning(Agent[Empty, Planned]):
    name, category, trigger, queue = "resource_planning", "delivery", "schedule", "delivery"
    Input, Facts, Output = Empty, Load, Planned
    schedule = "0 6 * * 1"  # Monday morning, before the week is planned

    def load(self, ctx: RunContext, data: Empty) -> Load:
        start, _ = week_of(ctx.now().date())
        commitments = []
        for project in Project.objects.filter(status__in=OPEN).prefetch_related("tasks").order_by("pk"):
            tasks = list(project.tasks.all())
            left = hours_left(tasks) if tasks else project.committed_hours
            if left <= 0:
                continue
            commitments.append(
                Commitment(
                    project_id=project.pk,
                    name=project.name,
                    hours_left=left,
                    weeks_left=weeks_until(project.due_on, week_start=start),
                )
            )
        return Load(
            week_start=start,
            capacity=Decimal(settings.DELIVERY_TEAM_HOURS_PER_WEEK),
            horizon=max(1, int(settings.DELIVERY_PLANNING_HORIZON_WEEKS)),
            commitments=commitments,
            warned=Escalation.objects.filter(dedupe_key=self.warning_key(start)).exists(),
        )

    @staticmethod
    def warning_key(week_start: dt.date) -> str:
        return f"resource_planning:{week_start.isoformat()}:overload"

    def act(self, ctx: RunContext, facts: Load) -> Planned:
        load = weekly_load(facts.commitments, horizon=facts.horizon)
        capacity = facts.capacity
        weeks = [
            WeekLoad(
                week_of=facts.week_start + dt.timedelta(weeks=i),
                hours=hours,
                utilisation=int((hours * 100 / capacity).to_integral_value()) if capacity > 0 else 100,
            )
            for i, hours in enumerate(load)
        ]
        out = Planned(capacity=capacity, weeks=weeks, over=[w.week_of for w in weeks if w.hours > capacity])
        if not out.over or facts.warned:
            return out
        heaviest = sorted(facts.commitments, key=lambda c: c.hours_left / c.weeks_left, reverse=True)[:5]
        first = next(w for w in weeks if w.hours > capacity)
        ctx.escalate(
            Escalation.Kind.POLICY,
            f"Delivery overload ahead: the week of {first.week_of} needs {first.hours} h against a capacity of "
            f"{capacity} h a week ({first.utilisation}%); {len(out.over)} of the next {facts.horizon} weeks are over. "
            "Move dates, add people or hold new starts",
            {
                "capacity": str(capacity),
                "weeks": [
                    {"week_of": str(w.week_of), "hours": str(w.hours), "utilisation": w.utilisation} for w in weeks
                ],
                "heaviest": [
                    {
                        "project_id": c.project_id,
                        "name": c.name,
                        "hours_left": str(c.hours_left),
                        "weeks_left": c.weeks_left,
                    }
                    for c in heaviest
                ],
            },
            wait=False,
            dedupe_key=self.warning_key(facts.week_start),
        )
        out.escalated = True
        return out
