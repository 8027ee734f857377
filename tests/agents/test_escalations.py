"""Escalations: the waiting run resumes on approval (seeing it) or is canceled on rejection."""

from __future__ import annotations

import pytest

from agents import runtime
from agents.models import AgentRun, AuditLog, Escalation
from agents.services.escalations import decide, raise_escalation
from agents.services.runs import start_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(django_user_model):
    return django_user_model.objects.create_user("ops")


def _waiting() -> tuple[AgentRun, Escalation]:
    run = start_run(agent_name="t_approval", input={"text": "the discount"}, trigger="event", enqueue=False)
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run, Escalation.objects.get(run=run)


def test_an_approval_escalation_parks_the_run() -> None:
    run, escalation = _waiting()
    assert run.status == AgentRun.Status.ESCALATED and run.finished_at is None
    assert escalation.kind == Escalation.Kind.APPROVAL and escalation.status == Escalation.Status.OPEN
    assert escalation.assigned_group == "operator"


def test_approving_resumes_the_run_and_the_agent_sees_the_approval(ops, django_capture_on_commit_callbacks) -> None:
    run, escalation = _waiting()
    with django_capture_on_commit_callbacks() as callbacks:
        decide(escalation=escalation, approve=True, user=ops, note="go ahead")
    assert len(callbacks) == 1  # agents.run published for the resumed run
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.output == {"approved_by_note": "go ahead"}
    escalation.refresh_from_db()
    assert escalation.decided_by == ops and escalation.decided_at is not None
    assert AuditLog.objects.filter(action="escalation.approve", user=ops).exists()


def test_rejecting_cancels_the_waiting_run(ops) -> None:
    run, escalation = _waiting()
    decide(escalation=escalation, approve=False, user=ops, note="too generous")
    run.refresh_from_db()
    assert run.status == AgentRun.Status.CANCELED
    assert "too generous" in run.error
    assert Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.REJECTED


def test_deciding_twice_changes_nothing_the_second_time(ops) -> None:
    run, escalation = _waiting()
    decide(escalation=escalation, approve=False, user=ops)
    again = decide(escalation=escalation, approve=True, user=ops)
    assert again.status == Escalation.Status.REJECTED
    run.refresh_from_db()
    assert run.status == AgentRun.Status.CANCELED


def test_an_open_escalation_with_the_same_key_is_not_raised_twice() -> None:
    first = raise_escalation(kind="error", reason="spike", dedupe_key="spike:x")
    second = raise_escalation(kind="error", reason="spike again", dedupe_key="spike:x")
    assert first.pk == second.pk
