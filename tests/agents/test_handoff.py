"""Handoffs: a child run in the same chain, idempotent per parent; the loop guard escalates."""

from __future__ import annotations

import pytest

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.services.runs import start_run

pytestmark = pytest.mark.django_db


def _root(payload: dict) -> AgentRun:
    return start_run(agent_name="t_chain", input=payload, trigger="event", enqueue=False)


def test_a_handoff_creates_a_child_in_the_same_chain() -> None:
    root = _root({"n": 0})
    runtime.execute(root.pk)
    child = AgentRun.objects.get(parent=root)
    assert child.correlation_id == root.correlation_id
    assert child.depth == 1 and child.trigger == AgentRun.Trigger.HANDOFF
    assert child.input == {"n": 1, "same": False}
    root.refresh_from_db()
    assert root.output == {"child": child.pk}


def test_a_retried_parent_gets_its_existing_child_back() -> None:
    from agents.context import RunContext
    from tests.agents.sample_agents import ChainAgent

    root = _root({"n": 0})
    ctx = RunContext(run=root, agent=ChainAgent())
    ctx.phase = "act"
    first = ctx.handoff("t_chain", {"n": 1})
    again = ctx.handoff("t_chain", {"n": 1})
    assert first is not None and again is not None and first.pk == again.pk
    assert AgentRun.objects.filter(parent=root).count() == 1


def test_the_same_agent_and_payload_twice_in_a_chain_escalates_as_a_loop() -> None:
    root = _root({"n": 5, "same": True})
    runtime.execute(root.pk)  # the root itself already ran t_chain with this input: a second time is a loop
    root.refresh_from_db()
    assert root.status == AgentRun.Status.ESCALATED
    escalation = Escalation.objects.get(run=root)
    assert escalation.kind == Escalation.Kind.LOOP
    assert "already started with the same input" in escalation.reason
    assert not AgentRun.objects.filter(parent=root).exists()


def test_the_depth_cap_escalates_instead_of_going_deeper(settings) -> None:
    settings.AGENT_MAX_DEPTH = 3
    run = _root({"n": 0})
    while True:
        runtime.execute(run.pk)
        run.refresh_from_db()
        child = AgentRun.objects.filter(parent=run).first()
        if child is None:
            break
        run = child
    assert run.depth == 3
    assert run.status == AgentRun.Status.ESCALATED
    escalation = Escalation.objects.get(run=run)
    assert escalation.kind == Escalation.Kind.LOOP and "depth 4 (max 3)" in escalation.reason
    assert AgentRun.objects.filter(correlation_id=run.correlation_id).count() == 4


def test_an_operator_can_let_a_flagged_chain_continue(django_user_model) -> None:
    root = _root({"n": 5, "same": True})
    runtime.execute(root.pk)
    escalation = Escalation.objects.get(run=root)
    decide(escalation=escalation, approve=True, user=django_user_model.objects.create_user("ops"), note="intended")
    runtime.execute(root.pk)
    root.refresh_from_db()
    assert root.status == AgentRun.Status.SUCCEEDED
    assert AgentRun.objects.filter(parent=root).count() == 1
