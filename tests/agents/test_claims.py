"""The one-statement claim and the one-statement outcome: same guarantees, fewer round trips."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from agents import registry, runtime
from agents.models import AgentRun
from agents.services import claims
from agents.services.runs import start_run
from learning.models import ResponseTracking
from tests.agents.sample_agents import EchoAgent

pytestmark = pytest.mark.django_db


def _start(agent: str = "t_echo", data: dict[str, Any] | None = None, **kwargs: Any) -> AgentRun:
    return start_run(agent_name=agent, input=data or {"text": "hi"}, trigger="event", **kwargs)


class SlowEcho(EchoAgent):
    name = "t_slow_echo"
    time_limit = 1200
    lease_seconds = 3600


@pytest.fixture
def slow_echo() -> Iterator[type[SlowEcho]]:
    registry.register(SlowEcho)
    try:
        yield SlowEcho
    finally:
        registry.unregister(SlowEcho.name)


def test_the_claim_statement_makes_only_transitions_the_status_machine_allows() -> None:
    assert all(AgentRun.STATUS_MACHINE.allowed(status, AgentRun.Status.RUNNING) for status in claims.CLAIMABLE)


def test_a_claim_is_one_statement_and_loads_the_whole_run(frozen_clock) -> None:
    run = _start(data={"text": "loaded"}, client_key="c1")
    with CaptureQueriesContext(connection) as captured:
        claimed = claims.claim(run.pk)
    assert claimed is not None and len(captured.captured_queries) == 1
    assert claimed.status == AgentRun.Status.RUNNING and claimed.attempts == 1
    assert claimed.started_at == frozen_clock.now
    assert claimed.lease_expires_at == frozen_clock.now + dt.timedelta(seconds=EchoAgent.lease_seconds)
    assert claimed.input == {"text": "loaded"} and claimed.client_key == "c1"  # JSON decoded as the ORM does
    run.refresh_from_db()
    assert (run.status, run.attempts, run.lease_expires_at) == ("running", 1, claimed.lease_expires_at)


def test_an_agent_with_its_own_lease_gets_it(frozen_clock, slow_echo) -> None:
    claimed = claims.claim(_start(slow_echo.name).pk)
    assert claimed is not None
    assert claimed.lease_expires_at == frozen_clock.now + dt.timedelta(seconds=3600)


def test_a_run_whose_lease_expired_is_claimed_again_keeping_its_start(frozen_clock) -> None:
    run = _start()
    started = frozen_clock.now
    claims.claim(run.pk)
    frozen_clock.tick(dt.timedelta(seconds=EchoAgent.lease_seconds + 1))
    again = claims.claim(run.pk)
    assert again is not None and again.attempts == 2 and again.started_at == started


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_run_locked_by_another_worker_is_skipped_not_waited_for() -> None:
    run = _start()
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with transaction.atomic():
            AgentRun.objects.select_for_update().get(pk=run.pk)
            locked.set()
            release.wait(5)
        connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(5)
    try:
        assert claims.claim(run.pk) is None  # waiting would hang here until the other lets go
    finally:
        release.set()
        thread.join()
    claimed = claims.claim(run.pk)
    assert claimed is not None and claimed.attempts == 1


@pytest.mark.postgresql
def test_a_finished_run_is_left_alone_by_both_paths() -> None:
    run = _start()
    AgentRun.objects.filter(pk=run.pk).update(status=AgentRun.Status.SUCCEEDED)
    with CaptureQueriesContext(connection) as captured:
        assert claims.claim(run.pk) is None
    assert AgentRun.objects.get(pk=run.pk).attempts == 0
    assert any("FOR UPDATE SKIP LOCKED" in q["sql"] for q in captured.captured_queries[1:])  # the checked path


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_connection_broken_while_idle_is_replaced_and_the_claim_tried_once_more() -> None:
    run = _start()
    real = claims._execute_claim
    calls = []

    def flaky(params: dict[str, Any]) -> AgentRun | None:
        calls.append(params)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(params)

    with mock.patch.object(claims, "_execute_claim", side_effect=flaky):
        claimed = claims.claim(run.pk)
    assert claimed is not None and claimed.attempts == 1 and len(calls) == 2


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)  # as in a worker: autocommit
def test_a_success_is_saved_with_its_response_tracking_in_one_statement(frozen_clock) -> None:
    run = _start(data={"text": "tracked"})
    runtime.execute(_start(data={"text": "warm-up"}).pk)  # the process loads the agent's rules once
    with CaptureQueriesContext(connection) as captured:
        runtime.execute(run.pk)
    sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(sql) == 2, sql  # the claim; the outcome with its tracking (the agent's empty transaction sends nothing)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"echo": "tracked"}
    assert run.updated_at == frozen_clock.now and run.finished_at == frozen_clock.now
    tracking = ResponseTracking.objects.get(run=run)
    assert (tracking.actual_outcome, tracking.agent_name, tracking.response_type) == ("success", "t_echo", "run")


def test_staff_feedback_is_kept_when_a_run_succeeds_again(admin_user) -> None:
    run = _start()
    ResponseTracking.objects.create(
        run=run, agent_name="t_echo", response_type="run", actual_outcome="failure", feedback_by=admin_user
    )
    runtime.execute(run.pk)
    assert ResponseTracking.objects.get(run=run).actual_outcome == "failure"  # staff's word stands


def test_an_automatic_outcome_is_updated_when_a_run_finishes_again() -> None:
    run = _start()
    ResponseTracking.objects.create(run=run, agent_name="t_echo", response_type="run", actual_outcome="pending")
    runtime.execute(run.pk)
    assert ResponseTracking.objects.get(run=run).actual_outcome == "success"


@pytest.mark.postgresql
def test_an_outcome_for_a_vanished_run_is_an_error_not_a_silent_loss() -> None:
    run = claims.claim(_start().pk)
    assert run is not None
    AgentRun.objects.filter(pk=run.pk).delete()
    run.transition_to(AgentRun.Status.SUCCEEDED, save=False)
    with pytest.raises(Exception, match="could not be saved"):
        claims.save_with(run, fields=["status"], statement=("SELECT 1", []))
