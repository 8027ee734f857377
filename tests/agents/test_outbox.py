"""The transactional outbox: intents commit with the run, are performed once per key after commit,
reconciled after a crash, retried alone when transient, and fail the run when permanent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agents import outbox
from agents.errors import ActPayloadMismatch, TransientError
from agents.models import Action, AgentRun
from agents.testing import run_agent
from learning.models import ErrorLog
from smarter_team import clock
from tests.agents.sample_agents import MailPayload, Outbox, SideEffect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mailbag() -> Iterator[None]:
    Outbox.sent, Outbox.fail_next, Outbox.fail_permanently, Outbox.done, Outbox.failed = [], 0, 0, [], []
    yield
    Outbox.sent, Outbox.fail_next, Outbox.fail_permanently, Outbox.done, Outbox.failed = [], 0, 0, [], []


def _send(path: Path, key: str = "welcome-1") -> Any:
    return run_agent("t_sender", {"key": key, "path": str(path)})


def test_an_act_commits_with_the_run_and_is_performed_once_after_commit(tmp_path: Path) -> None:
    target = tmp_path / "sent.txt"
    result = _send(target)
    assert result.status == "succeeded"
    [action] = result.acts
    assert action.status == Action.Status.DONE and action.done_at is not None
    assert action.idempotency_key == "test.side_effect:welcome-1"  # namespaced by kind, keyed by the domain
    assert action.attempts == 1 and action.result == {"sent": "test.side_effect:welcome-1"}
    assert result.output == {"action": action.pk}
    assert target.read_text().splitlines() == ["test.side_effect:welcome-1"]


def test_a_second_run_for_the_same_business_action_does_not_act_twice(tmp_path: Path) -> None:
    target = tmp_path / "sent.txt"
    _send(target)
    second = _send(target)  # another run, same domain key: a duplicated trigger, a replayed event
    assert second.status == "succeeded"
    assert second.acts == []  # the intent exists already (another run's): nothing recorded anew
    assert Action.objects.count() == 1
    assert target.read_text().splitlines() == ["test.side_effect:welcome-1"]


def test_a_transient_failure_retries_the_act_not_the_runs_decisions() -> None:
    Outbox.fail_next = 1
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]})
    assert result.status == "succeeded"  # the decision stands
    [action] = result.acts
    assert action.status == Action.Status.PENDING and "timed out" in action.error
    assert action.next_attempt_at is not None and action.next_attempt_at > clock.wall_now()
    assert Outbox.sent == []
    with clock.frozen(clock.wall_now() + dt.timedelta(minutes=5)):
        assert outbox.perform_due() == 1
    action.refresh_from_db()
    assert action.status == Action.Status.DONE and action.attempts == 2
    assert Outbox.sent == ["ada@fine.example"] and Outbox.done == ["msg-1"]  # the result handler ran
    assert AgentRun.objects.filter(agent_name="t_mailer").count() == 1  # no second run


def test_a_permanent_act_failure_logs_once_fails_the_run_and_tells_the_domain() -> None:
    Outbox.fail_permanently = 1
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]})
    assert result.status == "failed"
    assert "test.email failed" in result.error and "refused" in result.error
    [action] = result.acts
    assert action.status == Action.Status.FAILED
    assert Outbox.failed == [("ada@fine.example", False)]
    [error] = result.errors
    assert error.step == "act" and ErrorLog.objects.count() == 1


def test_a_second_act_failing_after_the_first_adds_its_error_but_the_run_stays_failed() -> None:
    Outbox.fail_permanently = 2
    result = run_agent("t_mailer", {"to": ["ada@fine.example", "bo@fine.example"]})
    assert result.status == "failed"
    assert [a.status for a in result.acts] == [Action.Status.FAILED, Action.Status.FAILED]


def test_acts_left_by_a_dead_worker_are_performed_by_the_sweeper_after_the_grace() -> None:
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]}, perform_acts=False)
    assert result.status == "succeeded" and result.acts[0].status == Action.Status.PENDING
    assert outbox.perform_due() == 0  # within the grace: the committing worker's to do
    with clock.frozen(clock.wall_now() + outbox.GRACE + dt.timedelta(seconds=1)):
        assert outbox.perform_due() == 1
    assert Outbox.sent == ["ada@fine.example"]


def test_an_action_held_by_a_live_worker_is_not_performed_again() -> None:
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]}, perform_acts=False)
    action = result.acts[0]
    Action.objects.filter(pk=action.pk).update(lease_expires_at=clock.wall_now() + dt.timedelta(minutes=5))
    assert outbox.perform(action.pk) is None
    assert Outbox.sent == []


class _Flaky:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def perform(self, payload: BaseModel, key: str) -> dict[str, Any]:
        self.keys.append(key)
        if len(self.keys) == 1:
            raise TransientError("provider 503")
        return {"ok": len(self.keys)}


class Empty(BaseModel):
    pass


def test_a_pending_action_without_reconcile_is_performed_again_with_the_same_key() -> None:
    flaky = _Flaky()
    outbox.register_performer("test.flaky", payload=Empty, contacts=())(lambda p, k: flaky.perform(p, k))
    try:
        action = outbox.record(run=None, kind="test.flaky", key="k", payload=Empty())
        assert outbox.perform(action.pk) == Action.Status.PENDING
        Action.objects.filter(pk=action.pk).update(next_attempt_at=clock.wall_now())
        assert outbox.perform(action.pk) == Action.Status.DONE
    finally:
        outbox.unregister_performer("test.flaky")
    assert flaky.keys == ["test.flaky:k", "test.flaky:k"]  # the provider can deduplicate on it


def test_a_payload_of_another_kind_is_refused_with_what_to_change(tmp_path: Path) -> None:
    with pytest.raises(ActPayloadMismatch, match="takes a SideEffect payload, not MailPayload"):
        outbox.record(run=None, kind="test.side_effect", key="k", payload=MailPayload(to="a@b.example"))
    with pytest.raises(ActPayloadMismatch, match="does not match SideEffect"):
        outbox.record(run=None, kind="test.side_effect", key="k", payload={"nope": 1})
    assert not Action.objects.exists()
    outbox.record(run=None, kind="test.side_effect", key="k", payload=SideEffect(path=str(tmp_path / "x")))


def test_registering_a_performer_checks_its_payload_and_contacts() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @outbox.register_performer("test.side_effect", payload=SideEffect, contacts=())
        class Another:
            def perform(self, payload: SideEffect, key: str) -> dict[str, Any]:
                return {}

    with pytest.raises(ValueError, match="not fields of MailPayload"):
        outbox.register_performer("test.other", payload=MailPayload, contacts=("email",))
    with pytest.raises(TypeError, match="pydantic model"):
        outbox.register_performer("test.other", payload=dict, contacts=())  # type: ignore[arg-type]


def test_a_long_key_is_hashed_to_fit() -> None:
    action = outbox.record(run=None, kind="test.email", key="x" * 400, payload=MailPayload(to="a@fine.example"))
    assert len(action.idempotency_key) <= 200 and action.idempotency_key.startswith("test.email:sha256:")


def test_the_sweeper_is_a_beat_task_so_production_finishes_what_a_dead_worker_left() -> None:
    from agents.schedules import SYSTEM_SCHEDULES
    from agents.tasks import perform_due

    assert any(spec.task == "agents.perform_due" for spec in SYSTEM_SCHEDULES)  # beat runs it, not only tests
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]}, perform_acts=False)
    assert result.acts[0].status == Action.Status.PENDING
    with clock.frozen(clock.wall_now() + outbox.GRACE + dt.timedelta(seconds=1)):
        assert perform_due() == 1  # what beat calls
    assert Outbox.sent == ["ada@fine.example"]
