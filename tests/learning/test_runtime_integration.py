"""Rules applied by the real runtime to the demo agent (which fails for leads without a domain)."""

from __future__ import annotations

import pytest

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.services.runs import start_run
from learning.demo import AGENT
from learning.models import ErrorLog, RuleApplication
from tests.factories.learning import KnowledgeRuleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo", "no_holdout")]


def _run(domain: str | None) -> AgentRun:
    run = start_run(
        agent_name=AGENT, input={"lead_id": 1, "company_domain": domain}, trigger=AgentRun.Trigger.MANUAL, enqueue=False
    )
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def test_a_validate_rule_skips_the_run_with_its_reason() -> None:
    rule = KnowledgeRuleFactory.create(agent_name=AGENT, condition={"field": "company_domain", "op": "missing"})
    run = _run(None)
    assert run.status == "skipped" and f"rule #{rule.pk}" in run.error
    assert run.learnings_applied[0]["effect"] == "skipped"
    assert not ErrorLog.objects.exists()
    assert _run("acme.com").status == "succeeded"


def test_a_never_rule_escalates_and_an_approval_lets_the_run_go_ahead(admin_user) -> None:
    KnowledgeRuleFactory.create(
        agent_name=AGENT, rule_type="never", condition={"field": "company_domain", "op": "missing"}
    )
    run = _run(None)
    assert run.status == "escalated"
    escalation = Escalation.objects.get(run=run)
    assert escalation.kind == "policy"
    decide(escalation=escalation, approve=True, user=admin_user)
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed"  # the operator's call: it ran (and failed as the rule predicted)


def test_an_escalate_rule_hands_the_failure_to_a_human() -> None:
    first = _run(None)
    fingerprint = ErrorLog.objects.get(run=first).fingerprint
    KnowledgeRuleFactory.create(
        agent_name=AGENT, rule_type="escalate", condition={}, fingerprint=fingerprint, text="Ask sales for the domain."
    )
    run = _run(None)
    assert run.status == "escalated"
    escalation = Escalation.objects.get(run=run)
    assert escalation.kind == "error" and "Ask sales for the domain." in escalation.reason
    assert RuleApplication.objects.get(run=run).stage == "failure"


def test_a_retry_rule_requeues_a_permanent_failure_with_its_delays(frozen_clock) -> None:
    first = _run(None)
    fingerprint = ErrorLog.objects.get(run=first).fingerprint
    KnowledgeRuleFactory.create(
        agent_name=AGENT,
        rule_type="retry",
        condition={},
        fingerprint=fingerprint,
        action_params={"delays": [600], "max_attempts": 2},
    )
    run = _run(None)
    assert run.status == "queued" and (run.due_at - frozen_clock.now).total_seconds() == 600
    assert RuleApplication.objects.get(run=run).outcome == "pending"  # not finished yet
