"""The life of a run: claim, guards, work, outcome (success, retry, failure, escalation)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.services.runs import start_run
from learning.hooks import BeforeRunDecision, FailurePlan
from learning.models import ErrorLog
from smarter_team import clock

pytestmark = pytest.mark.django_db


def _start(agent: str, data: dict[str, Any] | None = None, **kwargs: Any) -> AgentRun:
    return start_run(agent_name=agent, input=data or {}, trigger="event", **kwargs)


def test_a_run_succeeds_and_keeps_its_output(frozen_clock) -> None:
    run = _start("t_echo", {"text": "hi"})
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.output == {"echo": "hi"}
    assert run.attempts == 1
    assert run.started_at == frozen_clock.now and run.finished_at == frozen_clock.now
    assert run.lease_expires_at is None
    assert run.brain == "rules"


def test_a_finished_run_is_not_run_again() -> None:
    run = _start("t_echo", {"text": "once"})
    runtime.execute(run.pk)
    assert runtime.execute(run.pk) is None
    run.refresh_from_db()
    assert run.attempts == 1


def test_a_run_held_by_a_live_worker_is_not_claimed_twice() -> None:
    run = _start("t_echo")
    assert runtime.claim(run.pk) is not None
    assert runtime.claim(run.pk) is None  # a duplicate message while the lease holds


def test_a_gone_run_is_ignored_quietly() -> None:
    assert runtime.execute(987654321) is None


def test_a_run_not_yet_due_is_left_for_the_dispatcher(frozen_clock) -> None:
    run = _start("t_echo", due_at=frozen_clock.now + dt.timedelta(hours=1))
    assert runtime.execute(run.pk) is None
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED and run.enqueued_at is None


def test_a_transient_error_retries_later_as_a_due_row_with_backoff(frozen_clock) -> None:
    run = _start("t_flaky", {"fail_times": 2})
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED
    assert run.due_at == frozen_clock.now + dt.timedelta(seconds=30)
    assert run.enqueued_at is None  # the dispatcher publishes it when due; no broker ETA
    assert "timed out" in run.error
    assert runtime.execute(run.pk) is None  # not due yet

    frozen_clock.tick(dt.timedelta(seconds=30))
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.due_at == frozen_clock.now + dt.timedelta(seconds=60)  # doubled

    frozen_clock.tick(dt.timedelta(seconds=60))
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.output == {"attempt": 3}
    assert ErrorLog.objects.filter(run=run, transient=True).count() == 2


def test_transient_errors_fail_the_run_after_max_attempts(frozen_clock) -> None:
    run = _start("t_flaky", {"fail_times": 10})
    for _ in range(3):
        runtime.execute(run.pk)
        frozen_clock.tick(dt.timedelta(hours=1))
    run.refresh_from_db()
    assert run.status == AgentRun.Status.FAILED
    assert run.attempts == 3
    assert ErrorLog.objects.filter(run=run).count() == 3


def test_a_permanent_error_fails_at_once_with_an_error_log() -> None:
    run = _start("t_broken", {"text": "x"})
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.FAILED
    assert run.error.startswith("ValueError: cannot handle")
    log = ErrorLog.objects.get(run=run)
    assert log.agent_name == "t_broken" and not log.transient


def test_a_learned_retry_plan_overrides_the_backoff(frozen_clock) -> None:
    run = _start("t_broken", {"text": "x"})
    plan = FailurePlan(retry_delays=[300], max_attempts=2, reason="rule #1 (retry)")
    with mock.patch("learning.hooks.on_failure", return_value=plan):
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED  # retried although the error is permanent
    assert run.due_at == frozen_clock.now + dt.timedelta(seconds=300)


def test_a_plan_that_escalates_parks_the_run_with_an_error_escalation() -> None:
    run = _start("t_broken", {"text": "x"})
    with mock.patch("learning.hooks.on_failure", return_value=FailurePlan(escalate=True, reason="rule #7")):
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.ESCALATED
    escalation = Escalation.objects.get(run=run)
    assert escalation.kind == Escalation.Kind.ERROR and escalation.reason == "rule #7"


def test_a_rule_that_skips_ends_the_run_skipped_with_the_reason() -> None:
    run = _start("t_echo", {"text": "bad"})
    decision = BeforeRunDecision(blocked=True, effect="skip", reason="rule #3 (validate): text must not be bad")
    with mock.patch("learning.hooks.before_run", return_value=decision):
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SKIPPED
    assert "rule #3" in run.error and run.output == {"skipped": decision.reason}


def test_a_rule_that_blocks_escalates_as_policy() -> None:
    run = _start("t_echo", {"text": "never"})
    decision = BeforeRunDecision(blocked=True, effect="block", reason="rule #4 (never)")
    with mock.patch("learning.hooks.before_run", return_value=decision):
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.ESCALATED
    assert Escalation.objects.get(run=run).kind == Escalation.Kind.POLICY


def test_an_operator_can_let_a_blocked_run_through(django_user_model) -> None:
    from agents.services.escalations import decide

    run = _start("t_echo", {"text": "never"})
    decision = BeforeRunDecision(blocked=True, effect="block", reason="rule #4 (never)")
    with mock.patch("learning.hooks.before_run", return_value=decision):
        runtime.execute(run.pk)
        decide(
            escalation=Escalation.objects.get(run=run), approve=True, user=django_user_model.objects.create_user("o")
        )
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"echo": "never"}


def test_an_atomic_agent_that_fails_leaves_no_partial_writes() -> None:
    # t_chain's child run is created inside the agent's transaction; a failure after it rolls back.
    run = _start("t_chain", {"n": 0})
    with mock.patch("tests.agents.sample_agents.Handed", side_effect=RuntimeError("boom after handoff")):
        runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.FAILED
    assert not AgentRun.objects.filter(parent=run).exists()


def test_the_sweeper_recovers_a_run_whose_worker_died(frozen_clock) -> None:
    run = _start("t_echo", {"text": "again"})
    runtime.claim(run.pk)  # the worker claimed it ... and vanished
    assert runtime.recover_lost_runs() == 0  # the lease still holds
    frozen_clock.tick(dt.timedelta(minutes=16))
    assert runtime.recover_lost_runs() == 1
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED
    assert ErrorLog.objects.filter(run=run, error_type__contains="WorkerLost").exists()
    frozen_clock.tick(dt.timedelta(minutes=1))
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED and run.attempts == 2


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def sql_queries(captured: CaptureQueriesContext) -> list[str]:
    """The statements that read or write rows (transaction control is not a query)."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)  # as in a worker: no test transaction around it
def test_queries_per_run_are_constant_and_few() -> None:
    runtime.execute(_start("t_echo", {"text": "warm-up"}).pk)  # a process loads an agent's rules once
    counts = []
    for n in range(3):
        run = _start("t_echo", {"text": "x" * n})
        with CaptureQueriesContext(connection) as captured:
            runtime.execute(run.pk)
        counts.append(len(sql_queries(captured)))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 3, counts  # claim; outcome + response tracking (no rules: no rule query)
    assert set(AgentRun.objects.values_list("status", flat=True)) == {"succeeded"}


def test_clock_is_the_project_clock() -> None:
    with clock.frozen(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)):
        run = _start("t_echo")
        runtime.execute(run.pk)
        run.refresh_from_db()
        assert run.finished_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
