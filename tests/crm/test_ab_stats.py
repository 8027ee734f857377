"""A/B statistics: planned sample sizes, no winner before them, few false winners, enough power."""

from __future__ import annotations

import pytest

from crm.services.ab_stats import Arm, decide, required_sample_size, simulate, simulate_peeking, two_proportion_p_value


def test_the_sample_size_for_a_two_point_lift_on_five_percent_is_about_two_and_a_half_thousand() -> None:
    assert required_sample_size(0.05, 0.02, power=0.8) == 2213  # the textbook figure for these rates
    assert required_sample_size(0.05, 0.02) > 2213  # planned with a margin
    with pytest.raises(ValueError):
        required_sample_size(0.05, 0)


def test_no_winner_is_named_before_every_arm_reached_the_planned_size() -> None:
    arms = [Arm("A", 100, 2), Arm("B", 100, 30)]  # a huge early lead
    verdict = decide(arms, planned_n=2000)
    assert verdict.winner is None and "keep testing" in verdict.reason


def test_a_real_difference_at_the_planned_size_names_its_winner() -> None:
    verdict = decide([Arm("A", 2500, 125), Arm("B", 2500, 190)], planned_n=2500)
    assert verdict.winner == "B" and verdict.p_values["B"] < 0.05


def test_more_challengers_need_a_stronger_result_each() -> None:
    arms = [Arm("A", 2500, 125), Arm("B", 2500, 155)]
    p = two_proportion_p_value(125, 2500, 155, 2500)
    assert 0.025 < p < 0.1  # would pass alone at 0.1, not after correcting for three challengers
    assert decide([*arms, Arm("C", 2500, 125), Arm("D", 2500, 126)], planned_n=2500, alpha=0.1).winner is None


def test_degenerate_counts_never_crash() -> None:
    assert two_proportion_p_value(0, 0, 0, 10) == 1.0
    assert two_proportion_p_value(0, 10, 0, 10) == 1.0
    assert decide([Arm("A", 0, 0)], planned_n=1).winner is None


def test_on_simulated_campaigns_false_winners_stay_rare_and_real_lifts_are_found() -> None:
    n = required_sample_size(0.05, 0.02)
    aa = simulate(p_a=0.05, p_b=0.05, n=n, trials=300, seed=11)
    assert aa.challenger_won <= 0.05 and aa.any_winner <= 0.08  # around alpha; seeded, so it cannot flake
    ab = simulate(p_a=0.05, p_b=0.07, n=n, trials=300, seed=12)
    assert ab.challenger_won >= 0.8


def test_peeking_would_multiply_false_winners() -> None:
    assert simulate_peeking(p=0.05, n=2000, looks=10, trials=200, seed=13) > 0.1
