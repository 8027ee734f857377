"""learning_extraction's work: alike errors seen often enough become proposed KnowledgeRules."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q

from agents.models import AgentRun
from learning.conditions import validate
from learning.derivation import ErrorGroup, NoRule, Proposal, propose
from learning.facts_record import path_exists, record_facts
from learning.fingerprint import normalise_message
from learning.models import ErrorGroupNote, ErrorLog, KnowledgeRule
from learning.services.evidence import refresh_rules
from learning.services.rules import approve_rule
from learning.services.sensitivity import reads_prompts
from learning.services.widening import Widening, plan_widenings, widen
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
    not_learned: list[ErrorGroupNote] = field(default_factory=list)
    widened: list[KnowledgeRule] = field(default_factory=list)
    groups_seen: int = 0


def min_occurrences() -> int:
    return min(5, max(3, int(settings.LEARNING_MIN_OCCURRENCES)))


def error_groups(*, since: dt.datetime, until: dt.datetime, threshold: int) -> list[ErrorGroup]:
    """Fingerprints seen in at least ``threshold`` failed runs in the window and covered by no rule
    (any status). A run's retries are one failed run; a failure outside any run counts once each.

    A retired rule still covers its fingerprint: re-proposing what was just retired would loop; an
    operator can re-activate it instead.
    """
    covered = KnowledgeRule.objects.exclude(fingerprint="").values("fingerprint")
    query = (
        ErrorLog.objects.filter(occurred_at__gte=since, occurred_at__lte=until)
        .exclude(fingerprint__in=covered)
        .values("fingerprint", "agent_name", "provider", "error_type", "step")
        .annotate(
            runs=Count("run_id", distinct=True),
            runless=Count("id", filter=Q(run__isnull=True)),
            last_id=Max("id"),
            transient_n=Count("id", filter=Q(transient=True)),
            rows=Count("id"),
        )
        .annotate(n=F("runs") + F("runless"))
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
            transient_share=r["transient_n"] / r["rows"],
        )
        for r in rows
    ]


@dataclass
class Contrast:
    """The recorded facts of a group's failing runs and of the same agent's succeeding runs."""

    failing: list[dict[str, Any]] = field(default_factory=list)
    succeeding: list[dict[str, Any]] = field(default_factory=list)
    succeeding_total: int = 0  # succeeding runs in the window (the sample is at most MAX_SUCCEEDING_INPUTS)


def _record_of(recorded: Any, run_input: Any) -> dict[str, Any]:
    if isinstance(recorded, dict) and recorded:
        return recorded
    return record_facts(run_input if isinstance(run_input, dict) else {})


def _contrast(group: ErrorGroup, *, since: dt.datetime, until: dt.datetime) -> Contrast:
    """One record per failing run (its latest ErrorLog of the group), and the succeeding runs' records
    from their ResponseTracking, in the same window (so that their counts compare)."""
    rows = (
        ErrorLog.objects.filter(
            fingerprint=group.fingerprint, occurred_at__gte=since, occurred_at__lte=until, run__isnull=False
        )
        .order_by("run_id", "-occurred_at", "-pk")
        .values_list("run_id", "context", "run__input")[: MAX_FAILING_INPUTS * 4]
    )
    by_run: dict[int, dict[str, Any]] = {}
    for run_id, context, run_input in rows:
        if run_id not in by_run and len(by_run) < MAX_FAILING_INPUTS:
            by_run[run_id] = _record_of((context or {}).get("facts"), run_input)
    contrast = Contrast(failing=list(by_run.values()))
    if not group.agent_name:
        return contrast
    succeeded = AgentRun.objects.filter(
        agent_name=group.agent_name, status=AgentRun.Status.SUCCEEDED, created_at__gte=since, created_at__lte=until
    )
    sample = list(succeeded.order_by("-created_at").values_list("tracking__facts", "input")[:MAX_SUCCEEDING_INPUTS])
    contrast.succeeding = [_record_of(recorded, run_input) for recorded, run_input in sample]
    contrast.succeeding_total = len(sample) if len(sample) < MAX_SUCCEEDING_INPUTS else succeeded.count()
    return contrast


def _known_paths(agent_name: str) -> Callable[[str], bool]:
    """Field paths of the agent's Facts (else Input) model: a condition names nothing else (an agent
    not registered in this process cannot be checked: its recorded paths are taken as they are)."""
    from agents import registry
    from agents.errors import UnknownAgent

    try:
        cls = registry.get(agent_name)
    except UnknownAgent:
        return lambda path: True
    facts, data = cls.facts_type(), cls.Input
    return lambda path: path_exists(facts, path, data)


def derive(group: ErrorGroup, *, since: dt.datetime, until: dt.datetime) -> Proposal | NoRule:
    """The rule for one group: derived from the runs' recorded facts, executable for a rules agent."""
    contrast = _contrast(group, since=since, until=until)
    outcome = propose(
        group,
        contrast.failing,
        contrast.succeeding,
        reads_prompts=reads_prompts(group.agent_name),
        known=_known_paths(group.agent_name),
    )
    if isinstance(outcome, Proposal) and outcome.condition and contrast.succeeding:
        # The matches before approval, scaled to the window: a rule never held out is measured on them.
        scale = contrast.succeeding_total / len(contrast.succeeding)
        sample = outcome.evidence.pop("matched_succeeding_sample", 0)
        outcome.evidence["matched_succeeding"] = round(sample * scale)
    return outcome


