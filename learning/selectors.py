"""Reads for the learning app: the rules that apply to a run, error groups, rule evidence."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from learning.models import KnowledgeRule

BEFORE_TYPES = (
    KnowledgeRule.RuleType.ALWAYS,
    KnowledgeRule.RuleType.VALIDATE,
    KnowledgeRule.RuleType.AVOID,
    KnowledgeRule.RuleType.NEVER,
)
FAILURE_TYPES = (KnowledgeRule.RuleType.RETRY, KnowledgeRule.RuleType.ESCALATE)


def active_rules(*, agent_name: str, rule_types: Iterable[str]) -> QuerySet[KnowledgeRule]:
    """Active rules for an agent: its own and the global ones (blank agent_name), oldest first."""
    return KnowledgeRule.objects.filter(
        status=KnowledgeRule.Status.ACTIVE, agent_name__in=[agent_name, ""], rule_type__in=list(rule_types)
    ).order_by("pk")


def prompt_texts(*, agent_name: str) -> list[str]:
    """The sorted, de-duplicated texts of the active 'always' rules (stable order keeps the prompt cacheable)."""
    texts = active_rules(agent_name=agent_name, rule_types=[KnowledgeRule.RuleType.ALWAYS]).values_list(
        "text", flat=True
    )
    return sorted({t.strip() for t in texts if t.strip()})
