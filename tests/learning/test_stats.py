from __future__ import annotations

import pytest

from learning.stats import beta_mean, in_holdout, lift, unit_hash, wilson


def test_beta_mean_uses_a_uniform_prior() -> None:
    assert beta_mean(0, 0) == 0.5
    assert beta_mean(9, 10) == pytest.approx(10 / 12)
    assert beta_mean(0, 10) == pytest.approx(1 / 12)


def test_wilson_interval_contains_the_rate_and_stays_in_0_1() -> None:
    low, high = wilson(0, 10)
    assert low == 0.0 and 0 < high < 0.35
    low, high = wilson(10, 10)
    assert 0.65 < low < 1 and high == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_lift_is_failure_rate_without_minus_with() -> None:
    measured = lift(holdout_failures=9, holdout_n=10, applied_failures=1, applied_n=90)
    assert measured is not None
    assert measured.value == pytest.approx(0.9 - 1 / 90)
    assert measured.low < measured.value < measured.high
    assert measured.low > 0.4  # a clear win is clearly positive


def test_lift_interval_straddles_zero_when_rule_does_nothing() -> None:
    measured = lift(holdout_failures=3, holdout_n=10, applied_failures=27, applied_n=90)
    assert measured is not None
    assert measured.value == pytest.approx(0.0)
    assert measured.low < 0 < measured.high


def test_lift_needs_both_arms() -> None:
    assert lift(holdout_failures=0, holdout_n=0, applied_failures=0, applied_n=5) is None
    assert lift(holdout_failures=1, holdout_n=1, applied_failures=0, applied_n=0) is None


def test_holdout_is_deterministic_and_close_to_the_rate() -> None:
    picks = [in_holdout(rule_id=7, run_id=run, rate=0.1) for run in range(5000)]
    assert picks == [in_holdout(rule_id=7, run_id=run, rate=0.1) for run in range(5000)]
    assert 0.08 < sum(picks) / len(picks) < 0.12
    assert not any(in_holdout(rule_id=7, run_id=run, rate=0.0) for run in range(100))


def test_unit_hash_is_in_unit_interval() -> None:
    assert all(0 <= unit_hash(i) < 1 for i in range(100))
