"""Applying active rules to runs (before the work and on failure), with a measured holdout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from learning import conditions
from learning.facts_record import record_facts
from learning.fingerprint import error_type_of
from learning.models import ErrorLog, KnowledgeRule, RuleApplication
from learning.selectors import BEFORE_TYPES, FAILURE_TYPES, active_rules
from learning.services.errors import FACTS_ATTR, RECORD_ATTR, fingerprint_of
from learning.services.evidence import refresh_rules
from learning.services.rule_cache import rules_for_run
from learning.services.sensitivity import escalation_group, guards_people_or_money, reads_prompts
from learning.services.tracking import tracking_statement
from learning.stats import in_holdout

if TYPE_CHECKING:
    from agents.models import AgentRun

SKIP, BLOCK = "skip", "block"
# validate/avoid skip a known-bad input quietly; never hands it to a human (action_params["effect"] overrides).
DEFAULT_EFFECT: dict[str, str] = {
    KnowledgeRule.RuleType.VALIDATE: SKIP,
    KnowledgeRule.RuleType.AVOID: SKIP,
    KnowledgeRule.RuleType.NEVER: BLOCK,
}
EFFECT_LABEL = {SKIP: "skipped", BLOCK: "blocked"}


@dataclass
class BeforeRunDecision:
    prompt_rules: list[str] = field(default_factory=list)
    blocked: bool = False
    effect: str = ""  # "skip" | "block" when blocked
    reason: str = ""
    applications: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FailurePlan:
    retry_delays: list[int] | None = None
    max_attempts: int | None = None
    escalate: bool = False
    reason: str = ""
    group: str = "operator"  # who the escalation goes to: the escalate rule's target
    applications: list[dict[str, Any]] = field(default_factory=list)


def _holdout_rate() -> float:
    return float(settings.LEARNING_HOLDOUT_RATE)


def rule_effect(rule: KnowledgeRule) -> str:
    effect = (rule.action_params or {}).get("effect")
    if effect in (SKIP, BLOCK):
        return str(effect)
    return DEFAULT_EFFECT.get(rule.rule_type, SKIP)


def _record(run: AgentRun, entries: list[tuple[KnowledgeRule, str, str, str, str]]) -> list[dict[str, Any]]:
    """RuleApplication rows and run.learnings_applied entries; (rule, mode, stage, effect, outcome).

    A retried run passes here again: the unique (rule, run, stage) keeps one row, and the JSON list is
    not appended twice.
    """
    if not entries or run.pk is None:
        return []
    RuleApplication.objects.bulk_create(
        [
            RuleApplication(rule=rule, run_id=run.pk, mode=mode, stage=stage, effect=effect, outcome=outcome)
            for rule, mode, stage, effect, outcome in entries
        ],
        ignore_conflicts=True,
    )
    records = [
        {"rule": rule.pk, "type": rule.rule_type, "mode": mode, "stage": stage, "effect": effect}
        for rule, mode, stage, effect, _ in entries
    ]
    existing = list(run.learnings_applied or [])
    seen = {(e.get("rule"), e.get("stage")) for e in existing if isinstance(e, dict)}
    new = [r for r in records if (r["rule"], r["stage"]) not in seen]
    if new:
        run.learnings_applied = existing + new
        type(run).objects.filter(pk=run.pk).update(learnings_applied=run.learnings_applied)
    return records


def _block_overridden(run: AgentRun) -> bool:
    from agents.models import Escalation

    return (
        run.pk is not None
        and Escalation.objects.filter(
            run_id=run.pk, kind=Escalation.Kind.POLICY, status=Escalation.Status.APPROVED
        ).exists()
    )


def before_run(*, run: AgentRun | None, data: dict[str, Any], facts: Any = None) -> BeforeRunDecision:
    """Prompt texts of 'always' rules (LLM agents only) and the verdict of the validate/avoid/never
    conditions on the input and the run's loaded facts (``lead.company.domain``: agents/facts.py).

    The facts are remembered on the run: its outcome records them (a failure on its ErrorLog, a
    success on its ResponseTracking) for extraction to derive conditions from.

    The rules come from the per-process cache: no query at all for an agent without rules when the
    run's claim read the rules' version (the runtime's claim does).
    """
    if run is None:
        return BeforeRunDecision()
    setattr(run, FACTS_ATTR, facts)
    # The record is taken now, as the guards see the facts: act then changes the same objects (the
    # lead gets its email), and a success recorded afterwards would differ from a failure by what
    # the run itself did, which extraction would mistake for the cause.
    setattr(run, RECORD_ATTR, record_facts(data, facts))
    rules = [rule for rule in rules_for_run(run) if rule.rule_type in BEFORE_TYPES]
    if not rules:
        return BeforeRunDecision()
    from agents.facts import FactsView

    with transaction.atomic():
        return _apply_before(run, rules, FactsView(data, facts))


def _held_out(run: AgentRun, rule: KnowledgeRule, rate: float) -> bool:
    """Whether this run works as if the rule did not exist (to measure it). Never for a rule that
    guards acts reaching people or moving money: its worth comes from the failures before approval."""
    if run.pk is None or guards_people_or_money(run.agent_name) or (rule.action_params or {}).get("never_hold_out"):
        return False
    return in_holdout(rule_id=rule.pk, run_id=run.pk, rate=rate)


def prompt_rules_for(run: AgentRun) -> list[str]:
    """The prompt texts this run's brain may see: its agent's active 'always' rules, minus those the
    run is held out of (a Message Batch asks for many runs at once: each gets its own list)."""
    if not reads_prompts(run.agent_name):
        return []
    rate = _holdout_rate()
    texts = {
        rule.text.strip()
        for rule in rules_for_run(run)
        if rule.rule_type == KnowledgeRule.RuleType.ALWAYS and rule.text.strip() and not _held_out(run, rule, rate)
    }
    return sorted(texts)


def _apply_before(run: AgentRun, rules: list[KnowledgeRule], data: Mapping[str, Any]) -> BeforeRunDecision:
    decision = BeforeRunDecision()
    rate = _holdout_rate()
    prompts_read = reads_prompts(run.agent_name)
    entries: list[tuple[KnowledgeRule, str, str, str, str]] = []
    prompt: set[str] = set()
    blocking: list[tuple[KnowledgeRule, str]] = []
    pending, success = RuleApplication.Outcome.PENDING, RuleApplication.Outcome.SUCCESS
    applied, holdout = RuleApplication.Mode.APPLIED, RuleApplication.Mode.HOLDOUT
    for rule in rules:
        if rule.rule_type == KnowledgeRule.RuleType.ALWAYS and not prompts_read:
            continue  # a rules agent reads no prompt: the text cannot act, and is not an exposure
        held = _held_out(run, rule, rate)
        if rule.rule_type == KnowledgeRule.RuleType.ALWAYS:
            if held:
                entries.append((rule, holdout, "before", "prompt", pending))
            elif rule.text.strip():
                prompt.add(rule.text.strip())
                entries.append((rule, applied, "before", "prompt", pending))
            continue
        if not conditions.evaluate(rule.condition, data):
            continue  # the rule does not concern this input: not an exposure
        effect = rule_effect(rule)
        if held:
            # The run goes ahead as if the rule did not exist; its outcome measures the rule.
            entries.append((rule, holdout, "before", EFFECT_LABEL[effect], pending))
        else:
            # A skipped or blocked run did not make the known mistake: the application is a success at once.
            entries.append((rule, applied, "before", EFFECT_LABEL[effect], success))
            blocking.append((rule, effect))
    if any(effect == BLOCK for _, effect in blocking) and _block_overridden(run):
        # An operator approved the escalation this rule raised for this run: let it go ahead.
        overridden = {rule.pk for rule, effect in blocking if effect == BLOCK}
        blocking = [(rule, effect) for rule, effect in blocking if effect != BLOCK]
        entries = [e for e in entries if e[0].pk not in overridden]
    if blocking:
        # The run will not work: no prompt is used. The rules that stopped it are recorded, and so
        # are the condition rules this run is held out of: as if they did not exist, it would still
        # have been stopped (by the others), which is their honest marginal worth here. Dropping
        # those exposures would keep exactly the runs other rules catch out of their holdout.
        blocking_ids = {rule.pk for rule, _ in blocking}
        entries = [
            e
            for e in entries
            if (e[0].pk in blocking_ids and e[1] == applied) or (e[1] == holdout and e[3] != "prompt")
        ]
        prompt.clear()
        decision.blocked = True
        decision.effect = BLOCK if any(effect == BLOCK for _, effect in blocking) else SKIP
        decision.reason = "; ".join(
            f"rule #{rule.pk} ({rule.rule_type}): {rule.text.strip() or conditions.describe(rule.condition)}"
            for rule, _ in blocking
        )
    decision.prompt_rules = sorted(prompt)
    decision.applications = _record(run, entries)
    if blocking:
        refresh_rules(rule_ids=[rule.pk for rule, _ in blocking])
    return decision


def _fingerprint(run: AgentRun | None, error: ErrorLog | BaseException | str) -> str:
    if isinstance(error, ErrorLog):
        return error.fingerprint
    if isinstance(error, str):
        return error
    if run is not None and run.pk is not None:
        logged = (
            ErrorLog.objects.filter(run_id=run.pk, error_type=error_type_of(error)[:128])
            .order_by("-occurred_at", "-pk")
            .values_list("fingerprint", flat=True)
            .first()
        )
        if logged:
            return logged
    return fingerprint_of(agent_name=run.agent_name if run is not None else "", exc=error)


@transaction.atomic
def on_failure(*, run: AgentRun | None, error: ErrorLog | BaseException | str) -> FailurePlan:
    """What the learned retry/escalate rules say about this failure (error: an ErrorLog, exception or fingerprint)."""
    plan = FailurePlan()
    if run is None:
        return plan  # an integration failure outside a run: nothing to retry or escalate here
    fp = _fingerprint(run, error)
    rules = list(active_rules(agent_name=run.agent_name, rule_types=FAILURE_TYPES).filter(fingerprint=fp))
    if not rules:
        return plan
    rate = _holdout_rate()
    entries: list[tuple[KnowledgeRule, str, str, str, str]] = []
    applied, holdout = RuleApplication.Mode.APPLIED, RuleApplication.Mode.HOLDOUT
    pending, success = RuleApplication.Outcome.PENDING, RuleApplication.Outcome.SUCCESS
    reasons = []
    for rule in rules:
        held = _held_out(run, rule, rate)
        params = rule.action_params or {}
        if rule.rule_type == KnowledgeRule.RuleType.ESCALATE:
            if held:
                entries.append((rule, holdout, "failure", "escalated", pending))
                continue
            # Handed to a human without futile retries. Not a success by itself: the evidence
            # counts only the holdout (would the retries have failed?) for an escalate rule.
            entries.append((rule, applied, "failure", "escalated", success))
            if not plan.escalate:
                plan.group = escalation_group(params)
            plan.escalate = True
            reasons.append(f"rule #{rule.pk} (escalate): {rule.text.strip()}")
            continue
        if held:
            entries.append((rule, holdout, "failure", "retry", pending))
            continue
        delays = [int(d) for d in params.get("delays", []) if isinstance(d, int | float) and d >= 0]
        attempts = params.get("max_attempts")
        if plan.retry_delays is None and delays:
            plan.retry_delays = delays
        if plan.max_attempts is None and isinstance(attempts, int) and attempts > 0:
            plan.max_attempts = attempts
        entries.append((rule, applied, "failure", "retry", pending))
        reasons.append(f"rule #{rule.pk} (retry): {rule.text.strip()}")
    if plan.escalate:
        # Escalation wins over retrying: a human looks at it now.
        plan.retry_delays, plan.max_attempts = None, None
    plan.reason = "; ".join(reasons)
    plan.applications = _record(run, entries)
    return plan


def after_run(*, run: AgentRun | None, succeeded: bool) -> None:
    """Close the run's pending rule applications and track its response.

    A run that is queued again for a retry is not finished: its applications stay pending so a later
    success counts as one. Inside the caller's transaction (the runtime saves the outcome in the same
    one) no savepoint is taken: the outcome and its tracking commit together or not at all.
    """
    if run is None or run.pk is None or str(run.status) == "queued":
        return
    with transaction.atomic(savepoint=False):
        # Every application is recorded with its entry in run.learnings_applied (same transaction):
        # a run without entries has no rows to close, and the lookup is skipped.
        if run.learnings_applied:
            _close_applications(run, succeeded)
        statement = tracking_statement(run=run, succeeded=succeeded)
        if statement is not None:
            with connection.cursor() as cursor:
                cursor.execute(*statement)


def after_run_statement(*, run: AgentRun, succeeded: bool) -> tuple[str, list[Any]] | None:
    """``after_run`` as one SQL statement (to run with the outcome's own, in one round trip), when
    that is all it would write: no rule applications to close and a response to track. None: call
    ``after_run``."""
    if run.pk is None or str(run.status) == "queued" or run.learnings_applied:
        return None
    return tracking_statement(run=run, succeeded=succeeded)


def _close_applications(run: AgentRun, succeeded: bool) -> None:
    pending = RuleApplication.objects.filter(run_id=run.pk, outcome=RuleApplication.Outcome.PENDING)
    rule_ids = list(pending.values_list("rule_id", flat=True))
    if not rule_ids:
        return
    if succeeded:
        pending.update(outcome=RuleApplication.Outcome.SUCCESS)
    else:
        # A rule answers one mistake (its fingerprint): the run failing for another reason is not the
        # rule's failure. Rules without a fingerprint (an operator's own) answer for any failure.
        seen = ErrorLog.objects.filter(run_id=run.pk).values("fingerprint")
        missed = Q(rule__fingerprint="") | Q(rule__fingerprint__in=seen)
        pending.filter(missed).update(outcome=RuleApplication.Outcome.FAILURE)
        pending.update(outcome=RuleApplication.Outcome.SUCCESS)
    refresh_rules(rule_ids=rule_ids)