def _auto_approve_types() -> set[str]:
    return {t.strip() for t in str(settings.LEARNING_AUTO_APPROVE_TYPES).split(",") if t.strip()}


def note_no_rule(group: ErrorGroup, verdict: NoRule) -> ErrorGroupNote:
    """Say on the error group why nothing was proposed (the admin shows it with the errors)."""
    note, _ = ErrorGroupNote.objects.update_or_create(
        fingerprint=group.fingerprint,
        defaults={
            "agent_name": group.agent_name[:64],
            "failed_runs": group.occurrences,
            "reason": verdict.reason,
            "noted_at": clock.now(),
        },
    )
    return note


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
    """One recurring error with the rule derived for it (its text may still be reworded), or why none."""

    group: ErrorGroup
    proposal: Proposal | NoRule


@dataclass
class ExtractionPlan:
    groups_seen: int = 0
    planned: list[Planned] = field(default_factory=list)
    widenings: list[Widening] = field(default_factory=list)


def plan(*, now: dt.datetime | None = None) -> ExtractionPlan:
    """The reads of an extraction pass: recurring error groups and the rule derived for each."""
    until = now or clock.now()
    since = until - dt.timedelta(hours=int(settings.LEARNING_WINDOW_HOURS))
    groups = error_groups(since=since, until=until, threshold=min_occurrences())
    result = ExtractionPlan(groups_seen=len(groups))
    for group in groups:
        result.planned.append(Planned(group=group, proposal=derive(group, since=since, until=until)))
    result.widenings = plan_widenings(threshold=min_occurrences())
    return result


def apply(planned: ExtractionPlan) -> ExtractionResult:
    """The writes of an extraction pass: propose (and auto-approve) the planned rules, refresh every
    rule's evidence."""
    result = ExtractionResult(groups_seen=planned.groups_seen)
    auto = _auto_approve_types()
    for item in planned.planned:
        if isinstance(item.proposal, NoRule):
            result.not_learned.append(note_no_rule(item.group, item.proposal))
            continue
        rule = propose_rule(item.group, item.proposal)
        if rule is None:
            continue
        result.proposed.append(rule)
        if rule.rule_type in auto:
            approve_rule(rule=rule, user=None)
            result.auto_approved.append(rule)
    for widening in planned.widenings:
        with transaction.atomic():
            result.widened.append(widen(widening))
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
            if isinstance(item.proposal, NoRule):
                continue
            try:
                drafted = drafter(item.group, item.proposal).strip()
            except Exception as exc:  # the template text is a fine fallback; the log says so
                logger.warning("rule text drafting failed (%s); using the template", type(exc).__name__)
                drafted = ""
            if drafted:
                item.proposal.text = drafted[:2000]
    return apply(planned)
