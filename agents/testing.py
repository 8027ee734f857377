"""The testing kit: run one agent in-process and get back, as data, what it decided and did.

Every agent test uses it::

    result = run_agent("data_validation", {"lead_id": lead.pk})
    assert result.status == "succeeded"
    assert result.output["changed"] == ["email"]
    assert result.handoffs[0].agent_name == "deduplication"
    assert result.created == {}                      # rows created, by model (runtime tables left out)

    first, second = assert_idempotent("email_finder", {"lead_id": lead.pk})   # same input twice
    result = crash_and_finish("sequence_scheduler", {}, at="after_call")      # a worker dies there

LLM agents answer with the heuristic brain unless the test gives ``answers`` (the scripted brain:
dicts, Decision instances or exceptions, in order). Tests never reach a real model.
Acts are performed in-process after the run commits, as a worker does (``perform_acts=False``
leaves them pending, to test what the sweeper does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.test.utils import override_settings

from agents import outbox, runtime, runtime_hooks
from agents.brains import scripted
from agents.models import Action, AgentRun, AuditLog, Escalation
from agents.services import pauses
from agents.services.runs import cancel_run, start_run, worked_here
from smarter_team import clock

# Bookkeeping every run writes: not what an agent "created".
RUNTIME_TABLES = frozenset(
    {
        "agents.AgentRun",
        "agents.AuditLog",
        "agents.LookupCache",
        "agents.ClockOffset",
        "learning.ErrorLog",
        "learning.RuleApplication",
        "learning.ResponseTracking",
        "integrations.ApiUsage",
    }
)
DOMAIN_APPS = ("agents", "crm", "sales", "delivery", "learning", "integrations")


class SimulatedCrash(BaseException):
    """The worker died here (raised at a runtime boundary; nothing catches it but the kit)."""


@dataclass
class RunResult:
    run: AgentRun
    writes: list[AuditLog] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    handoffs: list[AgentRun] = field(default_factory=list)
    acts: list[Action] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.run.status)

    @property
    def output(self) -> dict[str, Any]:
        return self.run.output if isinstance(self.run.output, dict) else {}

    @property
    def error(self) -> str:
        return self.run.error

    def acts_of(self, kind: str) -> list[Action]:
        return [a for a in self.acts if a.kind == kind]

    def handed_to(self, agent_name: str) -> list[AgentRun]:
        return [r for r in self.handoffs if r.agent_name == agent_name]


def _counted_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m._meta.app_label in DOMAIN_APPS and m._meta.label not in RUNTIME_TABLES and not m._meta.proxy
    ]


def table_counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in _counted_models()}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {label: after[label] - before.get(label, 0) for label in after if after[label] != before.get(label, 0)}


@contextmanager
def _brain(answers: Sequence[Any] | None, agent_name: str) -> Iterator[None]:
    if answers is None:
        with override_settings(BRAIN_DEFAULT="heuristic"):
            yield
        return
    scripted.script(agent_name, *answers)
    with override_settings(BRAIN_DEFAULT="scripted"):
        yield


def result_of(run: AgentRun, *, before: dict[str, int] | None = None) -> RunResult:
    """What ``run`` (and any earlier attempt of it) wrote, handed off, recorded and raised."""
    from learning.models import ErrorLog

    run.refresh_from_db()
    return RunResult(
        run=run,
        writes=list(AuditLog.objects.filter(run=run).order_by("pk")),
        created=_delta(before, table_counts()) if before is not None else {},
        handoffs=list(AgentRun.objects.filter(parent=run).order_by("pk")),
        acts=list(Action.objects.filter(run=run).order_by("pk")),
        escalations=list(Escalation.objects.filter(Q(run=run) | Q(waiting_runs=run)).distinct().order_by("pk")),
        errors=list(ErrorLog.objects.filter(run=run).order_by("pk")),
    )


def run_agent(
    agent_name: str,
    input: dict[str, Any] | None = None,
    *,
    answers: Sequence[Any] | None = None,
    perform_acts: bool = True,
    key: str | None = None,
) -> RunResult:
    """Start ``agent_name`` with ``input`` and work it to an outcome here, as one worker would."""
    before = table_counts()
    run = start_run(
        agent_name=agent_name, input=input or {}, trigger=AgentRun.Trigger.MANUAL, idempotency_key=key, enqueue=False
    )
    with _brain(answers, agent_name):
        if perform_acts:
            runtime.execute(run.pk)
        else:
            with _no_perform():
                runtime.execute(run.pk)
    return result_of(run, before=before)


def rerun(run: AgentRun, *, answers: Sequence[Any] | None = None) -> RunResult:
    """Work an existing run again (a retry after an approval, a failure or a lost worker)."""
    before = table_counts()
    with _brain(answers, run.agent_name):
        runtime.execute(run.pk)
    return result_of(run, before=before)


@contextmanager
def _no_perform() -> Iterator[None]:
    original = outbox.perform_recorded
    outbox.perform_recorded = lambda actions: []
    try:
        yield
    finally:
        outbox.perform_recorded = original


def assert_idempotent(
    agent_name: str, input: dict[str, Any] | None = None, *, answers: Sequence[Any] | None = None
) -> tuple[RunResult, RunResult]:
    """Run the same input twice (two runs, as a duplicated trigger would): the second may succeed
    or skip, but creates no row, writes no audited change, hands off to nobody new and performs
    no act a second time."""
    first = run_agent(agent_name, input, answers=answers)
    done_before = set(Action.objects.filter(status=Action.Status.DONE).values_list("idempotency_key", flat=True))
    second = run_agent(agent_name, input, answers=answers)
    assert second.status in ("succeeded", "skipped"), f"second run ended {second.status}: {second.error}"
    assert second.created == {}, f"the second run created rows: {second.created}"
    assert not second.writes, f"the second run changed records again: {[w.action for w in second.writes]}"
    new_done = [a for a in second.acts if a.status == Action.Status.DONE and a.idempotency_key not in done_before]
    assert not new_done, f"the second run acted again: {[a.idempotency_key for a in new_done]}"
    first_children = {(r.agent_name, r.payload_hash) for r in first.handoffs}
    again = [r for r in second.handoffs if (r.agent_name, r.payload_hash) not in first_children]
    assert not second.handoffs or not again, f"the second run handed off anew: {[r.agent_name for r in again]}"
    return first, second


@contextmanager
def crash_at(boundary: str) -> Iterator[None]:
    """Raise SimulatedCrash the first time the runtime reaches ``boundary`` (runtime_hooks.BOUNDARIES)."""
    if boundary not in runtime_hooks.BOUNDARIES:
        raise ValueError(f"unknown boundary {boundary!r}; one of {runtime_hooks.BOUNDARIES}")
    fired: list[str] = []

    def callback(name: str) -> None:
        if name == boundary and not fired:
            fired.append(name)
            raise SimulatedCrash(name)

    runtime_hooks.add_callback(callback)
    try:
        yield
    finally:
        runtime_hooks.remove_callback(callback)


def finish_after_crash(run: AgentRun, *, answers: Sequence[Any] | None = None) -> RunResult:
    """What happens once the dead worker's leases expire: the sweepers take the run and its acts
    back and finish them."""
    wall = clock.wall_now() - dt.timedelta(seconds=1)
    AgentRun.objects.filter(pk=run.pk, status=AgentRun.Status.RUNNING).update(lease_expires_at=wall)
    Action.objects.filter(run=run, status=Action.Status.PENDING).update(lease_expires_at=wall, next_attempt_at=wall)
    with _brain(answers, run.agent_name):
        runtime.recover_lost_runs()
        run.refresh_from_db()
        if run.status == AgentRun.Status.QUEUED:
            AgentRun.objects.filter(pk=run.pk).update(due_at=clock.now())
            runtime.execute(run.pk)
        outbox.perform_due()
    return result_of(run)


def crash_and_finish(
    agent_name: str, input: dict[str, Any] | None = None, *, at: str, answers: Sequence[Any] | None = None
) -> RunResult:
    """Run the agent, let its worker die at ``at``, then let the sweepers finish the work."""
    run = start_run(agent_name=agent_name, input=input or {}, trigger=AgentRun.Trigger.MANUAL, enqueue=False)
    with _brain(answers, agent_name), crash_at(at), suppress(SimulatedCrash):
        runtime.execute(run.pk)
    # A real crash loses the worker's memory: answers scripted for the dead attempt are gone too.
    return finish_after_crash(run, answers=answers)


def drain(
    *, limit: int = 500, answers: dict[str, Sequence[Any]] | None = None, off: Collection[str] = ()
) -> list[AgentRun]:
    """Work every queued run that is due, the ones they start too, until none is left (a chain).

    ``off``: agents switched off (a bench's arm): their queued runs are canceled, never worked."""
    done: list[AgentRun] = []
    for name, queued in (answers or {}).items():
        scripted.script(name, *queued)
    with override_settings(BRAIN_DEFAULT="scripted" if answers else "heuristic"), worked_here():
        while len(done) < limit:
            # Every run due now in one look, worked in pk order; the runs they start come after them
            # (a higher pk), in the next look. One look per run read the whole status index each time:
            # inside a test's transaction no update of a run ever leaves it (nothing can vacuum), so
            # a look cost as much as all the runs so far, and a long simulation went quadratic.
            now = clock.now()
            due = AgentRun.objects.filter(status=AgentRun.Status.QUEUED, due_at__lte=now)
            if off:
                # The same look finds the queued runs of the agents switched off (due or not), which
                # are canceled before the rest is worked: one statement a look, not two.
                looked = list(
                    AgentRun.objects.filter(status=AgentRun.Status.QUEUED)
                    .filter(Q(due_at__lte=now) | Q(agent_name__in=off))
                    .order_by("pk")
                    .values_list("pk", "agent_name")
                )
                for pk, name in looked:
                    if name in off:
                        cancel_run(run=AgentRun(pk=pk), reason="switched off")
                batch = [pk for pk, name in looked if name not in off][: limit - len(done)]
            else:
                batch = list(due.order_by("pk").values_list("pk", flat=True)[: limit - len(done)])
            if not batch:
                break
            # One wave: the runs it starts ask once whether a budget is paused (pauses.one_wave).
            with pauses.one_wave(now):
                stop = _work_batch(batch, now=now, done=done)
            if stop:
                return done
    return done


def _work_batch(batch: list[int], *, now: dt.datetime, done: list[AgentRun]) -> bool:
    """Work one look's due runs in pk order, adding them to ``done``; True when drain must stop."""
    for pk in batch:
        worked = runtime.execute(pk)
        # The run execute worked is current (its outcome, or what a failed act made of it): read
        # again only one it did not take (gone, held, finished or postponed meanwhile).
        run = worked if worked is not None else AgentRun.objects.get(pk=pk)
        if worked is None and (run.status != AgentRun.Status.QUEUED or (run.due_at and run.due_at > now)):
            continue  # an earlier run of the batch finished, canceled or postponed it: no longer due
        if run.status == AgentRun.Status.QUEUED:
            return True  # held, or retried later (a transient failure): not ours to wait for here
        done.append(run)
    return False


@dataclass
class WorldStep:
    at: Any
    ticks: int = 0
    delivered: int = 0
    processed: int = 0
    runs: int = 0


def advance(
    frozen: Any,
    *,
    until: dt.datetime,
    step: dt.timedelta,
    max_runs: int = 5000,
    off: Collection[str] = (),
    stop_at_hints: bool = False,
    after_step: Callable[[WorldStep], None] | None = None,
) -> list[WorldStep]:
    """Live the agency on a frozen clock until ``until``, a step at a time, as beat, the workers and
    the sandbox world would: each step the schedules tick (business time), the world's due events
    are posted to the real webhook endpoint and processed, due acts are performed and every run
    that becomes due is worked, with the ones it starts (those of the agents ``off`` are canceled).
    For end-to-end tests of a stage or the whole lifecycle, and the benches that compare arms.
    Schedules come from beat's rows: call ``sync_schedules()`` or ``keep_schedules()`` first.

    ``stop_at_hints``: a step ends early at the next tick an agent said it has work for
    (clockwork.next_hinted_work: a reminder's hour, a sequence step's send time), so a coarse step
    still reminds an hour before each call. Every step ticks every frequent agent once, and most
    steps find nothing to do: coarse steps that stop where the work is cost a fraction.

    ``after_step``: called with each step's record once all its work is done (a bench copies its
    state there: bench/lifecycle/forks.py)."""
    with worked_here():
        return _advance(
            frozen,
            until=until,
            step=step,
            max_runs=max_runs,
            off=off,
            stop_at_hints=stop_at_hints,
            after_step=after_step,
        )


def _advance(
    frozen: Any,
    *,
    until: dt.datetime,
    step: dt.timedelta,
    max_runs: int,
    off: Collection[str],
    stop_at_hints: bool,
    after_step: Callable[[WorldStep], None] | None,
) -> list[WorldStep]:
    from agents import clockwork
    from integrations.models import WebhookEvent
    from integrations.sandbox.delivery import deliver_due
    from integrations.webhooks.services import process_event

    steps: list[WorldStep] = []
    worked = 0
    while frozen.now < until and worked < max_runs:
        hinted = clockwork.next_hinted_work(frozen.now) if stop_at_hints else None
        frozen.tick(min(step, hinted - frozen.now) if hinted is not None else step)
        record = WorldStep(at=frozen.now)
        with pauses.one_wave(frozen.now):
            record.ticks = len(clockwork.start_due_ticks())
        while True:
            posted = deliver_due()
            record.delivered += posted
            # Newest instant first, as the model orders events; a frozen clock stamps a whole delivery
            # alike, and the database returns ties in whatever order its plan gives, so within one
            # instant they are worked in the order they arrived: runs are reproducible.
            received = list(
                WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
                .order_by("-received_at", "pk")
                .values_list("pk", flat=True)
            )
            for pk in received:
                process_event(event_pk=pk)
            record.processed += len(received)
            outbox.perform_due()
            done = drain(limit=max_runs - worked, off=off)
            worked += len(done)
            record.runs += len(done)
            if not (posted or received or done):
                break
        steps.append(record)
        if after_step is not None:
            after_step(record)
    return steps


def keep_schedules(keep: Callable[[str], bool]) -> list[str]:
    """Sync the code's schedules into beat, then leave ticking only the agents ``keep`` accepts (an
    end-to-end test lives one stage; a bench's arm switches agents off). Returns the names kept."""
    from django_celery_beat.models import PeriodicTask

    from agents.clockwork import START_SCHEDULED, _agent_of
    from agents.schedules import sync_schedules

    sync_schedules()
    kept = []
    for task in PeriodicTask.objects.filter(task=START_SCHEDULED):
        name = _agent_of(task)
        enabled = keep(name)
        if task.enabled != enabled:
            PeriodicTask.objects.filter(pk=task.pk).update(enabled=enabled)
        if enabled:
            kept.append(name)
    return sorted(kept)
