"""The three system agents, run through the real runtime."""

from __future__ import annotations

import datetime as dt

import pytest

from agents import registry, runtime
from agents.brains import scripted
from agents.models import AgentRun, Escalation
from agents.services.runs import start_run
from learning import hooks
from learning.models import AgentLearning, KnowledgeRule
from tests.factories.learning import make_run

pytestmark = pytest.mark.django_db


def _run(name: str, data: dict | None = None) -> AgentRun:
    run = start_run(agent_name=name, input=data or {}, trigger=AgentRun.Trigger.MANUAL, enqueue=False)
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def test_agents_are_registered_with_schedules() -> None:
    assert registry.get("error_monitoring").schedule == 300
    assert registry.get("learning_extraction").schedule == 3600
    assert registry.get("agent_performance").schedule == "30 2 * * *"


def test_learning_extraction_proposes_with_the_heuristic_brain(frozen_clock) -> None:
    for i in range(3):
        make_run(agent_name="t_domain_enricher", status="succeeded", input={"company_domain": f"c{i}.com"})
        run = make_run(agent_name="t_domain_enricher", status="failed", input={"company_domain": None})
        hooks.record_failure(run=run, agent_name="t_domain_enricher", exc=ValueError(f"lead {i} no company domain"))
    run = _run("learning_extraction")
    assert run.status == "succeeded", run.error
    [rule] = KnowledgeRule.objects.all()
    assert (run.output or {})["proposed"] == [rule.pk]
    assert rule.text.startswith("t_domain_enricher: do not start the work when company_domain is missing")


def test_learning_extraction_words_rules_through_the_brain(frozen_clock, scripted_brain) -> None:
    for i in range(3):
        hooks.record_failure(
            run=make_run(status="failed"),
            agent_name="t_domain_enricher",
            exc=RuntimeError(f"HTTP 401 key {i}"),
            provider="hunter",
        )
    scripted.script("learning_extraction", {"text": "Ask an admin to renew the Hunter API key."})
    run = _run("learning_extraction")
    assert run.status == "succeeded", run.error
    rule = KnowledgeRule.objects.get()
    assert rule.rule_type == "escalate" and rule.text == "Ask an admin to renew the Hunter API key."
    [(agent, request)] = scripted.calls
    assert agent == "learning_extraction" and request["rule_type"] == "escalate"


def test_error_monitoring_escalates_a_spike_once(frozen_clock, settings) -> None:
    settings.LEARNING_SPIKE_MIN_ERRORS = 5
    for i in range(6):
        hooks.record_failure(run=None, agent_name="", exc=RuntimeError(f"down {i}"), provider="icypeas")
    first = _run("error_monitoring")
    assert first.status == "succeeded", first.error
    assert [s["name"] for s in (first.output or {})["spikes"]] == ["icypeas"]
    frozen_clock.tick(dt.timedelta(minutes=5))
    second = _run("error_monitoring")
    assert (second.output or {})["spikes"][0]["escalation_id"] == (first.output or {})["spikes"][0]["escalation_id"]
    escalation = Escalation.objects.get()
    assert escalation.status == "open" and escalation.dedupe_key == "error-spike:integration:icypeas"


def test_agent_performance_writes_rows_for_yesterday(frozen_clock) -> None:
    yesterday = frozen_clock.now - dt.timedelta(days=1)
    make_run(agent_name="t_domain_enricher", status="succeeded", finished_at=yesterday)
    make_run(agent_name="t_domain_enricher", status="failed", finished_at=yesterday)
    run = _run("agent_performance")
    assert run.status == "succeeded", run.error
    row = AgentLearning.objects.get(agent_name="t_domain_enricher", learning_area="overall")
    assert row.period_start == yesterday.date() and row.runs_after == 2 and float(row.success_rate_after or 0) == 0.5
