"""Operator write paths for rules: approve, edit, retire, re-activate (the admin calls these)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from agents.services.audit import record_change
from learning.conditions import validate
from learning.models import KnowledgeRule
from learning.services.evidence import retire_rule as _retire
from learning.services.sensitivity import reads_prompts
from smarter_team import clock

EXECUTABLE_TYPES = {
    KnowledgeRule.RuleType.VALIDATE,
    KnowledgeRule.RuleType.AVOID,
    KnowledgeRule.RuleType.NEVER,
}


class RuleNotExecutable(ValueError):
    """A condition rule without a condition would never fire: refuse to activate it."""


def _audit(*, rule: KnowledgeRule, user: AbstractBaseUser | None, action: str, before: Any, after: Any) -> None:
    record_change(action=action, target=rule, before=before, after=after, user=user)


def check_executable(rule: KnowledgeRule) -> None:
    validate(rule.condition)
    if rule.rule_type in EXECUTABLE_TYPES and not rule.condition:
        raise RuleNotExecutable(f"a {rule.rule_type} rule needs a condition on the input")
    if rule.rule_type in (KnowledgeRule.RuleType.RETRY, KnowledgeRule.RuleType.ESCALATE) and not rule.fingerprint:
        raise RuleNotExecutable(f"a {rule.rule_type} rule answers one error fingerprint; it has none")
    if rule.rule_type == KnowledgeRule.RuleType.ALWAYS and rule.agent_name and not reads_prompts(rule.agent_name):
        raise RuleNotExecutable(
            f"{rule.agent_name} reads no prompt (a rules agent): an 'always' rule is text for "
            "a prompt and could not act; make it a validate/avoid/never rule with a condition, a retry or an escalate"
        )


@transaction.atomic
def approve_rule(*, rule: KnowledgeRule, user: AbstractBaseUser | None) -> KnowledgeRule:
    """proposed/retired -> active. Idempotent."""
    rule = KnowledgeRule.objects.select_for_update().get(pk=rule.pk)
    if rule.status == KnowledgeRule.Status.ACTIVE:
        return rule
    check_executable(rule)
    before = rule.status
    rule.approved_by = user if user is not None and user.pk else None  # type: ignore[assignment]
    rule.approved_at = clock.now()
    rule.retired_at, rule.retired_reason = None, ""
    rule.transition_to(KnowledgeRule.Status.ACTIVE, also=["approved_by", "approved_at", "retired_at", "retired_reason"])
    _audit(rule=rule, user=user, action="rule.approve", before={"status": before}, after={"status": rule.status})
    return rule


@transaction.atomic
def retire_rule(*, rule: KnowledgeRule, user: AbstractBaseUser | None, reason: str = "") -> KnowledgeRule:
    rule = KnowledgeRule.objects.select_for_update().get(pk=rule.pk)
    if rule.status == KnowledgeRule.Status.RETIRED:
        return rule
    before = rule.status
    who = user.get_username() if user is not None else "system"
    _retire(rule=rule, reason=reason or f"retired by {who}")
    _audit(rule=rule, user=user, action="rule.retire", before={"status": before}, after={"status": rule.status})
    return rule


@transaction.atomic
def edit_rule(
    *,
    rule: KnowledgeRule,
    user: AbstractBaseUser | None,
    text: str | None = None,
    condition: dict[str, Any] | None = None,
    action_params: dict[str, Any] | None = None,
    rule_type: str | None = None,
) -> KnowledgeRule:
    """Change what a rule says or does; the condition is validated, an active rule must stay executable."""
    rule = KnowledgeRule.objects.select_for_update().get(pk=rule.pk)
    before = {"text": rule.text, "condition": rule.condition, "action_params": rule.action_params}
    if text is not None:
        rule.text = text.strip()
    if condition is not None:
        validate(condition)
        rule.condition = condition
    if action_params is not None:
        rule.action_params = action_params
    if rule_type is not None:
        if rule_type not in KnowledgeRule.RuleType.values:
            raise ValueError(f"unknown rule type {rule_type!r}")
        rule.rule_type = rule_type
    if rule.status == KnowledgeRule.Status.ACTIVE:
        check_executable(rule)
    rule.save(update_fields=["text", "condition", "action_params", "rule_type"])
    after = {"text": rule.text, "condition": rule.condition, "action_params": rule.action_params}
    _audit(rule=rule, user=user, action="rule.edit", before=before, after=after)
    return rule


def create_rule(
    *,
    user: AbstractBaseUser | None,
    rule_type: str,
    text: str,
    agent_name: str = "",
    condition: dict[str, Any] | None = None,
    action_params: dict[str, Any] | None = None,
    fingerprint: str = "",
    error_type: str = "",
) -> KnowledgeRule:
    """An operator's own rule, created proposed (approve it to make it live)."""
    validate(condition or {})
    if rule_type not in KnowledgeRule.RuleType.values:
        raise ValueError(f"unknown rule type {rule_type!r}")
    rule = KnowledgeRule.objects.create(
        agent_name=agent_name.strip(),
        rule_type=rule_type,
        text=text.strip(),
        condition=condition or {},
        action_params=action_params or {},
        fingerprint=fingerprint.strip(),
        error_type=error_type.strip(),
    )
    _audit(rule=rule, user=user, action="rule.create", before=None, after={"status": rule.status})
    return rule
