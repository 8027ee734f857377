"""The outbox: intent committed first, performed once per key, reconciled after a crash."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from agents import outbox, runtime
from agents.errors import OutboxInTransaction, TransientError
from agents.models import Action, AgentRun
from agents.services.runs import start_run
from smarter_team import clock

pytestmark = pytest.mark.django_db


def _send(path: Path, key: str = "welcome-1", crash: bool = False) -> AgentRun:
    return start_run(
        agent_name="t_sender", input={"key": key, "path": str(path), "crash": crash}, trigger="event", enqueue=False
    )


def test_an_act_is_performed_once_and_its_result_stored(tmp_path: Path) -> None:
    target = tmp_path / "sent.txt"
    run = _send(target)
    runtime.execute(run.pk)
    run.refresh_from_db()
    action = Action.objects.get()
    assert action.status == Action.Status.DONE and action.done_at is not None
    assert action.idempotency_key == "test.side_effect:welcome-1"  # namespaced by kind
    assert action.run == run and action.attempts == 1
    assert run.output == {"result": {"sent": "test.side_effect:welcome-1"}}
    assert target.read_text().splitlines() == ["test.side_effect:welcome-1"]


def test_a_done_action_returns_its_stored_result_without_acting_again(tmp_path: Path) -> None:
    target = tmp_path / "sent.txt"
    runtime.execute(_send(target).pk)
    second = _send(target)  # another run, same key: e.g. a retried upstream event
    runtime.execute(second.pk)
    second.refresh_from_db()
    assert second.status == AgentRun.Status.SUCCEEDED
    assert target.read_text().splitlines() == ["test.side_effect:welcome-1"]


class _Flaky:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        self.keys.append(key)
        if len(self.keys) == 1:
            raise TransientError("provider 503")
        return {"ok": len(self.keys)}


def test_a_pending_action_without_reconcile_is_performed_again_with_the_same_key() -> None:
    flaky = _Flaky()
    outbox._performers["test.flaky"] = flaky
    try:
        with pytest.raises(TransientError):
            outbox.act(run=None, kind="test.flaky", key="k", payload={})
        action = Action.objects.get(idempotency_key="test.flaky:k")
        assert action.status == Action.Status.PENDING and "503" in action.error
        assert outbox.act(run=None, kind="test.flaky", key="k", payload={}) == {"ok": 2}
    finally:
        outbox.unregister_performer("test.flaky")
    assert flaky.keys == ["test.flaky:k", "test.flaky:k"]  # the provider can deduplicate on it
    assert Action.objects.get(idempotency_key="test.flaky:k").status == Action.Status.DONE


def test_a_permanent_failure_marks_the_action_failed() -> None:
    def refuse(payload: dict[str, Any], key: str) -> dict[str, Any]:
        raise ValueError("address rejected")

    outbox.register_performer("test.refuse", contacts=())(refuse)
    try:
        with pytest.raises(ValueError):
            outbox.act(run=None, kind="test.refuse", key="k", payload={})
    finally:
        outbox.unregister_performer("test.refuse")
    assert Action.objects.get().status == Action.Status.FAILED


def test_acting_inside_a_transaction_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutboxInTransaction), transaction.atomic():
        outbox.act(run=None, kind="test.side_effect", key="k", payload={"path": str(tmp_path / "x")})
    assert not (tmp_path / "x").exists()


def test_two_performers_for_one_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @outbox.register_performer("test.side_effect", contacts=())
        class Another:
            def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
                return {}


@pytest.mark.worker
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_acting_does_not_act_twice(tmp_path: Path) -> None:
    """The worker performs the side effect and is SIGKILLed before recording it. The sweeper
    re-queues the run; the retry reconciles with the provider and the effect happened once."""
    target = tmp_path / "sent.txt"
    run = _send(target, key="invoice-42", crash=True)
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smarter_team.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "T_SIDE_EFFECT_CRASH": "1",
    }
    script = (
        "import django; django.setup(); import tests.agents.sample_agents; "
        f"from agents.runtime import execute; execute({run.pk})"
    )
    worker = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, timeout=60
    )
    assert worker.returncode == -9, worker.stderr.decode()[-2000:]
    run.refresh_from_db()
    action = Action.objects.get()
    assert run.status == AgentRun.Status.RUNNING  # the dead worker's claim
    assert action.status == Action.Status.PENDING and action.attempts == 1  # intent was committed first
    assert target.read_text().splitlines() == ["test.side_effect:invoice-42"]

    later = clock.now() + dt.timedelta(hours=1)
    with clock.frozen(later):
        assert runtime.recover_lost_runs() == 1
    with clock.frozen(later + dt.timedelta(hours=1)):
        runtime.execute(run.pk)
    run.refresh_from_db()
    action.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED
    assert action.status == Action.Status.DONE and action.result == {
        "sent": "test.side_effect:invoice-42",
        "reconciled": True,
    }
    assert action.attempts == 1  # reconciled, not performed again
    assert target.read_text().splitlines() == ["test.side_effect:invoice-42"]  # exactly once
