"""Scenario (a) of issue #15 on a real roster agent: email_finder and a provider refusing webmail domains."""

from __future__ import annotations

from typing import Any

import pytest

from learning.demo_finder import play_finder
from learning.derivation import domains_of
from learning.models import ErrorLog, KnowledgeRule

pytestmark = pytest.mark.django_db


def test_email_finder_learns_to_skip_what_its_provider_refuses_before_paying(settings: Any) -> None:
    settings.LEARNING_HOLDOUT_RATE = 0
    arms, paid = play_finder(before_runs=40, after_runs=150, webmail_share=0.3)
    rule = arms.rule
    assert rule is not None, "a rule is proposed from the recorded facts"
    assert rule.rule_type == KnowledgeRule.RuleType.VALIDATE
    assert rule.condition["field"] == "lead.company.domain" and rule.condition["op"] == "matches"
    assert arms.before.recurrence == 1.0 and arms.before.failed >= 3
    # The rule names the webmail domains seen failing by the time it was proposed; one not seen yet
    # fails until the hourly pass widens the rule to it.
    rule.refresh_from_db()
    assert set(domains_of(rule.condition) or []) == {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com"}
    assert arms.after.recurrence <= 0.2 and arms.after.skipped >= arms.after.concerned * 0.8
    assert arms.after.succeeded == arms.after.runs - arms.after.concerned  # real domains still searched
    assert paid["webmail_searches_after"] == arms.after.failed < paid["webmail_searches_before"]
    logged = ErrorLog.objects.filter(agent_name="email_finder").first()
    assert logged is not None
    facts = logged.context["facts"]
    assert facts["lead.company.domain"]["domain"] in ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
    assert "v" not in facts["lead.last_name"]  # a name is recorded as presence and length only


def test_a_rule_that_matches_good_records_on_email_finder_is_retired(settings: Any) -> None:
    settings.LEARNING_HOLDOUT_RATE = 0.5
    arms, _ = play_finder(before_runs=10, after_runs=400, webmail_share=0.3, bad_rule=True)
    assert arms.rule is not None
    assert arms.rule.status == KnowledgeRule.Status.RETIRED
