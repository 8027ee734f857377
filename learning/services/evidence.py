"""Rule evidence: counters, confidence, lift, and automatic retirement of rules that do not help."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from learning.models import KnowledgeRule, RuleApplication
from learning.stats import beta_mean, lift
from smarter_team import clock

FOUR = Decimal("0.0001")


def _dec(value: float) -> Decimal:
    return Decimal(str(value)).quantize(FOUR)


def refresh_rules(*, rule_ids: Iterable[int] | None = None, retire: bool = True) -> list[KnowledgeRule]:
    """Recompute counters, confidence and lift of the rules from their closed applications.

    Idempotent (counts are rebuilt from RuleApplication rows, never incremented), so it may run after
    every run and again hourly. Returns the rules that were retired.
    """
    rules_qs = KnowledgeRule.objects.all()
    if rule_ids is not None:
        ids = sorted(set(rule_ids))
        if not ids:
            return []
        rules_qs = rules_qs.filter(pk__in=ids)
    rules = list(rules_qs)
    if not rules:
        return []
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    rows = (
        RuleApplication.objects.filter(rule_id__in=[r.pk for r in rules])
        .exclude(outcome=RuleApplication.Outcome.PENDING)
        .values("rule_id", "mode", "outcome")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["rule_id"]][(row["mode"], row["outcome"])] = row["n"]
    retired = []
    retire_after = int(settings.LEARNING_RETIRE_AFTER)
    for rule in rules:
        c = counts.get(rule.pk, {})
        ok, bad = RuleApplication.Outcome.SUCCESS, RuleApplication.Outcome.FAILURE
        applied_ok = c.get((RuleApplication.Mode.APPLIED, ok), 0)
        applied_n = applied_ok + c.get((RuleApplication.Mode.APPLIED, bad), 0)
        hold_bad = c.get((RuleApplication.Mode.HOLDOUT, bad), 0)
        hold_n = hold_bad + c.get((RuleApplication.Mode.HOLDOUT, ok), 0)
        rule.times_applied, rule.times_successful = applied_n, applied_ok
        rule.holdout_exposures, rule.holdout_failures = hold_n, hold_bad
        rule.confidence = _dec(beta_mean(applied_ok, applied_n))
        measured = lift(
            holdout_failures=hold_bad, holdout_n=hold_n, applied_failures=applied_n - applied_ok, applied_n=applied_n
        )
        if measured is None:
            rule.holdout_lift = rule.lift_low = rule.lift_high = None
        else:
            rule.holdout_lift, rule.lift_low, rule.lift_high = (
                _dec(measured.value),
                _dec(measured.low),
                _dec(measured.high),
            )
        # An update, not save(): measuring a rule does not change it, so updated_at (part of the
        # version every worker's rule cache compares) stays, and no worker reloads its rules.
        KnowledgeRule.objects.filter(pk=rule.pk).update(**{f: getattr(rule, f) for f in KnowledgeRule.EVIDENCE_FIELDS})
        if (
            retire
            and rule.status == KnowledgeRule.Status.ACTIVE
            and measured is not None
            and applied_n + hold_n >= retire_after
            and measured.value <= 0
        ):
            retire_rule(
                rule=rule,
                reason=(
                    f"automatic: lift {measured.value:+.3f} [{measured.low:+.3f}, {measured.high:+.3f}] "
                    f"is not positive after {applied_n + hold_n} exposures"
                ),
            )
            retired.append(rule)
    return retired


@transaction.atomic
def retire_rule(*, rule: KnowledgeRule, reason: str) -> KnowledgeRule:
    rule.retired_at = clock.now()
    rule.retired_reason = reason
    rule.transition_to(KnowledgeRule.Status.RETIRED, also=["retired_at", "retired_reason"])
    return rule
