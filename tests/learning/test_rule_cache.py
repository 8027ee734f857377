"""The per-process cache of active rules: no query for an agent without rules, every change seen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.services import claims
from learning import hooks
from learning.models import KnowledgeRule
from learning.services import rule_cache
from learning.services.evidence import refresh_rules
from learning.services.rules import approve_rule, edit_rule, retire_rule
from tests.factories.agents import AgentRunFactory
from tests.factories.learning import KnowledgeRuleFactory, RuleApplicationFactory

pytestmark = pytest.mark.django_db


def _run(**kwargs):
    return AgentRunFactory.create(agent_name="lead_research", status="running", **kwargs)


def _claimed():
    """A run as the runtime holds it: claimed, with the rules' version read by the claim."""
    run = claims.claim(AgentRunFactory.create(agent_name="lead_research").pk)
    assert run is not None
    return run


def test_a_claimed_run_of_an_agent_without_rules_costs_no_query_once_loaded(no_holdout) -> None:
    hooks.before_run(run=_claimed(), data={})
    run = _claimed()
    with CaptureQueriesContext(connection) as captured:
        decision = hooks.before_run(run=run, data={})
    assert not decision.blocked and decision.prompt_rules == []
    assert captured.captured_queries == []


def test_without_a_claimed_version_one_small_query_checks_it(no_holdout) -> None:
    hooks.before_run(run=_run(), data={})
    run = _run()
    with CaptureQueriesContext(connection) as captured:
        hooks.before_run(run=run, data={})
    assert len(captured.captured_queries) == 1


def test_a_new_rule_is_seen_by_the_next_run(no_holdout) -> None:
    hooks.before_run(run=_claimed(), data={})  # cached: no rules
    KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == ["Be brief."]


def test_approving_editing_and_retiring_are_seen_by_the_next_run(no_holdout) -> None:
    rule = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={}, status="proposed")
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == []
    approve_rule(rule=rule, user=None)
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == ["Be brief."]
    edit_rule(rule=rule, user=None, text="Be briefer.")
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == ["Be briefer."]
    retire_rule(rule=rule, user=None, reason="test")
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == []


def test_another_process_changing_the_rules_is_seen(no_holdout) -> None:
    rule = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == ["Be brief."]
    # Another process retires it: no signal in this process; the version read with the claim changes.
    KnowledgeRule.objects.filter(pk=rule.pk).update(status="retired")
    assert hooks.before_run(run=_claimed(), data={}).prompt_rules == []


def test_an_edit_stamped_by_a_clock_that_is_behind_still_changes_the_version(no_holdout) -> None:
    older = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    KnowledgeRuleFactory.create(rule_type="always", text="Be kind.", condition={})
    assert sorted(hooks.before_run(run=_claimed(), data={}).prompt_rules) == ["Be brief.", "Be kind."]
    # Another process, its clock an hour behind, rewrites the older rule: max(updated_at) is unchanged.
    stamp = older.updated_at - dt.timedelta(hours=1)
    KnowledgeRule.objects.filter(pk=older.pk).update(text="Be very brief.", updated_at=stamp)
    assert sorted(hooks.before_run(run=_claimed(), data={}).prompt_rules) == ["Be kind.", "Be very brief."]


def test_measuring_a_rule_keeps_the_version(no_holdout) -> None:
    # Evidence is refreshed after every run a rule touched: it must not make every worker reload.
    rule = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    RuleApplicationFactory.create(rule=rule, outcome="success")
    before = rule_cache._read_version("lead_research")
    refresh_rules(rule_ids=[rule.pk])
    rule.refresh_from_db()
    assert rule.times_applied == 1
    assert rule_cache._read_version("lead_research") == before


def test_another_agents_rules_do_not_change_this_agents_version() -> None:
    before = rule_cache._read_version("lead_research")
    KnowledgeRuleFactory.create(agent_name="someone_else", rule_type="always", condition={})
    assert rule_cache._read_version("lead_research") == before
    KnowledgeRuleFactory.create(agent_name="", rule_type="always", condition={})  # global: everyone's
    assert rule_cache._read_version("lead_research") != before


def test_after_run_of_a_run_without_rule_applications_is_one_statement() -> None:
    run = _run(output={"confidence": 0.5})
    run.status = "succeeded"
    with CaptureQueriesContext(connection) as captured:
        hooks.after_run(run=run, succeeded=True)
    assert len([q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]) == 1
    assert hooks.after_run_statement(run=run, succeeded=True) is not None
    run.learnings_applied = [{"rule": 1, "stage": "before"}]
    assert hooks.after_run_statement(run=run, succeeded=True) is None  # applications to close: after_run
