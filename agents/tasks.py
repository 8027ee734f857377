"""Celery tasks of the runtime. Thin: load by id, call the runtime or a service."""

from __future__ import annotations

from celery import shared_task

from agents import runtime
from agents.services import runs
from smarter_team import clock


@shared_task(name="agents.run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_agent(run_id: int) -> None:
    """One attempt of a run. The queue is the agent's (chosen at publish time)."""
    runtime.execute(run_id)


@shared_task(name="agents.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """Publish queued runs that have become due (retries, pauses, delayed handoffs)."""
    return runs.dispatch_due()


@shared_task(name="agents.sweep_stuck", ignore_result=True)
def sweep_stuck() -> int:
    """Recover runs whose worker died mid-run (running past their lease)."""
    return runtime.recover_lost_runs()


@shared_task(name="agents.perform_due", ignore_result=True)
def perform_due() -> int:
    """The outbox sweeper: acts whose worker died after the commit, or whose back-off has passed."""
    from agents import outbox

    return outbox.perform_due()


@shared_task(name="agents.start_scheduled", ignore_result=True)
def start_scheduled(agent_name: str) -> int:
    """A beat tick of an agent's schedule: one run per agent and tick, even if beat fires twice."""
    from agents import registry
    from agents.schedules import tick_of

    agent_cls = registry.get(agent_name)
    tick = tick_of(agent_cls.schedule, clock.now())
    run = runs.start_run(
        agent_name=agent_name,
        input={},
        trigger="schedule",
        idempotency_key=f"schedule:{agent_name}:{tick:%Y%m%dT%H%M%S}",
    )
    return int(run.pk)


@shared_task(name="agents.submit_batches", ignore_result=True)
def submit_batches() -> int:
    from agents.brains.batches import submit_due_batches

    return submit_due_batches()


@shared_task(name="agents.poll_batches", ignore_result=True)
def poll_batches() -> int:
    from agents.brains.batches import poll_batches as poll

    return poll()
