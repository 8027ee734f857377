"""Schedules declared in code, synced to django-celery-beat rows that operators may edit.

``sync_schedules`` (run on deploy) is idempotent. For every field it writes it remembers the value
(CodeSchedule.written); next time it only overwrites a field still holding that value, so an
operator's change in the admin survives. It never re-enables a task an operator disabled.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from agents import registry
from agents.models import CodeSchedule

Schedule = int | dt.timedelta | str
FREQUENT = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    task: str
    schedule: Schedule
    args: tuple[Any, ...] = ()
    queue: str = "system"
    description: str = ""


# The runtime's own clockwork (agents' schedules are declared on their classes).
SYSTEM_SCHEDULES = (
    ScheduleSpec("agents.dispatch_due", "agents.dispatch_due", 10, description="publish due runs"),
    ScheduleSpec("agents.sweep_stuck", "agents.sweep_stuck", 60, description="recover runs of lost workers"),
    # Without it an act whose worker died after the commit, or that failed transiently, would wait
    # forever: the outbox performs at once only in the worker that committed it.
    ScheduleSpec("agents.perform_due", "agents.perform_due", 30, description="perform due outbox acts"),
    ScheduleSpec("agents.submit_batches", "agents.submit_batches", 300, description="send bulk LLM work as batches"),
    ScheduleSpec("agents.poll_batches", "agents.poll_batches", 60, description="collect ended LLM batches"),
    # The sandbox world's due events (replies, bookings, payments) are rows a tick delivers.
    ScheduleSpec(
        "integrations.sandbox.deliver_due", "integrations.sandbox.deliver_due", 30, description="sandbox events"
    ),
)


def code_schedules() -> list[ScheduleSpec]:
    specs = list(SYSTEM_SCHEDULES)
    for agent_cls in registry.all_agents():
        if agent_cls.schedule is not None:
            summary = (agent_cls.__doc__ or agent_cls.name).strip().splitlines()[0]
            specs.append(
                ScheduleSpec(
                    name=f"agent:{agent_cls.name}",
                    task="agents.start_scheduled",
                    schedule=agent_cls.schedule,
                    args=(agent_cls.name,),
                    description=f"{agent_cls.category}: {summary}",
                )
            )
    return specs


def interval_seconds(schedule: Schedule) -> int | None:
    if isinstance(schedule, dt.timedelta):
        return int(schedule.total_seconds())
    if isinstance(schedule, int):
        return schedule
    return None


def schedule_label(schedule: Schedule) -> str:
    seconds = interval_seconds(schedule)
    if seconds is not None:
        return f"every {seconds}s"
    parts = str(schedule).split()
    if len(parts) != 5:
        raise ValueError(f"{schedule!r} is not a five-field crontab (minute hour day month weekday)")
    return "cron " + " ".join(parts)


def _frequent_expiry(schedule: Schedule) -> int | None:
    """Seconds after which a missed tick is dropped: a backlog of stale ticks helps nobody."""
    seconds = interval_seconds(schedule)
    if seconds is not None:
        return seconds if seconds < FREQUENT.total_seconds() else None
    minute = str(schedule).split()[0]
    if minute == "*":
        return 60
    if minute.startswith("*/") and minute[2:].isdigit():
        return int(minute[2:]) * 60
    return None


def tick_of(schedule: Schedule | None, now: dt.datetime) -> dt.datetime:
    """The tick a beat firing at ``now`` belongs to (its idempotency key)."""
    seconds = interval_seconds(schedule) if schedule is not None else None
    if seconds:
        return dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=dt.UTC)
    return now.replace(second=0, microsecond=0)  # crontab ticks are whole minutes


def _current(task: PeriodicTask) -> dict[str, Any]:
    if task.interval_id is not None:
        interval = task.interval
        unit = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 0}[interval.period]
        schedule = f"every {interval.every * unit}s"
    elif task.crontab_id is not None:
        c = task.crontab
        schedule = f"cron {c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
    else:
        schedule = ""
    return {
        "task": task.task,
        "args": json.loads(task.args or "[]"),
        "queue": task.queue or "",
        "expire_seconds": task.expire_seconds,
        "schedule": schedule,
        "description": task.description,
    }


def _desired(spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "task": spec.task,
        "args": list(spec.args),
        "queue": spec.queue,
        "expire_seconds": _frequent_expiry(spec.schedule),
        "schedule": schedule_label(spec.schedule),
        "description": spec.description,
    }


def _set(task: PeriodicTask, name: str, value: Any) -> None:
    if name == "args":
        task.args = json.dumps(value)
    elif name == "schedule":
        kind, _, rest = str(value).partition(" ")
        if kind == "every":
            task.interval, _ = IntervalSchedule.objects.get_or_create(
                every=int(rest.rstrip("s")), period=IntervalSchedule.SECONDS
            )
            task.crontab = None
        else:
            minute, hour, day, month, weekday = rest.split()
            task.crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday, timezone="UTC"
            )
            task.interval = None
    else:
        setattr(task, name, value)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # "task.field" an operator changed
    disabled: list[str] = field(default_factory=list)


@transaction.atomic
def sync_schedules() -> SyncReport:
    report = SyncReport()
    specs = {spec.name: spec for spec in code_schedules()}
    markers = {m.name: m for m in CodeSchedule.objects.select_for_update().all()}
    tasks = {
        t.name: t
        for t in PeriodicTask.objects.filter(name__in=[*specs, *markers]).select_related("interval", "crontab")
    }
    for name, spec in specs.items():
        desired = _desired(spec)
        task = tasks.get(name)
        marker = markers.get(name) or CodeSchedule(name=name)
        if task is None:
            task = PeriodicTask(name=name, enabled=True)
            for key, value in desired.items():
                _set(task, key, value)
            task.save()
            marker.written = desired
            marker.save()
            report.created.append(name)
            continue
        current, written = _current(task), dict(marker.written or {})
        changed = False
        for key, value in desired.items():
            operator_changed = key in written and current[key] != written[key]
            if operator_changed:
                report.kept.append(f"{name}.{key}")
                continue  # the marker keeps the code's old value, so the edit stays recognised
            if current[key] != value:
                _set(task, key, value)
                changed = True
            written[key] = value
        if changed:
            task.save()  # `enabled` is never touched: an operator's disable stands
            report.updated.append(name)
        if written != marker.written:
            marker.written = written
            marker.save()
    for name, marker in markers.items():
        if name in specs:
            continue
        task = tasks.get(name)
        if task is not None and task.enabled:
            task.enabled = False
            task.save(update_fields=["enabled"])
            report.disabled.append(name)
        marker.delete()
    return report
