"""start_run, publishing on commit, the dispatcher, operator retry and cancel."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from pydantic import ValidationError

from agents.errors import UnknownAgent
from agents.models import AgentRun, AuditLog
from agents.services import runs
from agents.services.runs import cancel_run, dispatch_due, retry_run, start_run
from tests.factories.agents import AgentRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    with mock.patch("agents.tasks.run_agent.apply_async") as apply_async:
        yield apply_async


def test_start_run_publishes_on_commit_to_the_agents_queue(published, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = start_run(agent_name="data_validation", input={"lead_id": 1}, trigger="event")
    assert not published.called  # nothing leaves before the caller's transaction commits
    for callback in callbacks:
        callback()
    published.assert_called_once_with((run.pk,), queue="crm", priority=5, time_limit=600, soft_time_limit=570)
    assert run.status == AgentRun.Status.QUEUED and run.enqueued_at is not None
    assert run.depth == 0 and run.payload_hash


def test_start_run_is_idempotent_on_the_key(published, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = start_run(agent_name="t_echo", input={"text": "a"}, trigger="event", idempotency_key="k1")
        second = start_run(agent_name="t_echo", input={"text": "b"}, trigger="event", idempotency_key="k1")
    assert first.pk == second.pk
    assert AgentRun.objects.filter(idempotency_key="k1").count() == 1
    assert published.call_count == 1


def test_a_duplicate_key_inside_a_transaction_leaves_it_usable() -> None:
    # A handoff starts its run inside the act's transaction: a second start with the same key gets
    # the first run back, and the transaction goes on (no aborted transaction, no savepoint needed).
    with transaction.atomic():
        first = start_run(
            agent_name="t_echo", input={"text": "a"}, trigger="event", idempotency_key="k2", enqueue=False
        )
        again = start_run(
            agent_name="t_echo", input={"text": "b"}, trigger="event", idempotency_key="k2", enqueue=False
        )
        later = start_run(agent_name="t_echo", input={"text": "c"}, trigger="event", enqueue=False)
    assert again.pk == first.pk and again.input == {"text": "a"}
    assert later.pk > first.pk
    stored = AgentRun.objects.get(pk=first.pk)
    assert stored.updated_at is not None and stored.created_at is not None and stored.payload_hash


def test_start_run_refuses_unknown_agents_and_bad_input() -> None:
    with pytest.raises(UnknownAgent):
        start_run(agent_name="no_such_agent", input={}, trigger="event")
    with pytest.raises(ValidationError):
        start_run(agent_name="data_validation", input={"lead_id": "not a number"}, trigger="event")


def test_a_run_due_later_is_not_published_until_the_dispatcher_finds_it(
    published, frozen_clock, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(
            agent_name="t_echo", input={}, trigger="event", due_at=frozen_clock.now + dt.timedelta(minutes=5)
        )
        assert dispatch_due() == 0
    assert not published.called and run.enqueued_at is None

    frozen_clock.tick(dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == 1
        assert dispatch_due() == 0  # published recently: not again
    published.assert_called_once_with((run.pk,), queue="system", priority=5, time_limit=600, soft_time_limit=570)


def test_the_dispatcher_republishes_a_lost_message(published, frozen_clock, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start_run(agent_name="t_echo", input={}, trigger="event")
    frozen_clock.tick(runs.REPUBLISH_AFTER + dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == 1
    assert published.call_count == 2


def test_on_a_fast_demo_clock_the_republish_wait_is_wall_time(
    published, frozen_clock, settings, django_capture_on_commit_callbacks
) -> None:
    # At 60x, ten wall minutes are ten business hours: an unclaimed run (a backlog, not a lost
    # message) must not be published again every ten wall seconds.
    settings.CLOCK_SPEED = 60.0
    with django_capture_on_commit_callbacks(execute=True):
        start_run(agent_name="t_echo", input={}, trigger="event")
    frozen_clock.tick(runs.REPUBLISH_AFTER * 30)  # five business hours: five wall minutes
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == 0
    frozen_clock.tick(runs.REPUBLISH_AFTER * 31)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due() == 1
    assert published.call_count == 2


def test_retry_of_a_failed_run_starts_over_and_is_audited(
    published, django_user_model, django_capture_on_commit_callbacks
) -> None:
    user = django_user_model.objects.create_user("ops")
    run = AgentRunFactory.create(status=AgentRun.Status.FAILED, attempts=3, error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        retry_run(run=run, user=user)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED and run.attempts == 0
    published.assert_called_once()
    assert AuditLog.objects.filter(action="run.retry", user=user, target_id=str(run.pk)).exists()


def test_cancel_ends_a_queued_run() -> None:
    run = AgentRunFactory.create()
    cancel_run(run=run, reason="not needed")
    run.refresh_from_db()
    assert run.status == AgentRun.Status.CANCELED and run.finished_at is not None
    assert AuditLog.objects.filter(action="run.cancel", target_id=str(run.pk)).exists()
