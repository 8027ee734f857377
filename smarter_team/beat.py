"""Beat's scheduler: django-celery-beat's, with agents' ticks that a broker outage cannot drop.

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
from typing import Any

from celery.beat import SchedulingError
from django.db import close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

START_SCHEDULED = "agents.start_scheduled"


class Scheduler(DatabaseScheduler):
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


def start_tick(agent_name: str) -> int:
    """The run of ``agent_name``'s current tick, created in the database (what the task does)."""
    from agents.tasks import start_scheduled

    close_old_connections()  # beat is long-lived: drop a connection the database closed
    run_pk = int(start_scheduled.run(agent_name))
    logger.info("scheduled run %s of %s created", run_pk, agent_name)
    return run_pk
