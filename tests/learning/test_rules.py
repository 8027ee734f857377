from __future__ import annotations

import pytest

from agents.models import AuditLog
from learning.conditions import ConditionError
from learning.services.rules import RuleNotExecutable, approve_rule, create_rule, edit_rule, retire_rule
from tests.factories.learning import KnowledgeRuleFactory

pytestmark = pytest.mark.django_db


def test_approve_makes_a_proposed_rule_active_and_audits(admin_user, frozen_clock) -> None:
    rule = KnowledgeRuleFactory.create(status="proposed")
    approved = approve_rule(rule=rule, user=admin_user)
    assert approved.status == "active" and approved.approved_by == admin_user
    assert approved.approved_at == frozen_clock.now
    assert AuditLog.objects.filter(action="rule.approve", target_id=str(rule.pk), user=admin_user).exists()
    assert approve_rule(rule=rule, user=admin_user).status == "active"  # twice: no change, no error


def test_a_condition_rule_without_a_condition_cannot_go_live() -> None:
    rule = KnowledgeRuleFactory.create(status="proposed", condition={})
    with pytest.raises(RuleNotExecutable):
        approve_rule(rule=rule, user=None)


def test_retry_rule_needs_a_fingerprint() -> None:
    rule = KnowledgeRuleFactory.create(status="proposed", rule_type="retry", condition={}, fingerprint="")
    with pytest.raises(RuleNotExecutable):
        approve_rule(rule=rule, user=None)


def test_retire_and_reactivate(admin_user) -> None:
    rule = KnowledgeRuleFactory.create()
    retired = retire_rule(rule=rule, user=admin_user, reason="wrong")
    assert retired.status == "retired" and retired.retired_reason == "wrong" and retired.retired_at
    again = approve_rule(rule=retired, user=admin_user)
    assert again.status == "active" and again.retired_at is None


def test_edit_validates_the_condition(admin_user) -> None:
    rule = KnowledgeRuleFactory.create()
    with pytest.raises(ConditionError):
        edit_rule(rule=rule, user=admin_user, condition={"field": "x", "op": "exec"})
    edited = edit_rule(rule=rule, user=admin_user, text=" New text ", condition={"field": "x", "op": "missing"})
    assert edited.text == "New text" and edited.condition == {"field": "x", "op": "missing"}
    with pytest.raises(RuleNotExecutable):
        edit_rule(rule=rule, user=admin_user, condition={})  # an active validate rule must keep a condition


def test_create_rule_starts_proposed() -> None:
    rule = create_rule(user=None, rule_type="always", text="Cite the source.", agent_name="knowledge_base")
    assert rule.status == "proposed" and rule.agent_name == "knowledge_base"
