"""Beat's scheduler: django-celery-beat's, with agents' ticks on business time that a broker
outage cannot drop.

Agents' schedules (``agents.start_scheduled`` rows, editable in the admin) are not evaluated on
beat's wall clock: on every wake-up this scheduler starts the ticks that are due on the project
clock (agents/clockwork.py), so ``CLOCK_SPEED`` and the demo's skip ahead reach them too, and a
tick missed while beat was down starts when it is back. Those ticks write rows only; the
infrastructure entries (dispatcher, sweepers) stay on beat's wall-clock schedule.

Stock beat publishes each due entry and, when the broker is down, logs the error and moves on:
that tick is gone. For most entries it does not matter (the next ``agents.dispatch_due`` in ten
seconds does the same work), but an agent's scheduled run (``agents.start_scheduled``) would be
skipped. So this scheduler does the tick's work itself instead of sending a message for it: it
creates the AgentRun row, keyed by agent and tick as the task does, in the database. The run is
published on commit like any other; if that publish fails the row is left unpublished and
``dispatch_due`` publishes it once the broker is back (agents/services/runs.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import SchedulingError
from django.db import DatabaseError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

START_SCHEDULED = "agents.start_scheduled"


# How often (wall seconds, at most) beat evaluates the business-time ticks and the idle skip.
BUSINESS_TICK_SECONDS = 1.0
# Beat's liveness mark for health_check (one small UPSERT), and its ping of the workers: beat
# sends it because an agent cannot report that no worker is left to run it.
HEARTBEAT_SECONDS = 30.0
WORKER_PING_SECONDS = 300.0


class Scheduler(DatabaseScheduler):
    _last_business_tick = 0.0
    _last_heartbeat = 0.0
    _last_worker_ping = 0.0

    def all_as_schedule(self) -> dict[str, Any]:
        # Agents' entries are ticked on business time in tick(), not by beat's wall clock, except
        # the upkeep agents that declare wall time (schedule_clock = "wall").
        from agents.clockwork import is_business_scheduled

        return {
            name: entry
            for name, entry in super().all_as_schedule().items()
            if entry.task != START_SCHEDULED or not is_business_scheduled(str((entry.args or [""])[0]))
        }

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        if now - self._last_business_tick >= BUSINESS_TICK_SECONDS:
            self._last_business_tick = now
            business_tick()
        if now - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._last_heartbeat = now
            heartbeat()
        if now - self._last_worker_ping >= WORKER_PING_SECONDS:
            self._last_worker_ping = now
            ping_workers()
        return min(float(super().tick(*args, **kwargs)), BUSINESS_TICK_SECONDS)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any) -> Any:
        if entry.task != START_SCHEDULED:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        entry = self.reserve(entry) if advance else entry
        try:
            return start_tick(*(entry.args or ()), **(entry.kwargs or {}))
        except Exception as exc:
            raise SchedulingError(f"Couldn't apply scheduled task {entry.name}: {exc}") from exc
        finally:
            self._tasks_since_sync += 1
            if self.should_sync():
                self._do_sync()


def business_tick() -> None:
    """Start the agents' due ticks, then skip ahead if the demo is idle; a database hiccup is
    logged and tried again at the next wake-up (beat must keep running)."""
    from agents import clockwork

    close_old_connections()
    try:
        clockwork.start_due_ticks()
        if clockwork.skip_ahead_if_idle():
            # The ticks the skip reached start now, not a wake-up later: the demo's pace is set by
            # how many of these idle-skip-start rounds fit in a wall second.
            clockwork.start_due_ticks()
    except DatabaseError:
        logger.exception("business-time tick failed; trying again at the next wake-up")


def heartbeat() -> None:
    """Mark beat alive for health_check; a database hiccup only delays the mark."""
    from agents.services import health

    try:
        health.note_beat_alive()
    except DatabaseError:
        logger.warning("could not record beat's heartbeat; trying again shortly")


def ping_workers() -> None:
    """Ping the workers and record the result (a short, bounded wait; never raises)."""
    from agents.services import health

    health.watch_workers()


def start_tick(agent_name: str) -> int:
    """The run of ``agent_name``'s current tick, created in the database (what the task does)."""
    from agents.tasks import start_scheduled

    close_old_connections()  # beat is long-lived: drop a connection the database closed
    run_pk = int(start_scheduled.run(agent_name))
    logger.info("scheduled run %s of %s created", run_pk, agent_name)
    return run_pk
