"""The testing kit's simulated world (agents/testing.py): draining queued runs with agents switched
off, and keeping only some schedules ticking, as the end-to-end tests and the benches' arms do."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import PeriodicTask

from agents.clockwork import START_SCHEDULED
from agents.models import AgentRun
from agents.services.runs import start_run
from agents.testing import drain, keep_schedules

pytestmark = pytest.mark.django_db


def test_drain_cancels_the_runs_of_switched_off_agents_and_works_the_others() -> None:
    echo = start_run(agent_name="t_echo", input={"text": "hello"}, trigger="event", enqueue=False)
    broken = start_run(agent_name="t_broken", input={"text": "boom"}, trigger="event", enqueue=False)

    done = drain(off={"t_broken"})

    assert [run.pk for run in done] == [echo.pk]
    echo.refresh_from_db()
    broken.refresh_from_db()
    assert echo.status == AgentRun.Status.SUCCEEDED
    assert (broken.status, broken.error) == (AgentRun.Status.CANCELED, "switched off")


def test_keep_schedules_leaves_only_the_chosen_agents_ticking_and_the_system_tasks_alone() -> None:
    kept = keep_schedules(lambda name: name in {"meeting_reminder", "deduplication"})

    assert kept == ["deduplication", "meeting_reminder"]
    enabled = {json.loads(task.args)[0] for task in PeriodicTask.objects.filter(task=START_SCHEDULED, enabled=True)}
    assert enabled == {"meeting_reminder", "deduplication"}
    assert PeriodicTask.objects.filter(task=START_SCHEDULED, enabled=False).exists()
    assert PeriodicTask.objects.filter(name="agents.perform_due", enabled=True).exists()

    assert keep_schedules(lambda name: name == "deduplication") == ["deduplication"]  # and again, narrower
    assert not PeriodicTask.objects.filter(args=json.dumps(["meeting_reminder"]), enabled=True).exists()
