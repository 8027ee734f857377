"""A/B statistics for campaign variants: a fixed-horizon two-proportion z-test, no peeking.

A winner is declared only when every arm has reached the sample size planned before the test
(``required_sample_size``): looking at the p-value as data trickles in and stopping at the first
"significant" look inflates false winners several-fold. With more than two arms each comparison
against the control uses a Bonferroni-corrected alpha. stdlib only (``statistics.NormalDist``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

_N = NormalDist()


# Planned power: the usual 80% target, with a margin so the achieved power (the normal
# approximation is slightly optimistic at 5% rates) stays above 80%.
PLANNED_POWER = 0.85


def required_sample_size(p_base: float, lift: float, *, alpha: float = 0.05, power: float = PLANNED_POWER) -> int:
    """Per-arm sample size to detect ``p_base`` -> ``p_base + lift`` (two-sided test)."""
    if not 0 < p_base < 1 or not 0 < p_base + lift < 1 or lift == 0:
        raise ValueError("rates must lie strictly between 0 and 1 and the lift must not be zero")
    p1, p2 = p_base, p_base + lift
    pooled = (p1 + p2) / 2
    z_alpha, z_beta = _N.inv_cdf(1 - alpha / 2), _N.inv_cdf(power)
    top = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil((top / lift) ** 2)


def two_proportion_p_value(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when it cannot be computed)."""
    if n_a <= 0 or n_b <= 0:
        return 1.0
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return 1.0
    z = (successes_b / n_b - successes_a / n_a) / spread
    return 2 * (1 - _N.cdf(abs(z)))


@dataclass(frozen=True)
class Arm:
    label: str
    sent: int
    replies: int

    @property
    def rate(self) -> float:
        return self.replies / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Verdict:
    winner: str | None
    reason: str
    p_values: dict[str, float]


def decide(arms: list[Arm], *, planned_n: int, alpha: float = 0.05) -> Verdict:
    """The winner against the first arm (the control), or None with why. Never before ``planned_n``."""
    if len(arms) < 2:
        return Verdict(None, "a test needs at least two arms", {})
    short = [a.label for a in arms if a.sent < planned_n]
    if short:
        return Verdict(None, f"keep testing: {', '.join(short)} below the planned {planned_n} sends", {})
    control, challengers = arms[0], arms[1:]
    corrected = alpha / len(challengers)
    p_values = {a.label: two_proportion_p_value(control.replies, control.sent, a.replies, a.sent) for a in challengers}
    significant = [a for a in challengers if p_values[a.label] < corrected]
    better = [a for a in significant if a.rate > control.rate]
    if better:
        best = max(better, key=lambda a: a.rate)
        return Verdict(best.label, f"{best.label} beats {control.label} (p={p_values[best.label]:.4f})", p_values)
    if significant:
        return Verdict(control.label, f"{control.label} beats every challenger that differs", p_values)
    return Verdict(None, f"no difference at alpha {corrected:.4f} with {planned_n} sends per arm", p_values)


def _replies(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


@dataclass(frozen=True)
class Simulated:
    challenger_won: float  # B named the winner: on an A/A test, a false winner we would switch to
    any_winner: float  # a winner either way: on an A/A test, every declared difference is false


def simulate(*, p_a: float, p_b: float, n: int, trials: int, seed: int = 7, alpha: float = 0.05) -> Simulated:
    """How often ``decide`` declares winners on simulated arms (A/A: false winners; A/B: power)."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    challenger = anyone = 0
    for _ in range(trials):
        arms = [Arm("A", n, _replies(rng, n, p_a)), Arm("B", n, _replies(rng, n, p_b))]
        winner = decide(arms, planned_n=n, alpha=alpha).winner
        challenger += winner == "B"
        anyone += winner is not None
    return Simulated(challenger_won=challenger / trials, any_winner=anyone / trials)


def simulate_peeking(*, p: float, n: int, looks: int, trials: int, seed: int = 7, alpha: float = 0.05) -> float:
    """What stopping at the first 'significant' of ``looks`` interim looks would do on an A/A test
    (why ``decide`` refuses to look before ``planned_n``): its false-winner rate."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    false = 0
    step = n // looks
    for _ in range(trials):
        a = b = seen = 0
        for _ in range(looks):
            a += _replies(rng, step, p)
            b += _replies(rng, step, p)
            seen += step
            if two_proportion_p_value(a, seen, b, seen) < alpha:
                false += 1
                break
    return false / trials
