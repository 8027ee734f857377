"""Rule evidence: counters, precision, lift with their intervals, and retirement of rules that do not help.

Two kinds of rule, measured differently:

- a rule that *skips, blocks or escalates* (validate, avoid, never, escalate) stops the work it
  matches, so its applied arm shows nothing: those runs did not fail, but they did not succeed
  either. Its worth is what the stopped work would have done, seen in its holdout: the *precision*
  (share of matched runs that would have failed) with its interval, the successes it threw away,
  and the net lift (failures avoided minus successes thrown away). A rule that is never held out
  (it guards acts reaching people or moving money) is measured on the failures and successes its
  condition matched before approval (``action_params["evidence"]``);
- a rule that *changes how the work is done* (retry, always) is measured by the failure rates of
  its two arms (lift, Newcombe interval).

A rule is retired on the interval, never on a point estimate: only when the whole interval says
it does harm, and only after a minimum number of held-out runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from learning.models import KnowledgeRule, RuleApplication
from learning.stats import Worth, beta_mean, lift, skip_worth
from smarter_team import clock
from smarter_team.db import in_chunks

FOUR = Decimal("0.0001")
STOPPING_TYPES = frozenset(
    {
        KnowledgeRule.RuleType.VALIDATE,
        KnowledgeRule.RuleType.AVOID,
        KnowledgeRule.RuleType.NEVER,
        KnowledgeRule.RuleType.ESCALATE,
    }
)


def _dec(value: float) -> Decimal:
    return Decimal(str(value)).quantize(FOUR)


def min_holdout() -> int:
    return max(1, int(getattr(settings, "LEARNING_MIN_HOLDOUT", 20)))


def min_precision() -> float:
    return float(getattr(settings, "LEARNING_MIN_PRECISION", 0.5))


def stops_work(rule: KnowledgeRule) -> bool:
    return rule.rule_type in STOPPING_TYPES


def worth_of(rule: KnowledgeRule, *, holdout_failures: int, holdout_n: int, applied_n: int) -> Worth | None:
    """The precision-based worth of a stopping rule: its holdout, or (never held out) the matches
    before approval."""
    if holdout_n > 0:
        return skip_worth(
            would_fail=holdout_failures,
            matched=holdout_n,
            applied_n=applied_n,
            min_precision=min_precision(),
            min_holdout=min_holdout(),
        )
    before: dict[str, Any] = (rule.action_params or {}).get("evidence") or {}
    failed, succeeded = before.get("matched_failing"), before.get("matched_succeeding")
    if not isinstance(failed, int | float) or not isinstance(succeeded, int | float):
        return None
    return skip_worth(
        would_fail=round(failed),
        matched=round(failed + succeeded),
        applied_n=applied_n,
        min_precision=min_precision(),
        min_holdout=min_holdout(),
    )


def refresh_rules(*, rule_ids: Iterable[int] | None = None, retire: bool = True) -> list[KnowledgeRule]:
    """Recompute counters, confidence, precision and lift of the rules from their applications.

    Idempotent (counts are rebuilt from RuleApplication rows, never incremented), so it may run after
    every run and again hourly. Returns the rules that were retired.
    """
    if rule_ids is None:
        rules = list(KnowledgeRule.objects.all())
    else:  # in chunks, as the counts below: proposed rules pile up until someone reviews them
        rules = [r for ids in in_chunks(sorted(set(rule_ids))) for r in KnowledgeRule.objects.filter(pk__in=ids)]
    if not rules:
        return []
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for ids in in_chunks(r.pk for r in rules):
        rows = (
            RuleApplication.objects.filter(rule_id__in=ids).values("rule_id", "mode", "outcome").annotate(n=Count("id"))
        )
        for row in rows:
            counts[row["rule_id"]][(row["mode"], row["outcome"])] = row["n"]
    retired = []
    for rule in rules:
        reason = _measure(rule, counts.get(rule.pk, {}))
        # An update, not save(): measuring a rule does not change it, so updated_at (part of the
        # version every worker's rule cache compares) stays, and no worker reloads its rules.
        KnowledgeRule.objects.filter(pk=rule.pk).update(**{f: getattr(rule, f) for f in KnowledgeRule.EVIDENCE_FIELDS})
        if retire and reason and rule.status == KnowledgeRule.Status.ACTIVE:
            retire_rule(rule=rule, reason=f"automatic: {reason}")
            retired.append(rule)
    return retired


def _measure(rule: KnowledgeRule, c: dict[tuple[str, str], int]) -> str:
    """Set the rule's evidence fields from its application counts; the reason to retire it, or ""."""
    applied, holdout = RuleApplication.Mode.APPLIED, RuleApplication.Mode.HOLDOUT
    ok, bad = RuleApplication.Outcome.SUCCESS, RuleApplication.Outcome.FAILURE
    hold_bad = c.get((holdout, bad), 0)
    hold_n = hold_bad + c.get((holdout, ok), 0)
    rule.holdout_exposures, rule.holdout_failures = hold_n, hold_bad
    if stops_work(rule):
        applied_n = sum(n for (mode, _), n in c.items() if mode == applied)
        worth = worth_of(rule, holdout_failures=hold_bad, holdout_n=hold_n, applied_n=applied_n)
        rule.times_applied = applied_n
        if worth is None:
            rule.times_successful = 0
            rule.confidence = _dec(0.5)
            rule.precision = rule.precision_low = rule.precision_high = rule.successes_lost = None
            rule.holdout_lift = rule.lift_low = rule.lift_high = None
            return ""
        # Estimated: the stopped runs that would have failed (the holdout's share of them).
        rule.times_successful = min(applied_n, round(worth.failures_avoided))
        rule.confidence = _dec(beta_mean(round(worth.precision * worth.holdout_n), worth.holdout_n))
        rule.precision, rule.precision_low, rule.precision_high = (
            _dec(worth.precision),
            _dec(worth.low),
            _dec(worth.high),
        )
        rule.successes_lost = Decimal(str(round(worth.successes_lost, 2)))
        rule.holdout_lift, rule.lift_low, rule.lift_high = _dec(worth.lift), _dec(worth.lift_low), _dec(worth.lift_high)
        if worth.verdict != "bad":
            return ""
        return (
            f"precision {worth.precision:.3f} [{worth.low:.3f}, {worth.high:.3f}] is below "
            f"{min_precision():.2f} over {worth.holdout_n} held-out runs: of the runs it stops, more would have "
            f"succeeded than failed (net lift {worth.lift:+.3f} [{worth.lift_low:+.3f}, {worth.lift_high:+.3f}], "
            f"about {worth.successes_lost:.0f} successes thrown away)"
        )
    applied_ok = c.get((applied, ok), 0)
    applied_n = applied_ok + c.get((applied, bad), 0)
    rule.times_applied, rule.times_successful = applied_n, applied_ok
    rule.confidence = _dec(beta_mean(applied_ok, applied_n))
    rule.precision = rule.precision_low = rule.precision_high = rule.successes_lost = None
    measured = lift(
        holdout_failures=hold_bad, holdout_n=hold_n, applied_failures=applied_n - applied_ok, applied_n=applied_n
    )
    if measured is None:
        rule.holdout_lift = rule.lift_low = rule.lift_high = None
        return ""
    rule.holdout_lift, rule.lift_low, rule.lift_high = _dec(measured.value), _dec(measured.low), _dec(measured.high)
    if hold_n < min_holdout() or measured.high >= 0:
        return ""
    return (
        f"lift {measured.value:+.3f} [{measured.low:+.3f}, {measured.high:+.3f}] is below zero over its whole "
        f"interval ({hold_n} held-out runs, {applied_n} applied): the rule makes failures more frequent"
    )


@transaction.atomic
def retire_rule(*, rule: KnowledgeRule, reason: str) -> KnowledgeRule:
    rule.retired_at = clock.now()
    rule.retired_reason = reason
    rule.transition_to(KnowledgeRule.Status.RETIRED, also=["retired_at", "retired_reason"])
    return rule
