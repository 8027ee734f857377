"""A/B testing benchmark (by hand; prints figures, asserts nothing).

    .venv/bin/python bench/ab/run.py [--trials 2000]

On simulated campaigns with a 5% reply rate: the per-arm sample size that finds a 2-point lift, the
false-winner rate of A/A tests (target <= 5%), the power to find the 2-point lift at that sample
size (target >= 80%), and, for contrast, the false-winner rate when peeking 10 times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crm.services.ab_stats import required_sample_size, simulate, simulate_peeking


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    base, lift = 0.05, 0.02
    n = required_sample_size(base, lift)
    started = time.monotonic()
    aa = simulate(p_a=base, p_b=base, n=n, trials=args.trials, seed=1)
    ab = simulate(p_a=base, p_b=base + lift, n=n, trials=args.trials, seed=2)
    peeking = simulate_peeking(p=base, n=n, looks=10, trials=args.trials, seed=3)
    print(f"reply rate {base:.0%}, lift {lift * 100:.0f} points: {n} sends per arm (alpha 0.05, planned power 0.85)")
    print(f"A/A tests: a challenger named winner {aa.challenger_won:.3f}, any difference declared {aa.any_winner:.3f}")
    print("   (target <= 0.05)")
    print(f"power for a 2-point lift: {ab.challenger_won:.3f}   (target >= 0.80)")
    print(f"for contrast, peeking 10 times and stopping at the first p < 0.05: {peeking:.3f} false winners")
    print(f"{args.trials} trials each, {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
