"""The agent kit: phases and their transaction rules, ctx.update, approvals, interruptions, facts
for learned rules, paid-read caching, and the testing kit itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from pydantic import BaseModel

from agents import registry
from agents.base import Agent, DeclarationError, Facts, LLMAgent
from agents.brains import scripted
from agents.context import RunContext
from agents.errors import ModelCallInTransaction, PhaseError
from agents.models import Action, AgentRun, AuditLog, Budget, Escalation, LookupCache
from agents.services.escalations import decide
from agents.testing import assert_idempotent, crash_and_finish, rerun, run_agent
from crm.models import Lead
from learning.models import ErrorLog
from smarter_team import clock
from smarter_team.db import in_real_transaction
from tests.factories.crm import CompanyFactory, LeadFactory
from tests.factories.learning import KnowledgeRuleFactory

pytestmark = pytest.mark.django_db


# --- phases -------------------------------------------------------------------------------------


def test_no_model_call_happens_inside_a_transaction() -> None:
    lead = LeadFactory.create(title="CTO")
    seen: list[bool] = []
    original = scripted.ScriptedBrain.decide

    def spy(self: Any, **kwargs: Any) -> Any:
        seen.append(in_real_transaction())
        return original(self, **kwargs)

    scripted.ScriptedBrain.decide = spy  # type: ignore[method-assign]
    try:
        result = run_agent("t_closer", {"lead_id": lead.pk}, answers=[{"title": "CTO (contacted)"}])
    finally:
        scripted.ScriptedBrain.decide = original  # type: ignore[method-assign]
    assert result.status == "succeeded"
    assert seen == [False]


def test_asking_the_brain_inside_a_transaction_is_refused() -> None:
    from tests.agents.sample_agents import ThinkerAgent

    run = AgentRun.objects.create(agent_name="t_thinker", idempotency_key="k", input={"text": "x"})
    ctx = RunContext(run=run, agent=ThinkerAgent())
    with pytest.raises(ModelCallInTransaction, match="ask in decide"), transaction.atomic():
        ctx.brain.decide(ThinkerAgent.Input(text="budget"))


def test_the_act_its_writes_its_handoff_its_intent_and_the_outcome_commit_together(tmp_path: Any) -> None:
    lead = LeadFactory.create(title="CTO")
    result = run_agent("t_closer", {"lead_id": lead.pk, "path": str(tmp_path / "sent")})
    assert result.status == "succeeded"
    assert result.output["changed"] == ["title"]
    assert [w.action for w in result.writes] == ["lead.contacted"]
    assert result.writes[0].before == {"title": "CTO"} and result.writes[0].after == {"title": "CTO (contacted)"}
    assert [r.agent_name for r in result.handoffs] == ["t_echo"]
    assert [a.status for a in result.acts] == [Action.Status.DONE]
    lead.refresh_from_db()
    assert lead.title == "CTO (contacted)"


@pytest.mark.parametrize("boundary", ["after_load", "after_decide", "in_act"])
def test_a_worker_dying_before_the_act_commits_leaves_nothing_and_the_retry_does_it_once(
    boundary: str, tmp_path: Any
) -> None:
    lead = LeadFactory.create(title="CTO")
    sent = tmp_path / "sent"
    result = crash_and_finish("t_closer", {"lead_id": lead.pk, "path": str(sent)}, at=boundary)
    assert result.status == "succeeded"
    assert AuditLog.objects.filter(action="lead.contacted").count() == 1
    assert AgentRun.objects.filter(agent_name="t_echo").count() == 1
    assert sent.read_text().splitlines() == [f"test.side_effect:lead:{lead.pk}:welcome"]
    [error] = result.errors  # the lost worker, once
    assert error.error_type.endswith("WorkerLost")


@pytest.mark.parametrize("boundary", ["before_call", "after_call"])
def test_a_worker_dying_after_commit_loses_no_act_and_acts_once(boundary: str, tmp_path: Any) -> None:
    lead = LeadFactory.create(title="CTO")
    sent = tmp_path / "sent"
    result = crash_and_finish("t_closer", {"lead_id": lead.pk, "path": str(sent)}, at=boundary)
    assert result.status == "succeeded"
    assert result.run.attempts == 1  # the decisions were not made again
    [action] = result.acts
    assert action.status == Action.Status.DONE
    assert sent.read_text().splitlines() == [f"test.side_effect:lead:{lead.pk}:welcome"]  # once
    if boundary == "after_call":
        assert action.result == {"sent": action.idempotency_key, "reconciled": True}


def test_the_same_input_twice_writes_and_acts_once(tmp_path: Any) -> None:
    lead = LeadFactory.create(title="CTO")
    first, second = assert_idempotent("t_closer", {"lead_id": lead.pk, "path": str(tmp_path / "sent")})
    assert first.output["changed"] == ["title"] and second.output["changed"] == []


def test_a_target_that_no_longer_exists_ends_the_run_skipped_with_the_reason() -> None:
    result = run_agent("t_closer", {"lead_id": 987654})
    assert result.status == "skipped"
    assert "no longer exists" in result.error and "Lead" in result.error
    assert not ErrorLog.objects.exists()  # nothing to retry or learn from


def test_a_target_deleted_between_load_and_act_is_skipped_too() -> None:
    lead = LeadFactory.create()
    original = registry.get("t_closer").load

    def load_then_vanish(self: Any, ctx: RunContext, data: Any) -> Any:
        facts = original(self, ctx, data)
        Lead.objects.filter(pk=lead.pk).delete()
        return facts

    registry.get("t_closer").load = load_then_vanish  # type: ignore[method-assign]
    try:
        result = run_agent("t_closer", {"lead_id": lead.pk})
    finally:
        registry.get("t_closer").load = original  # type: ignore[method-assign]
    assert result.status == "skipped" and "no longer exists" in result.error


# --- declarations that break a rule fail at import ----------------------------------------------


def test_writing_outside_the_act_phase_fails_at_import_with_what_to_change() -> None:
    with pytest.raises(DeclarationError, match=r"load\(\) calls ctx.update\(\).*do update\(\) in act\(\)"):

        @registry.register
        class EagerWriter(Agent[BaseModel, BaseModel]):
            name = "t_eager_writer"
            category = "test"
            trigger = "event"

            def load(self, ctx: RunContext, data: Any) -> Any:
                ctx.update(data, action="x", name="y")
                return data

            def act(self, ctx: RunContext, facts: Any) -> Any:
                return facts

    assert not registry.is_registered("t_eager_writer")


def test_an_old_style_run_method_is_refused_with_the_way_to_port_it() -> None:
    with pytest.raises(DeclarationError, match="load"):

        class OldStyle(Agent[BaseModel, BaseModel]):
            name = "t_old_style"
            category = "test"
            trigger = "event"

            def run(self, ctx: RunContext, data: Any) -> Any:
                return data

            def act(self, ctx: RunContext, facts: Any) -> Any:
                return facts

        registry.register(OldStyle)


def test_an_llm_agent_whose_facts_are_not_json_must_write_its_prompt() -> None:
    class LeadOnly(Facts):
        lead: Lead

    class Out(BaseModel):
        ok: bool = True

    class NoPrompt(LLMAgent[BaseModel, Out, Out]):
        name = "t_no_prompt"
        category = "test"
        trigger = "event"
        Facts = LeadOnly
        Output = Out
        system_prompt = "x"

        def heuristic(self, ctx: RunContext, facts: Any) -> Out:
            return Out()

    with pytest.raises(DeclarationError, match=r"must implement prompt\(ctx, facts\)"):
        registry.register(NoPrompt)


def test_a_write_reached_outside_the_act_phase_at_run_time_is_refused() -> None:
    from tests.agents.sample_agents import EchoAgent

    run = AgentRun.objects.create(agent_name="t_echo", idempotency_key="k2", input={})
    ctx = RunContext(run=run, agent=EchoAgent())
    with pytest.raises(PhaseError, match="only act"):
        ctx.update(LeadFactory.create(), action="lead.x", title="y")


def test_load_must_return_the_declared_facts() -> None:
    original = registry.get("t_closer").load
    registry.get("t_closer").load = lambda self, ctx, data: {"lead": 1}  # type: ignore[method-assign]
    try:
        result = run_agent("t_closer", {"lead_id": LeadFactory.create().pk})
    finally:
        registry.get("t_closer").load = original  # type: ignore[method-assign]
    assert result.status == "failed" and "not its declared Facts (LeadFacts)" in result.error


# --- ctx.update ---------------------------------------------------------------------------------


def test_update_saves_only_what_changed_and_audits_the_diff() -> None:
    from tests.agents.sample_agents import EchoAgent

    lead = LeadFactory.create(title="CTO", country="US")
    was_at = lead.company_id
    run = AgentRun.objects.create(agent_name="t_echo", idempotency_key="k3", input={})
    ctx = RunContext(run=run, agent=EchoAgent())
    ctx.phase = "act"
    assert ctx.update(lead, action="lead.edit", title="CEO", country="US") == ["title"]
    assert ctx.update(lead, action="lead.edit", title="CEO") == []  # nothing changed: no write, no entry
    company = CompanyFactory.create()
    assert ctx.update(lead, action="lead.move", company=company) == ["company"]
    entries = list(AuditLog.objects.filter(run=run).order_by("pk"))
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("lead.edit", {"title": "CTO"}, {"title": "CEO"}),
        ("lead.move", {"company": was_at}, {"company": company.pk}),
    ]
    lead.refresh_from_db()
    assert (lead.title, lead.company_id) == ("CEO", company.pk)


# --- approvals ----------------------------------------------------------------------------------


def test_an_approval_is_asked_once_waited_for_and_then_passes() -> None:
    result = run_agent("t_approval", {"text": "launch"})
    assert result.status == "escalated"
    [escalation] = result.escalations
    assert escalation.kind == Escalation.Kind.APPROVAL and escalation.dedupe_key == "approval:t_approval:launch"
    decide(escalation=escalation, approve=True, user=None, note="go")
    again = rerun(result.run)
    assert again.status == "succeeded" and again.output == {"approved_by_note": "go"}


def test_every_run_asking_for_the_same_approval_waits_on_it_and_resumes_with_it() -> None:
    first = run_agent("t_approval", {"text": "batch"})
    second = run_agent("t_approval", {"text": "batch"})
    assert first.escalations == second.escalations and len(first.escalations) == 1
    decide(escalation=first.escalations[0], approve=True, user=None)
    first.run.refresh_from_db()
    second.run.refresh_from_db()
    assert first.run.status == second.run.status == AgentRun.Status.QUEUED


def test_a_rejected_approval_cancels_the_waiting_runs_and_a_later_ask_is_skipped() -> None:
    result = run_agent("t_approval", {"text": "spam"})
    decide(escalation=result.escalations[0], approve=False, user=None, note="no")
    result.run.refresh_from_db()
    assert result.run.status == AgentRun.Status.CANCELED
    later = run_agent("t_approval", {"text": "spam"})
    assert later.status == "skipped" and "rejected" in later.error and "no" in later.error


def test_approving_a_budget_or_loop_escalation_never_passes_a_business_approval() -> None:
    result = run_agent("t_approval", {"text": "wire money"})
    run = result.run
    # An operator approves a budget escalation of the same run (a different question).
    budget = Escalation.objects.create(run=run, kind=Escalation.Kind.BUDGET, reason="over budget")
    decide(escalation=budget, approve=True, user=None)
    loop = Escalation.objects.create(run=run, kind=Escalation.Kind.LOOP, reason="loop")
    decide(escalation=loop, approve=True, user=None)
    AgentRun.objects.filter(pk=run.pk).update(status=AgentRun.Status.QUEUED)
    again = rerun(run)
    assert again.status == "escalated"  # still waiting for its own approval


# --- interruptions ------------------------------------------------------------------------------


def test_a_budget_pause_gets_through_an_except_exception(settings: Any) -> None:
    settings.BRAIN_DEFAULT = "scripted"
    Budget.objects.create(scope="global", key="", period="day", limit=Decimal("0.01"), on_exceed="pause")
    AgentRun.objects.create(
        agent_name="t_echo", idempotency_key="spent", input={}, cost=Decimal("1.00"), started_at=clock.now()
    )
    result = run_agent("t_swallowing", {"text": "x"}, answers=[{"label": "hot", "score": 90}])
    assert result.status == "queued" and "paused" in result.error
    assert result.run.output is None  # the swallowing fallback never ran


def test_learning_extraction_lets_a_budget_pause_through() -> None:
    from learning.services import extraction

    def pause(*args: Any, **kwargs: Any) -> Any:
        from agents.errors import PauseRun
        from smarter_team import clock

        raise PauseRun("budget", until=clock.now() + dt.timedelta(hours=1))

    original = extraction.plan
    extraction.plan = pause
    try:
        result = run_agent("learning_extraction")
    finally:
        extraction.plan = original
    assert result.status == "queued" and "paused" in result.error


# --- facts for learned rules, declared handoffs, cached reads -----------------------------------


def test_a_learned_rule_tests_a_field_of_the_facts_the_input_does_not_hold(settings: Any) -> None:
    settings.LEARNING_HOLDOUT_RATE = 0  # no run of this test is the rule's holdout (by id: would flake)
    lead = LeadFactory.create(company=CompanyFactory.create(domain=None))
    KnowledgeRuleFactory.create(
        agent_name="t_closer",
        rule_type="validate",
        status="active",
        condition={"field": "lead.company.domain", "op": "missing"},
        text="Leads without a company domain cannot be closed.",
    )
    result = run_agent("t_closer", {"lead_id": lead.pk})
    assert result.status == "skipped" and "company domain" in result.error
    other = run_agent(
        "t_closer", {"lead_id": LeadFactory.create(company=CompanyFactory.create(domain="acme-dental.com")).pk}
    )
    assert other.status == "succeeded"


def test_a_handoff_the_class_does_not_declare_is_refused() -> None:
    from tests.agents.sample_agents import ChainAgent

    original = ChainAgent.next
    ChainAgent.next = ()  # type: ignore[assignment]
    try:
        result = run_agent("t_chain", {"n": 0})
    finally:
        ChainAgent.next = original
    assert result.status == "failed" and "does not declare" in result.error and "ChainAgent.next" in result.error


def test_a_handoff_to_a_planned_agent_not_built_yet_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The roster is complete (PLANNED is empty): a future roster agent stands in for the next one.
    from agents import registry, roster
    from agents.base import Agent
    from tests.agents.sample_agents import Handed

    class Planned(BaseModel):
        lead_id: int = 0

    class PlannedHandoffAgent(Agent[Planned, Handed]):
        name = "t_planned"
        category = "test"
        trigger = "event"
        Input = Planned
        Output = Handed
        next = ("t_future",)

        def act(self, ctx: RunContext, data: Planned) -> Handed:
            child = ctx.handoff("t_future", {"lead_id": data.lead_id})
            return Handed(child=child.pk if child else None)

    monkeypatch.setattr(roster, "PLANNED", frozenset({"t_future"}))
    registry.register(PlannedHandoffAgent)
    try:
        result = run_agent("t_planned", {"lead_id": 1})
    finally:
        registry.unregister("t_planned")
    assert result.status == "succeeded" and result.output == {"child": None}
    assert result.handoffs == []


class Found(BaseModel):
    email: str


def test_a_paid_read_is_kept_by_domain_identity_and_not_paid_twice() -> None:
    from tests.agents.sample_agents import EchoAgent

    calls: list[int] = []

    def fetch() -> Found:
        calls.append(1)
        return Found(email="ada@acme.example")

    run = AgentRun.objects.create(agent_name="t_echo", idempotency_key="k4", input={})
    ctx = RunContext(run=run, agent=EchoAgent())
    key = "email_finder:acme.example:ada:lovelace"
    assert ctx.cached(key, fetch, model=Found).email == "ada@acme.example"
    assert ctx.cached(key, fetch, model=Found).email == "ada@acme.example"
    assert calls == [1] and LookupCache.objects.get(key=key).value == {"email": "ada@acme.example"}
