"""Agents' schedules on business time, and the demo's skip ahead when every queue is idle.

The schedules live in django-celery-beat's rows (operators edit them in the admin), but their ticks
are evaluated here against the project clock, not beat's wall clock: at ``CLOCK_SPEED=1000`` an
hourly agent ticks every 3.6 s, and a skip ahead of a week ticks each agent once at its latest due
tick. Beat's scheduler calls ``start_due_ticks`` on every wake-up (smarter_team/beat.py); it only
writes rows (the tick's AgentRun, keyed by agent and tick), so a broker outage cannot drop a tick
and a tick missed while beat was down is started when it comes back. Infrastructure entries (the
dispatcher, the sweepers) stay on beat's own wall-clock schedule.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q

from agents import registry
from agents.models import Action, AgentRun
from smarter_team import clock

logger = logging.getLogger(__name__)

START_SCHEDULED = "agents.start_scheduled"
_PERIOD_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 0}
MAX_LOOKBACK_DAYS = 366


def _cron_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7  # cron counts from Sunday = 0


def latest_cron_tick(spec: crontab, now: dt.datetime) -> dt.datetime | None:
    """The latest whole minute at or before ``now`` (UTC) that the crontab matches."""
    # celery's crontab expands each field into a set of ints (celery-types does not declare them).
    cron: Any = spec
    now = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    for back in range(MAX_LOOKBACK_DAYS + 1):
        day = (now - dt.timedelta(days=back)).date()
        if day.month not in cron.month_of_year or day.day not in cron.day_of_month:
            continue
        if _cron_weekday(day) not in cron.day_of_week:
            continue
        for hour in sorted(cron.hour, reverse=True):
            if back == 0 and hour > now.hour:
                continue
            minutes = [m for m in cron.minute if back > 0 or hour < now.hour or m <= now.minute]
            if minutes:
                return dt.datetime(day.year, day.month, day.day, hour, max(minutes), tzinfo=dt.UTC)
    return None


def latest_tick(task: object, now: dt.datetime) -> dt.datetime | None:
    """The latest tick at or before ``now`` of a beat row's interval or crontab (None: none yet)."""
    interval = getattr(task, "interval", None)
    if interval is not None:
        seconds = interval.every * _PERIOD_SECONDS[interval.period]
        if seconds <= 0:
            return None
        return dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=dt.UTC)
    spec = _crontab_of(task)
    return latest_cron_tick(spec, now) if spec is not None else None


def _crontab_of(task: object) -> crontab | None:
    cron = getattr(task, "crontab", None)
    if cron is None:
        return None
    return crontab(
        minute=cron.minute,
        hour=cron.hour,
        day_of_week=cron.day_of_week,
        day_of_month=cron.day_of_month,
        month_of_year=cron.month_of_year,
    )


def _agent_of(task: object) -> str:
    try:
        args = json.loads(getattr(task, "args", "") or "[]")
    except ValueError:
        return ""
    return str(args[0]) if args else ""


def is_business_scheduled(agent_name: str) -> bool:
    """A registered agent whose schedule follows business time (most); False for upkeep on wall time."""
    return registry.is_registered(agent_name) and registry.get(agent_name).schedule_clock == "business"


def start_due_ticks(*, now: dt.datetime | None = None) -> list[int]:
    """Start each enabled scheduled agent whose latest business-time tick has not run yet.

    Idempotent: the run's key is the agent and the tick, and the row remembers the last tick it
    started (``last_run_at``, business time), so two beats or a retried wake-up start nothing twice.
    """
    from django_celery_beat.models import PeriodicTask

    from agents.services.runs import start_run

    at = now or clock.now()
    started: list[int] = []
    # By name: the runs of one tick start, and so are worked, in the same order on every machine
    # (the rows' own order follows how the schedules were synced, a set's order: the hash seed).
    tasks = (
        PeriodicTask.objects.filter(task=START_SCHEDULED, enabled=True)
        .select_related("interval", "crontab")
        .order_by("name")
    )
    for task in tasks:
        agent_name = _agent_of(task)
        if not is_business_scheduled(agent_name):
            continue  # on wall time: beat's own schedule starts it
        tick = latest_tick(task, at)
        if tick is None:
            continue
        if task.last_run_at is not None and task.last_run_at >= tick:
            continue
        with transaction.atomic():
            run = start_run(
                agent_name=agent_name,
                input={},
                trigger=AgentRun.Trigger.SCHEDULE,
                idempotency_key=f"schedule:{agent_name}:{tick:%Y%m%dT%H%M%S}",
            )
            PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=tick, total_run_count=F("total_run_count") + 1)
        started.append(int(run.pk))
    return started


