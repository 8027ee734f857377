"""Learning bench: a recurring failure, the rule learned from it, and what the rule is worth.

Run by hand (prints figures). It creates and migrates the scratch database when needed; the play
itself writes nothing that survives (it happens in a transaction that is rolled back):

    DJANGO_SETTINGS_MODULE=smarter_team.settings_test DATABASE_URL=postgres://... \\
        .venv/bin/python bench/learning/run.py [--before 300] [--after 1000] [--missing 0.3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.scratch import setup_django

setup_django()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
# Each injected failure logs a warning: keep the figures readable.
logging.getLogger("agents").setLevel(logging.ERROR)
logging.getLogger("integrations").setLevel(logging.ERROR)

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from learning.demo import Arms, Outcome, play, play_id_only  # noqa: E402
from learning.demo_finder import play_finder  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=int, default=300, help="runs before the rule is approved")
    parser.add_argument("--after", type=int, default=1000, help="runs after approval")
    parser.add_argument(
        "--missing", type=float, default=0.3, help="share of leads without a company domain (or with a webmail one)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            outcome = play(before_runs=args.before, after_runs=args.after, missing_share=args.missing)
            report(outcome, seconds=time.perf_counter() - started)
            raise Rollback
    except Rollback:
        pass
    for title, bad in (("(a) id-only agent, rule derived from its facts", False), ("(b) a bad rule", True)):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                arms = play_id_only(
                    before_runs=args.before, after_runs=args.after, missing_share=args.missing, bad_rule=bad
                )
                report_arms(title, arms, seconds=time.perf_counter() - started)
                raise Rollback
        except Rollback:
            pass
    for title, bad in (
        ("(a) email_finder, Findymail refusing webmail domains, rule derived from its facts", False),
        ("(b) email_finder, a bad rule (skips German leads: most would have succeeded)", True),
    ):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                arms, paid = play_finder(
                    before_runs=args.before, after_runs=args.after, webmail_share=args.missing, bad_rule=bad
                )
                report_arms(title, arms, seconds=time.perf_counter() - started, concerned="webmail-domain leads")
                print(
                    f"paid searches on webmail domains: {paid['webmail_searches_before']} in the {args.before} "
                    f"runs before, {paid['webmail_searches_after']} in the {args.after} after"
                )
                raise Rollback
        except Rollback:
            pass


def report_arms(title: str, arms: Arms, *, seconds: float, concerned: str = "domain-less leads") -> None:
    b, a, rule = arms.before, arms.after, arms.rule
    print(f"\n== {title}")
    if rule is None:
        print("no rule was proposed")
        return
    print(f"rule #{rule.pk} [{rule.rule_type}] {rule.condition}; status {rule.status}")
    if arms.proposed_after_failures is not None:
        print(f"  proposed after failure #{arms.proposed_after_failures}")
    print(f"recurrence before: {b.failed}/{b.concerned} ({b.recurrence:.1%}) of {concerned} failed")
    print(
        f"recurrence after:  {a.failed}/{a.concerned} ({a.recurrence:.1%}); {a.skipped} runs skipped, "
        f"{a.succeeded} succeeded of {a.runs}"
    )
    print(
        f"holdout arm: {rule.holdout_failures}/{rule.holdout_exposures} would have failed; applied arm: "
        f"{rule.times_applied} runs stopped, ~{rule.successes_lost} successes thrown away"
    )
    print(f"precision {rule.precision} (95% CI {rule.precision_low} .. {rule.precision_high})")
    print(f"net lift {rule.holdout_lift} (95% CI {rule.lift_low} .. {rule.lift_high})")
    if rule.retired_reason:
        print(f"retired: {rule.retired_reason}")
    print(f"elapsed {seconds:.1f}s")


def report(outcome: Outcome, *, seconds: float) -> None:
    b, a, rule = outcome.before, outcome.after, outcome.rule
    if rule is None:
        print(f"no rule was proposed ({outcome.errors} errors in {outcome.fingerprints} fingerprints)")
        return
    print(
        f"settings: holdout {settings.LEARNING_HOLDOUT_RATE:.0%}, min occurrences {settings.LEARNING_MIN_OCCURRENCES}"
    )
    print(f"errors logged: {outcome.errors} in {outcome.fingerprints} fingerprint(s)")
    print(f"rule proposed after failure #{outcome.proposed_after_failures}: [{rule.rule_type}] {rule.condition}")
    print(f"  text: {rule.text}")
    print(f"before: {b.runs} runs, {b.concerned} without domain, {b.failed} failed -> recurrence {b.recurrence:.1%}")
    print(
        f"after:  {a.runs} runs, {a.concerned} without domain, {a.skipped} skipped by the rule, {a.failed} failed "
        f"-> recurrence {a.recurrence:.1%}"
    )
    applied = a.concerned - a.holdout_runs
    print(
        f"  applied: {applied} runs, {a.failed - a.holdout_failed} failed "
        f"({(a.failed - a.holdout_failed) / max(applied, 1):.1%}); "
        f"holdout: {a.holdout_runs} runs, {a.holdout_failed} failed ({a.holdout_failed / max(a.holdout_runs, 1):.1%})"
    )
    print(
        f"rule evidence: status {rule.status}, confidence {rule.confidence}, applied {rule.times_applied}, "
        f"holdout {rule.holdout_failures}/{rule.holdout_exposures} failed, "
        f"lift {rule.holdout_lift} (95% CI {rule.lift_low} .. {rule.lift_high})"
    )
    print(f"elapsed {seconds:.1f}s")


if __name__ == "__main__":
    main()
