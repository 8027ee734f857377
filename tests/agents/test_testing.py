"""The testing kit's simulated world (agents/testing.py): draining queued runs with agents switched
off, keeping only some schedules ticking, as the end-to-end tests and the benches' arms do, and
working the webhook events of one instant in a reproducible order."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from agents import runtime
from agents.clockwork import START_SCHEDULED
from agents.models import AgentRun
from agents.services.runs import cancel_run, start_run
from agents.testing import advance, drain, keep_schedules
from integrations.models import WebhookEvent
from smarter_team import clock
from tests.factories.integrations import WebhookEventFactory

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


def test_advance_works_the_webhook_events_of_one_instant_in_the_order_they_arrived(
    frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A frozen clock stamps every event of a delivery alike; without a tie-break the database gives
    # ties in its plan's order (read backwards along the status/received_at index: the last first).
    events = [WebhookEventFactory.create(received_at=frozen_clock.now) for _ in range(4)]
    earlier = WebhookEventFactory.create(received_at=frozen_clock.now - dt.timedelta(minutes=5))
    worked: list[int] = []

    def process(*, event_pk: int, **kwargs: Any) -> None:
        worked.append(event_pk)
        WebhookEvent.objects.filter(pk=event_pk).update(status=WebhookEvent.Status.PROCESSED)

    monkeypatch.setattr("integrations.webhooks.services.process_event", process)

    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(minutes=1), step=dt.timedelta(minutes=1))

    assert worked == [e.pk for e in events] + [earlier.pk]  # the newest instant first, as the model orders


def test_drain_works_each_due_run_once_in_order_and_skips_one_an_earlier_run_canceled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chain = start_run(agent_name="t_chain", input={"n": 0}, trigger="event", enqueue=False)
    first = start_run(agent_name="t_echo", input={"text": "first"}, trigger="event", enqueue=False)
    doomed = start_run(agent_name="t_echo", input={"text": "doomed"}, trigger="event", enqueue=False)
    execute = runtime.execute

    def first_cancels_doomed(run_id: int) -> Any:
        if run_id == first.pk:
            cancel_run(run=doomed, reason="superseded")  # as a run of the same batch may
        return execute(run_id)

    monkeypatch.setattr(runtime, "execute", first_cancels_doomed)

    done = drain(limit=4)

    # The batch in pk order, then the chain's handoffs, each in the look after the run that started it.
    assert [(r.agent_name, r.input.get("n")) for r in done] == [
        ("t_chain", 0), ("t_echo", None), ("t_chain", 1), ("t_chain", 2)
    ]  # fmt: skip
    assert all(r.status == AgentRun.Status.SUCCEEDED for r in done)
    doomed.refresh_from_db()
    assert (doomed.status, doomed.error) == (AgentRun.Status.CANCELED, "superseded")
    assert chain.pk == done[0].pk


def test_advance_with_hints_stops_where_an_agent_said_its_work_falls_due(
    frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents import registry

    task = PeriodicTask(name="agent:t_echo", task=START_SCHEDULED, args=json.dumps(["t_echo"]))
    task.interval = IntervalSchedule.objects.create(every=300, period=IntervalSchedule.SECONDS)
    task.save()
    start = frozen_clock.now
    due = start + dt.timedelta(hours=26, minutes=2)  # a reminder's hour, between two daily steps
    monkeypatch.setattr(registry.get("t_echo"), "next_work_at", classmethod(lambda cls, at: due if at < due else None))

    coarse = advance(frozen_clock, until=start + dt.timedelta(days=2), step=dt.timedelta(days=1), stop_at_hints=True)

    # The step that would pass the work stops at the agent's first tick at or after it.
    assert [s.at - start for s in coarse] == [
        dt.timedelta(days=1), dt.timedelta(hours=26, minutes=5), dt.timedelta(days=2, hours=2, minutes=5)
    ]  # fmt: skip
    assert [s.ticks for s in coarse] == [1, 1, 1]