def next_tick_after(task: object, after: dt.datetime) -> dt.datetime | None:
    """The first tick strictly after ``after`` (minute resolution for crontabs)."""
    interval = getattr(task, "interval", None)
    if interval is not None:
        seconds = interval.every * _PERIOD_SECONDS[interval.period]
        if seconds <= 0:
            return None
        return dt.datetime.fromtimestamp((int(after.timestamp()) // seconds + 1) * seconds, tz=dt.UTC)
    spec = _crontab_of(task)
    if spec is None:
        return None
    # The latest tick before a day later, if after ``after``, is the first after it within that day.
    probe = after + dt.timedelta(days=1)
    for _ in range(MAX_LOOKBACK_DAYS):
        tick = latest_cron_tick(spec, probe)
        if tick is None or tick <= after:
            probe += dt.timedelta(days=1)
            continue
        earlier = latest_cron_tick(spec, tick - dt.timedelta(minutes=1))
        while earlier is not None and earlier > after:
            tick = earlier
            earlier = latest_cron_tick(spec, tick - dt.timedelta(minutes=1))
        return tick
    return None


# --- the demo: skip ahead when idle --------------------------------------------------------------


def earliest_after(now: dt.datetime, *moments: dt.datetime | None) -> dt.datetime | None:
    """The earliest of ``moments`` after ``now`` (None: none): what an agent's next_work_at returns."""
    later = [m for m in moments if m is not None and m > now]
    return min(later) if later else None


def is_idle(now: dt.datetime) -> bool:
    """No run due or running, no act pending, no webhook or sandbox event waiting to be processed."""
    from integrations.models import SandboxEvent, WebhookEvent

    busy_runs = AgentRun.objects.filter(
        Q(status=AgentRun.Status.RUNNING) | Q(status=AgentRun.Status.QUEUED, due_at__lte=now)
    ).exists()
    if busy_runs or Action.objects.filter(status=Action.Status.PENDING).exists():
        return False
    if WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists():
        return False
    return not SandboxEvent.objects.filter(status=SandboxEvent.Status.PENDING, due_at__lte=now).exists()


def _tick_candidates(now: dt.datetime, *, every_tick: bool) -> list[dt.datetime | None]:
    """Each enabled business-time agent's next tick with work (AgentBase.next_work_at): the first tick
    at or after the moment its hinted item falls due; with ``every_tick``, also the next tick of each
    agent that gives no hint."""
    from django_celery_beat.models import PeriodicTask

    candidates: list[dt.datetime | None] = []
    for task in PeriodicTask.objects.filter(task=START_SCHEDULED, enabled=True).select_related("interval", "crontab"):
        agent_name = _agent_of(task)
        if not is_business_scheduled(agent_name):
            continue
        hint = registry.get(agent_name).next_work_at(now)
        if hint == "every tick":
            if every_tick:
                candidates.append(next_tick_after(task, now))
        elif isinstance(hint, dt.datetime) and hint > now:
            # The agent's first tick at or after the moment its next item falls due.
            candidates.append(next_tick_after(task, hint - dt.timedelta(microseconds=1)))
    return candidates


def next_due_work(now: dt.datetime) -> dt.datetime | None:
    """The earliest business time at which something is due: a queued run, a sandbox event, a tick
    (of an agent that has work then: AgentBase.next_work_at)."""
    from integrations.models import SandboxEvent

    candidates = [
        AgentRun.objects.filter(status=AgentRun.Status.QUEUED).aggregate(at=Min("due_at"))["at"],
        SandboxEvent.objects.filter(status=SandboxEvent.Status.PENDING).aggregate(at=Min("due_at"))["at"],
        *_tick_candidates(now, every_tick=True),
    ]
    due = [c for c in candidates if c is not None and c > now]
    return min(due) if due else None


def next_hinted_work(now: dt.datetime) -> dt.datetime | None:
    """The earliest tick, after ``now``, of an agent that said when its next item falls due (a
    meeting's reminder hour, a sequence step's send time, a call's attendance check): the moments a
    simulation stepping coarsely must not step over (agents.testing.advance, ``stop_at_hints``)."""
    due = [c for c in _tick_candidates(now, every_tick=False) if c is not None and c > now]
    return min(due) if due else None


def skip_ahead_if_idle() -> dt.timedelta:
    """With CLOCK_SKIP_IDLE, jump business time to the next due work when nothing is going on."""
    if not getattr(settings, "CLOCK_SKIP_IDLE", False):
        return dt.timedelta(0)
    now = clock.now()
    if not is_idle(now):
        return dt.timedelta(0)
    target = next_due_work(now)
    if target is None:
        return dt.timedelta(0)
    jump = clock.skip_to(target)
    if jump:
        logger.info("idle: business time skipped ahead by %s to %s", jump, target.isoformat())
    return jump
