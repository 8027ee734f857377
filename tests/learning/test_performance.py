from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from learning.models import AgentLearning
from learning.services.performance import compute
from tests.factories.learning import ErrorLogFactory, KnowledgeRuleFactory, make_run

pytestmark = pytest.mark.django_db


def test_overall_compares_the_day_with_the_day_before(frozen_clock) -> None:
    day = frozen_clock.now.date() - dt.timedelta(days=1)
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    for status in ("succeeded", "failed", "failed", "failed"):
        make_run(status=status, finished_at=at - dt.timedelta(days=1))
    for status in ("succeeded", "succeeded", "succeeded", "failed"):
        make_run(status=status, finished_at=at)
    compute(day=day)
    row = AgentLearning.objects.get(learning_area="overall")
    assert (row.runs_before, row.runs_after) == (4, 4)
    assert (row.success_rate_before, row.success_rate_after) == (Decimal("0.2500"), Decimal("0.7500"))
    assert row.improvement_delta == Decimal("0.5000")
    compute(day=day)  # idempotent
    assert AgentLearning.objects.count() == 1


def test_per_rule_row_measures_the_error_before_and_after_approval(frozen_clock) -> None:
    approved = frozen_clock.now - dt.timedelta(days=3)
    rule = KnowledgeRuleFactory.create(approved_at=approved, fingerprint="a" * 64)
    for i in range(10):
        before = make_run(created_at=approved - dt.timedelta(hours=i + 1))
        make_run(created_at=approved + dt.timedelta(hours=i + 1))
        if i < 4:
            ErrorLogFactory.create(fingerprint=rule.fingerprint, run=before, occurred_at=before.created_at)
    compute(day=frozen_clock.now.date() - dt.timedelta(days=1))
    row = AgentLearning.objects.get(learning_area=f"rule:{rule.pk}")
    assert row.rule == rule and (row.errors_before, row.errors_after) == (4, 0)
    assert (row.success_rate_before, row.success_rate_after) == (Decimal("0.6000"), Decimal("1.0000"))
    assert row.improvement_delta == Decimal("0.4000")


def test_recurring_errors_without_a_rule_get_a_fingerprint_row(frozen_clock) -> None:
    day = frozen_clock.now.date() - dt.timedelta(days=1)
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    for _ in range(3):
        ErrorLogFactory.create(fingerprint="b" * 64, occurred_at=at, message="same")
    compute(day=day)
    assert AgentLearning.objects.filter(learning_area="fp:" + "b" * 16, errors_after=3).exists()
