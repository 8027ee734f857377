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
