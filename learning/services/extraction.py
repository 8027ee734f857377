"""learning_extraction's work: alike errors seen often enough become proposed KnowledgeRules."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from agents.models import AgentRun
from learning.conditions import validate
from learning.derivation import ErrorGroup, Proposal, propose
from learning.fingerprint import normalise_message
from learning.models import ErrorLog, KnowledgeRule
from learning.services.evidence import refresh_rules
from learning.services.rules import approve_rule
from smarter_team import clock

logger = logging.getLogger(__name__)

MAX_FAILING_INPUTS = 200
MAX_SUCCEEDING_INPUTS = 500
MAX_GROUPS = 100
# (group, proposal) -> a better text, or "" to keep the template. The agent passes an LLM drafter.
Drafter = Callable[[ErrorGroup, Proposal], str]


@dataclass
class ExtractionResult:
    proposed: list[KnowledgeRule] = field(default_factory=list)
    auto_approved: list[KnowledgeRule] = field(default_factory=list)
    retired: list[KnowledgeRule] = field(default_factory=list)
    groups_seen: int = 0


def min_occurrences() -> int:
    return min(5, max(3, int(settings.LEARNING_MIN_OCCURRENCES)))


def error_groups(*, since: dt.datetime, until: dt.datetime, threshold: int) -> list[ErrorGroup]:
    """Fingerprints seen at least ``threshold`` times in the window and covered by no rule (any status).

    A retired rule still covers its fingerprint: re-proposing what was just retired would loop; an
    operator can re-activate it instead.
    """
    covered = KnowledgeRule.objects.exclude(fingerprint="").values("fingerprint")
    query = (
        ErrorLog.objects.filter(occurred_at__gte=since, occurred_at__lte=until)
        .exclude(fingerprint__in=covered)
        .values("fingerprint", "agent_name", "provider", "error_type", "step")
        .annotate(n=Count("id"), last_id=Max("id"), transient_n=Count("id", filter=Q(transient=True)))
        .filter(n__gte=threshold)
        .order_by("-n", "fingerprint")[:MAX_GROUPS]
    )
    rows = list(query)
    messages = dict(ErrorLog.objects.filter(pk__in=[r["last_id"] for r in rows]).values_list("pk", "message"))
    return [
        ErrorGroup(
            agent_name=r["agent_name"],
            provider=r["provider"],
            error_type=r["error_type"],
            step=r["step"],
            fingerprint=r["fingerprint"],
            pattern=normalise_message(messages.get(r["last_id"], "")),
            message=messages.get(r["last_id"], ""),
            occurrences=r["n"],
            transient_share=r["transient_n"] / r["n"],
        )
        for r in rows
    ]


def _inputs(group: ErrorGroup, *, since: dt.datetime, until: dt.datetime) -> tuple[list[Any], list[Any]]:
    """Inputs of the failing runs of the group, and of the same agent's succeeding runs (for contrast)."""
    failing_ids = (
        ErrorLog.objects.filter(fingerprint=group.fingerprint, occurred_at__gte=since, run__isnull=False)
        .values_list("run_id", flat=True)
        .distinct()[:MAX_FAILING_INPUTS]
    )
    failing = list(AgentRun.objects.filter(pk__in=list(failing_ids)).values_list("input", flat=True))
    if not group.agent_name:
        return failing, []
    succeeding = list(
        AgentRun.objects.filter(
            agent_name=group.agent_name,
            status=AgentRun.Status.SUCCEEDED,
            created_at__lte=until,
        )
        .order_by("-created_at")
        .values_list("input", flat=True)[:MAX_SUCCEEDING_INPUTS]
    )
    return failing, succeeding


def _auto_approve_types() -> set[str]:
    return {t.strip() for t in str(settings.LEARNING_AUTO_APPROVE_TYPES).split(",") if t.strip()}


def propose_rule(group: ErrorGroup, proposal: Proposal) -> KnowledgeRule | None:
    """Create the proposed rule; None when a concurrent extraction created it first."""
    validate(proposal.condition)
    source = ErrorLog.objects.filter(fingerprint=group.fingerprint).order_by("-occurred_at", "-pk").first()
    try:
        with transaction.atomic():
            return KnowledgeRule.objects.create(
                agent_name=group.agent_name,
                error_type=group.error_type[:128],
                fingerprint=group.fingerprint,
                pattern=group.pattern,
                rule_type=proposal.rule_type,
                text=proposal.text,
                condition=proposal.condition,
                action_params={**proposal.action_params, "evidence": proposal.evidence},
                source_error=source,
            )
    except IntegrityError:
        return None


@dataclass
class Planned:
    """One recurring error with the rule derived for it (its text may still be reworded)."""

    group: ErrorGroup
    proposal: Proposal


@dataclass
class ExtractionPlan:
    groups_seen: int = 0
    planned: list[Planned] = field(default_factory=list)


def plan(*, now: dt.datetime | None = None) -> ExtractionPlan:
    """The reads of an extraction pass: recurring error groups and the rule derived for each."""
    until = now or clock.now()
    since = until - dt.timedelta(hours=int(settings.LEARNING_WINDOW_HOURS))
    groups = error_groups(since=since, until=until, threshold=min_occurrences())
    result = ExtractionPlan(groups_seen=len(groups))
    for group in groups:
        failing, succeeding = _inputs(group, since=since, until=until)
        result.planned.append(Planned(group=group, proposal=propose(group, failing, succeeding)))
    return result


def apply(planned: ExtractionPlan) -> ExtractionResult:
    """The writes of an extraction pass: propose (and auto-approve) the planned rules, refresh every
    rule's evidence."""
    result = ExtractionResult(groups_seen=planned.groups_seen)
    auto = _auto_approve_types()
    for item in planned.planned:
        rule = propose_rule(item.group, item.proposal)
        if rule is None:
            continue
        result.proposed.append(rule)
        if rule.rule_type in auto:
            approve_rule(rule=rule, user=None)
            result.auto_approved.append(rule)
    live = KnowledgeRule.objects.filter(
        Q(status=KnowledgeRule.Status.ACTIVE) | Q(status=KnowledgeRule.Status.PROPOSED)
    ).values_list("pk", flat=True)
    result.retired = refresh_rules(rule_ids=list(live))
    return result


def extract(*, drafter: Drafter | None = None, now: dt.datetime | None = None) -> ExtractionResult:
    """One extraction pass (plan, reword, apply) for callers outside an agent run (the demo, tests)."""
    planned = plan(now=now)
    if drafter is not None:
        for item in planned.planned:
            try:
                drafted = drafter(item.group, item.proposal).strip()
            except Exception as exc:  # the template text is a fine fallback; the log says so
                logger.warning("rule text drafting failed (%s); using the template", type(exc).__name__)
                drafted = ""
            if drafted:
                item.proposal.text = drafted[:2000]
    return apply(planned)
