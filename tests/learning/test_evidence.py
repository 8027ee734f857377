from __future__ import annotations

from decimal import Decimal

import pytest

from learning.models import KnowledgeRule
from learning.services.evidence import refresh_rules
from tests.factories.learning import KnowledgeRuleFactory, RuleApplicationFactory

pytestmark = pytest.mark.django_db


def _apps(rule: KnowledgeRule, mode: str, outcome: str, n: int) -> None:
    for _ in range(n):
        RuleApplicationFactory.create(rule=rule, mode=mode, outcome=outcome)


def test_confidence_is_the_beta_posterior_mean_of_applied_outcomes() -> None:
    rule = KnowledgeRuleFactory.create(rule_type="retry", condition={})
    _apps(rule, "applied", "success", 8)
    _apps(rule, "applied", "failure", 2)
    _apps(rule, "applied", "pending", 5)  # not yet known: not counted
    refresh_rules(rule_ids=[rule.pk])
    rule.refresh_from_db()
    assert (rule.times_applied, rule.times_successful) == (10, 8)
    assert rule.confidence == Decimal("0.7500")  # (8 + 1) / (10 + 2)
    assert rule.holdout_lift is None


def test_lift_and_interval_from_the_holdout() -> None:
    rule = KnowledgeRuleFactory.create(rule_type="retry", condition={})
    _apps(rule, "applied", "success", 18)
    _apps(rule, "holdout", "failure", 4)
    _apps(rule, "holdout", "success", 1)
    refresh_rules(rule_ids=[rule.pk])
    rule.refresh_from_db()
    assert (rule.holdout_exposures, rule.holdout_failures) == (5, 4)
    assert rule.holdout_lift == Decimal("0.8000")
    assert rule.lift_low is not None and rule.lift_high is not None
    assert rule.lift_low < rule.holdout_lift < rule.lift_high
    assert rule.lift_low > 0


def test_a_retry_rule_is_retired_only_when_its_whole_interval_is_below_zero(settings) -> None:
    settings.LEARNING_MIN_HOLDOUT = 20
    rule = KnowledgeRuleFactory.create(rule_type="retry", condition={})
    _apps(rule, "applied", "failure", 30)
    _apps(rule, "applied", "success", 10)
    _apps(rule, "holdout", "success", 19)
    assert refresh_rules(rule_ids=[rule.pk]) == []  # 19 held-out runs: not yet
    _apps(rule, "holdout", "success", 1)
    retired = refresh_rules(rule_ids=[rule.pk])
    rule.refresh_from_db()
    assert retired == [rule] and rule.status == "retired" and "whole interval" in rule.retired_reason


def test_a_helpful_rule_stays_active() -> None:
    rule = KnowledgeRuleFactory.create()
    _apps(rule, "applied", "success", 40)
    _apps(rule, "holdout", "failure", 4)
    assert refresh_rules(rule_ids=[rule.pk]) == []
    rule.refresh_from_db()
    assert rule.status == "active"


def test_refresh_is_idempotent_and_batched(django_assert_max_num_queries) -> None:
    rules = [KnowledgeRuleFactory.create() for _ in range(5)]
    for rule in rules:
        _apps(rule, "applied", "success", 2)
    with django_assert_max_num_queries(2 + len(rules)):
        refresh_rules(rule_ids=[r.pk for r in rules])
    refresh_rules(rule_ids=[r.pk for r in rules])
    assert {r.times_applied for r in KnowledgeRule.objects.all()} == {2}
