"""agent_performance's work: per agent success/error rates, overall and before/after each rule."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Least

from agents.models import AgentRun
from learning.models import AgentLearning, ErrorLog, KnowledgeRule
from smarter_team import clock

FOUR = Decimal("0.0001")
RULE_WINDOW = dt.timedelta(days=7)
FINISHED = [AgentRun.Status.SUCCEEDED, AgentRun.Status.FAILED]


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(FOUR) if whole else None


def _delta(after: Decimal | None, before: Decimal | None) -> Decimal | None:
    return (after - before).quantize(FOUR) if after is not None and before is not None else None


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def _run_counts(since: dt.datetime, until: dt.datetime) -> dict[str, tuple[int, int]]:
    """agent -> (finished runs, succeeded runs) for runs finished in the period."""
    rows = (
        AgentRun.objects.filter(finished_at__gte=since, finished_at__lt=until, status__in=FINISHED)
        .values("agent_name")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(status=AgentRun.Status.SUCCEEDED)))
    )
    return {r["agent_name"]: (r["n"], r["ok"]) for r in rows}


def _error_counts(since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """agent -> failed runs with an error in the period (not ErrorLog rows)."""
    rows = (
        ErrorLog.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
        .exclude(agent_name="")
        .values("agent_name")
        .annotate(n=Count("run_id", distinct=True) + Count("id", filter=Q(run__isnull=True)))
    )
    return {r["agent_name"]: r["n"] for r in rows}


def _save(*, agent: str, area: str, day: dt.date, rule: KnowledgeRule | None, **values: object) -> AgentLearning:
    row, _ = AgentLearning.objects.update_or_create(
        agent_name=agent,
        learning_area=area[:128],
        period_start=day,
        defaults={"period_end": day, "rule": rule, **values},
    )
    return row


def overall(*, day: dt.date) -> list[AgentLearning]:
    """One 'overall' row per agent: the day against the day before."""
    start, end = _day_bounds(day)
    prev_start = start - dt.timedelta(days=1)
    runs_after, runs_before = _run_counts(start, end), _run_counts(prev_start, start)
    errors_after, errors_before = _error_counts(start, end), _error_counts(prev_start, start)
    rows = []
    for agent in sorted(set(runs_after) | set(errors_after)):
        n_after, ok_after = runs_after.get(agent, (0, 0))
        n_before, ok_before = runs_before.get(agent, (0, 0))
        before, after = _rate(ok_before, n_before), _rate(ok_after, n_after)
        rows.append(
            _save(
                agent=agent,
                area="overall",
                day=day,
                rule=None,
                runs_before=n_before,
                runs_after=n_after,
                errors_before=errors_before.get(agent, 0),
                errors_after=errors_after.get(agent, 0),
                success_rate_before=before,
                success_rate_after=after,
                improvement_delta=_delta(after, before),
            )
        )
    return rows


def _count_of(queryset: Any, column: str = "id", *, distinct: bool = False) -> Subquery:
    """COUNT over a correlated queryset, as a scalar subquery (one query for every rule at once)."""
    counted = queryset.order_by().annotate(_g=Value(1)).values("_g").annotate(n=Count(column, distinct=distinct))
    return Subquery(counted.values("n")[:1], output_field=IntegerField())


def per_rule(*, day: dt.date) -> list[AgentLearning]:
    """For every approved rule with a fingerprint: that error's rate in the week before approval vs since.

    'Success' here is a run of the agent not failing with the rule's fingerprint (1 - recurrence):
    failed runs are counted, not ErrorLog rows (a run's retries are one failure). Two queries
    whatever the number of rules: one read with a subquery per figure, one upsert.
    """
    _, end = _day_bounds(day)
    runs = AgentRun.objects.filter(agent_name=OuterRef("agent_name"))
    errors = ErrorLog.objects.filter(fingerprint=OuterRef("fingerprint"), run__isnull=False)
    start_before = ExpressionWrapper(OuterRef("approved_at") - RULE_WINDOW, output_field=DateTimeField())
    approved = OuterRef("approved_at")
    end_after = OuterRef("after_end")
    rules = list(
        KnowledgeRule.objects.filter(approved_at__isnull=False, approved_at__lt=end)
        .exclude(fingerprint="")
        .exclude(agent_name="")
        .annotate(
            after_end=Least(
                ExpressionWrapper(F("approved_at") + RULE_WINDOW, output_field=DateTimeField()),
                Value(end, output_field=DateTimeField()),
            )
        )
        .annotate(
            runs_before_n=_count_of(runs.filter(created_at__gte=start_before, created_at__lt=approved)),
            runs_after_n=_count_of(runs.filter(created_at__gte=approved, created_at__lt=end_after)),
            errors_before_n=_count_of(
                errors.filter(occurred_at__gte=start_before, occurred_at__lt=approved), "run_id", distinct=True
            ),
            errors_after_n=_count_of(
                errors.filter(occurred_at__gte=approved, occurred_at__lt=end_after), "run_id", distinct=True
            ),
        )
    )
    rows = []
    now = clock.now()
    for rule in rules:
        n_before, n_after = rule.runs_before_n or 0, rule.runs_after_n or 0
        e_before, e_after = rule.errors_before_n or 0, rule.errors_after_n or 0
        before = _rate(max(n_before - e_before, 0), n_before)
        after = _rate(max(n_after - e_after, 0), n_after)
        rows.append(
            AgentLearning(
                agent_name=rule.agent_name,
                learning_area=f"rule:{rule.pk}",
                period_start=day,
                period_end=day,
                rule=rule,
                runs_before=n_before,
                runs_after=n_after,
                errors_before=e_before,
                errors_after=e_after,
                success_rate_before=before,
                success_rate_after=after,
                improvement_delta=_delta(after, before),
                created_at=now,
                updated_at=now,
            )
        )
    if not rows:
        return []
    return AgentLearning.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["agent_name", "learning_area", "period_start"],
        update_fields=[
            "period_end",
            "rule",
            "runs_before",
            "runs_after",
            "errors_before",
            "errors_after",
            "success_rate_before",
            "success_rate_after",
            "improvement_delta",
            "updated_at",
        ],
    )


def per_fingerprint(*, day: dt.date, threshold: int = 3) -> list[AgentLearning]:
    """Recurring errors without a rule yet: their count the day before vs the day (area 'fp:<prefix>')."""
    start, end = _day_bounds(day)
    prev = start - dt.timedelta(days=1)
    ruled = KnowledgeRule.objects.exclude(fingerprint="").values("fingerprint")
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"before": 0, "after": 0})
    rows_q = (
        ErrorLog.objects.filter(occurred_at__gte=prev, occurred_at__lt=end)
        .exclude(agent_name="")
        .exclude(fingerprint__in=ruled)
        .values("agent_name", "fingerprint")
        .annotate(
            # Failed runs, not rows: a run's retries (and the client's row merged with the runtime's)
            # are one failure; a failure outside any run counts once.
            after=Count("run_id", filter=Q(occurred_at__gte=start), distinct=True)
            + Count("id", filter=Q(occurred_at__gte=start, run__isnull=True)),
            before=Count("run_id", filter=Q(occurred_at__lt=start), distinct=True)
            + Count("id", filter=Q(occurred_at__lt=start, run__isnull=True)),
        )
    )
    for r in rows_q:
        counts[(r["agent_name"], r["fingerprint"])] = {"before": r["before"], "after": r["after"]}
    runs_after, runs_before = _run_counts(start, end), _run_counts(prev, start)
    out = []
    for (agent, fp), c in sorted(counts.items()):
        if max(c["before"], c["after"]) < threshold:
            continue
        n_before, n_after = runs_before.get(agent, (0, 0))[0], runs_after.get(agent, (0, 0))[0]
        before = _rate(max(n_before - c["before"], 0), n_before)
        after = _rate(max(n_after - c["after"], 0), n_after)
        out.append(
            _save(
                agent=agent,
                area=f"fp:{fp[:16]}",
                day=day,
                rule=None,
                runs_before=n_before,
                runs_after=n_after,
                errors_before=c["before"],
                errors_after=c["after"],
                success_rate_before=before,
                success_rate_after=after,
                improvement_delta=_delta(after, before),
            )
        )
    return out


def compute(*, day: dt.date | None = None) -> list[AgentLearning]:
    """All AgentLearning rows of a day (default: yesterday). Idempotent: re-running updates them."""
    target = day or (clock.now() - dt.timedelta(days=1)).date()
    return [*overall(day=target), *per_rule(day=target), *per_fingerprint(day=target)]
