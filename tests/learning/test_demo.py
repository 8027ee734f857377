"""The issue's demonstration: a recurring failure is grouped, learned, approved and then avoided."""

from __future__ import annotations

import pytest

from learning.demo import play
from learning.models import ErrorLog, RuleApplication

pytestmark = pytest.mark.django_db


def test_a_recurring_failure_is_learned_and_stops_recurring_while_the_holdout_keeps_failing(settings) -> None:
    # Half the matched runs held out. Which runs are held out is a hash of the rule's and the run's ids,
    # and those ids depend on the tests that ran before on this worker: at 0.3 a run of this test
    # held out only 3 of its ~32 matched runs now and then, too few for a confident lift (a flake).
    # At 0.5 fewer than 4 of them is a one-in-a-million draw.
    settings.LEARNING_HOLDOUT_RATE = 0.5
    outcome = play(before_runs=20, after_runs=80, missing_share=0.4, seed=3)

    # Alike errors grouped under one fingerprint; the rule proposed at the third.
    assert outcome.fingerprints == 1 and outcome.errors >= 3
    assert outcome.proposed_after_failures == 3
    rule = outcome.rule
    assert rule is not None and rule.rule_type == "validate"
    assert rule.condition == {"field": "company_domain", "op": "empty"}

    # Before: every lead without a domain failed. After: only the held-out ones do.
    assert outcome.before.recurrence == 1.0
    after = outcome.after
    assert after.holdout_runs > 0 and after.holdout_failed == after.holdout_runs
    assert after.failed == after.holdout_failed  # no failure where the rule was applied
    assert after.skipped == after.concerned - after.holdout_runs
    assert after.succeeded == after.runs - after.concerned

    # Evidence: confident, clearly positive lift, still active.
    assert rule.status == "active"
    assert rule.holdout_exposures == after.holdout_runs and rule.holdout_failures == after.holdout_runs
    assert rule.lift_low is not None and rule.lift_low > 0
    assert RuleApplication.objects.filter(rule=rule, mode="holdout", outcome="failure").count() == after.holdout_runs
    assert ErrorLog.objects.filter(fingerprint=rule.fingerprint).count() == outcome.errors
