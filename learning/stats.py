"""Evidence arithmetic for rules: Beta posterior confidence and lift with a Newcombe-Wilson interval.

Pure functions (no Django) so the numbers are easy to test and to reuse in the bench.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def beta_mean(successes: int, trials: int, *, prior_a: float = 1.0, prior_b: float = 1.0) -> float:
    """Posterior mean of a Beta(prior_a, prior_b) prior after ``successes`` in ``trials``."""
    failures = max(0, trials - successes)
    return (successes + prior_a) / (successes + failures + prior_a + prior_b)


def wilson(failures: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well behaved at 0 and 1 and for small n)."""
    if n <= 0:
        return (0.0, 1.0)
    p = failures / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Lift:
    """Failure rate without the rule minus failure rate with it: positive means the rule helps."""

    value: float
    low: float
    high: float
    holdout_rate: float
    applied_rate: float


def lift(*, holdout_failures: int, holdout_n: int, applied_failures: int, applied_n: int) -> Lift | None:
    """Difference of failure rates with Newcombe's hybrid score (method 10) 95% interval; None without data."""
    if holdout_n <= 0 or applied_n <= 0:
        return None
    p1, p2 = holdout_failures / holdout_n, applied_failures / applied_n
    l1, u1 = wilson(holdout_failures, holdout_n)
    l2, u2 = wilson(applied_failures, applied_n)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Lift(value=d, low=max(-1.0, low), high=min(1.0, high), holdout_rate=p1, applied_rate=p2)


def unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts (same run, same rule -> same draw, in every process)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(*, rule_id: int, run_id: int, rate: float) -> bool:
    return rate > 0 and unit_hash("holdout", rule_id, run_id) < rate


@dataclass(frozen=True)
class Worth:
    """What a rule that skips, blocks or escalates matched runs is worth.

    ``precision``: the share of matched runs that would have failed (from the holdout), with its
    Wilson 95% interval. Each applied run avoided a failure with that probability and threw away a
    success otherwise, so the net lift per matched run is failures avoided minus successes thrown
    away, ``2 * precision - 1`` (interval from the precision's). ``verdict``: "good" when the whole
    interval is above ``min_precision``, "bad" when the whole interval is below it, else "unknown";
    always "unknown" under ``min_holdout`` held-out runs.
    """

    precision: float
    low: float
    high: float
    lift: float
    lift_low: float
    lift_high: float
    failures_avoided: float
    successes_lost: float
    holdout_n: int
    verdict: str


def skip_worth(
    *, would_fail: int, matched: int, applied_n: int, min_precision: float = 0.5, min_holdout: int = 20
) -> Worth | None:
    """The worth of a skipping rule from ``matched`` runs seen without it, ``would_fail`` of which
    failed; None without any. ``applied_n``: the runs it stopped (to estimate what they cost)."""
    if matched <= 0:
        return None
    would_fail = max(0, min(would_fail, matched))
    p = would_fail / matched
    low, high = wilson(would_fail, matched)
    if matched < min_holdout:
        verdict = "unknown"
    elif low > min_precision:
        verdict = "good"
    elif high < min_precision:
        verdict = "bad"
    else:
        verdict = "unknown"
    return Worth(
        precision=p,
        low=low,
        high=high,
        lift=2 * p - 1,
        lift_low=2 * low - 1,
        lift_high=2 * high - 1,
        failures_avoided=applied_n * p,
        successes_lost=applied_n * (1 - p),
        holdout_n=matched,
        verdict=verdict,
    )
