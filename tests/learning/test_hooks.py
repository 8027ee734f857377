from __future__ import annotations

import pytest

from learning import hooks
from learning.models import ErrorLog, KnowledgeRule, ResponseTracking, RuleApplication
from smarter_team.context import bound_run
from tests.factories.learning import KnowledgeRuleFactory, make_run

pytestmark = pytest.mark.django_db


def _fail(run, message: str = "lead 1 has no company domain", **kw):
    return hooks.record_failure(run=run, agent_name=run.agent_name if run else "", exc=ValueError(message), **kw)


# --- record_failure ---------------------------------------------------------------------------


def test_record_failure_logs_a_fingerprinted_error_with_the_run_entities() -> None:
    run = make_run(input={"lead_id": 7, "company_id": 3})
    log = hooks.record_failure(run=run, agent_name=run.agent_name, exc=ValueError("lead 7 no domain"), step="enrich")
    assert log.pk and log.run == run and log.error_type == "ValueError" and log.step == "enrich"
    assert len(log.fingerprint) == 64
    assert log.affected_entities == [{"type": "lead", "id": 7}, {"type": "company", "id": 3}]
    assert log.severity == ErrorLog.Severity.MEDIUM


def test_alike_failures_of_different_runs_share_one_fingerprint() -> None:
    logs = [_fail(make_run(), f"lead {n} has no company domain (acme{n}.com)") for n in range(3)]
    assert len({log.fingerprint for log in logs}) == 1
    assert _fail(make_run(), "lead 1 has no title").fingerprint != logs[0].fingerprint


def test_integration_failure_outside_a_run_is_logged_per_provider() -> None:
    a = hooks.record_failure(run=None, agent_name="", exc=RuntimeError("boom"), provider="icypeas", transient=True)
    b = hooks.record_failure(run=None, agent_name="", exc=RuntimeError("boom"), provider="findymail", transient=True)
    assert a.run is None and a.provider == "icypeas" and a.transient and a.severity == ErrorLog.Severity.LOW
    assert a.fingerprint != b.fingerprint


def test_integration_failure_inside_a_run_is_attributed_to_it() -> None:
    run = make_run(agent_name="email_finder")
    with bound_run(run.pk, run.agent_name):
        log = hooks.record_failure(run=None, agent_name="", exc=RuntimeError("x"), provider="icypeas")
    assert log.run_id == run.pk and log.agent_name == "email_finder"


def test_secrets_never_reach_the_error_log() -> None:
    exc = RuntimeError("GET https://api.x.io/v1?api_key=sk-live-123456 failed; Authorization: Bearer abcdefghijklmnop")
    log = hooks.record_failure(
        run=None, agent_name="x", exc=exc, context={"api_key": "sk-live-123456", "nested": {"token": "t0ps3cret"}}
    )
    stored = f"{log.message} {log.context}"
    assert "sk-live-123456" not in stored and "abcdefghijklmnop" not in stored and "t0ps3cret" not in stored


# --- before_run -------------------------------------------------------------------------------


def test_before_run_skips_an_input_a_validate_rule_matches_and_records_it(no_holdout) -> None:
    rule = KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    run = make_run(input={"company_domain": ""})
    decision = hooks.before_run(run=run, data=run.input)
    assert decision.blocked and decision.effect == "skip"
    assert f"rule #{rule.pk}" in decision.reason
    application = RuleApplication.objects.get(rule=rule, run=run)
    assert (application.mode, application.effect, application.outcome) == ("applied", "skipped", "success")
    assert run.learnings_applied == [
        {"rule": rule.pk, "type": "validate", "mode": "applied", "stage": "before", "effect": "skipped"}
    ]
    run.refresh_from_db()
    assert run.learnings_applied[0]["rule"] == rule.pk


def test_before_run_lets_a_good_input_through_without_recording(no_holdout) -> None:
    KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    run = make_run(input={"company_domain": "acme.com"})
    decision = hooks.before_run(run=run, data=run.input)
    assert not decision.blocked and decision.effect == "" and decision.applications == []
    assert not RuleApplication.objects.exists()


def test_never_rule_blocks_for_a_human_and_block_wins_over_skip(no_holdout) -> None:
    KnowledgeRuleFactory.create(rule_type="validate", condition={"field": "x", "op": "missing"})
    KnowledgeRuleFactory.create(rule_type="never", condition={"field": "country", "op": "in", "value": ["KP"]})
    run = make_run(input={"country": "KP"})
    decision = hooks.before_run(run=run, data=run.input)
    assert decision.blocked and decision.effect == "block"


def test_action_params_can_turn_a_validate_rule_into_a_block(no_holdout) -> None:
    KnowledgeRuleFactory.create(condition={"field": "x", "op": "missing"}, action_params={"effect": "block"})
    run = make_run(input={})
    assert hooks.before_run(run=run, data=run.input).effect == "block"


def test_prompt_rules_are_sorted_deduplicated_agent_and_global(no_holdout) -> None:
    KnowledgeRuleFactory.create(rule_type="always", text="Zeta: be brief.", condition={}, agent_name="lead_research")
    KnowledgeRuleFactory.create(rule_type="always", text="Alpha: cite sources.", condition={}, agent_name="")
    KnowledgeRuleFactory.create(
        rule_type="always", text="Alpha: cite sources.", condition={}, agent_name="lead_research"
    )
    KnowledgeRuleFactory.create(rule_type="always", text="Other agent only.", condition={}, agent_name="email_finder")
    KnowledgeRuleFactory.create(rule_type="always", text="Not live.", condition={}, status="proposed")
    run = make_run(agent_name="lead_research")
    decision = hooks.before_run(run=run, data={})
    assert decision.prompt_rules == ["Alpha: cite sources.", "Zeta: be brief."]
    assert not decision.blocked
    assert RuleApplication.objects.filter(run=run, effect="prompt", outcome="pending").count() == 3


def test_held_out_run_goes_ahead_and_is_recorded_as_holdout(all_holdout) -> None:
    rule = KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    prompt = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    run = make_run(input={})
    decision = hooks.before_run(run=run, data=run.input)
    assert not decision.blocked and decision.prompt_rules == []
    modes = dict(RuleApplication.objects.filter(run=run).values_list("rule_id", "mode"))
    assert modes == {rule.pk: "holdout", prompt.pk: "holdout"}


def test_a_blocked_run_records_only_the_rules_that_stopped_it(no_holdout) -> None:
    blocker = KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    run = make_run(input={})
    decision = hooks.before_run(run=run, data=run.input)
    assert decision.prompt_rules == []
    assert list(RuleApplication.objects.filter(run=run).values_list("rule_id", flat=True)) == [blocker.pk]


def test_holdout_share_follows_the_setting_and_is_stable_per_run(settings) -> None:
    settings.LEARNING_HOLDOUT_RATE = 0.25
    KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    runs = [make_run(input={}) for _ in range(200)]
    first = [hooks.before_run(run=r, data=r.input).blocked for r in runs]
    again = [hooks.before_run(run=r, data=r.input).blocked for r in runs]  # a retried attempt
    assert first == again
    assert 0.13 < first.count(False) / len(first) < 0.37
    assert RuleApplication.objects.count() == 200  # one row per rule, run and stage


def test_before_run_reads_rules_in_few_queries(no_holdout, django_assert_max_num_queries) -> None:
    for n in range(10):
        KnowledgeRuleFactory.create(rule_type="always", text=f"rule {n}", condition={})
    run = make_run()
    with django_assert_max_num_queries(6):
        hooks.before_run(run=run, data={})


# --- on_failure -------------------------------------------------------------------------------


def test_on_failure_returns_the_learned_retry_schedule(no_holdout) -> None:
    run = make_run()
    log = _fail(run, "upstream timeout after 30s")
    rule = KnowledgeRuleFactory.create(
        rule_type="retry",
        fingerprint=log.fingerprint,
        condition={},
        action_params={"delays": [60, 300], "max_attempts": 3},
    )
    plan = hooks.on_failure(run=run, error=log)
    assert plan.retry_delays == [60, 300] and plan.max_attempts == 3 and not plan.escalate
    assert RuleApplication.objects.get(rule=rule, run=run).stage == "failure"


def test_on_failure_escalates_and_escalation_wins_over_retry(no_holdout) -> None:
    run = make_run()
    log = _fail(run, "403 forbidden")
    KnowledgeRuleFactory.create(
        rule_type="retry", fingerprint=log.fingerprint, condition={}, action_params={"delays": [5]}
    )
    KnowledgeRuleFactory.create(
        rule_type="escalate", fingerprint=log.fingerprint, condition={}, text="Hand to a human."
    )
    plan = hooks.on_failure(run=run, error=log)
    assert plan.escalate and plan.retry_delays is None and "Hand to a human." in plan.reason


def test_on_failure_finds_the_rule_from_an_exception_too(no_holdout) -> None:
    run = make_run()
    exc = ValueError("lead 5 is broken")
    log = hooks.record_failure(run=run, agent_name=run.agent_name, exc=exc, step="enrich")
    KnowledgeRuleFactory.create(rule_type="escalate", fingerprint=log.fingerprint, condition={})
    assert hooks.on_failure(run=run, error=exc).escalate


def test_on_failure_without_rules_changes_nothing() -> None:
    run = make_run()
    plan = hooks.on_failure(run=run, error=_fail(run))
    assert plan.retry_delays is None and plan.max_attempts is None and not plan.escalate


def test_held_out_failure_gets_the_default_policy(all_holdout) -> None:
    run = make_run()
    log = _fail(run)
    KnowledgeRuleFactory.create(rule_type="escalate", fingerprint=log.fingerprint, condition={})
    plan = hooks.on_failure(run=run, error=log)
    assert not plan.escalate
    assert RuleApplication.objects.get(run=run).mode == "holdout"


# --- after_run --------------------------------------------------------------------------------


def test_after_run_closes_pending_applications_and_tracks_the_response(no_holdout) -> None:
    rule = KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    run = make_run(status="running", output={"confidence": 0.8, "response_type": "reply"})
    hooks.before_run(run=run, data={})
    run.status = "succeeded"
    hooks.after_run(run=run, succeeded=True)
    assert RuleApplication.objects.get(run=run).outcome == "success"
    rule.refresh_from_db()
    assert rule.times_applied == 1 and rule.times_successful == 1
    tracking = ResponseTracking.objects.get(run=run)
    assert (tracking.actual_outcome, tracking.response_type, float(tracking.confidence_score or 0)) == (
        "success",
        "reply",
        0.8,
    )


def test_after_run_leaves_a_run_queued_for_retry_pending(no_holdout) -> None:
    KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={})
    run = make_run(status="queued")
    hooks.before_run(run=run, data={})
    hooks.after_run(run=run, succeeded=False)
    assert RuleApplication.objects.get(run=run).outcome == "pending"
    assert not ResponseTracking.objects.exists()


def test_after_run_failure_counts_against_the_rule_and_keeps_staff_feedback(no_holdout, admin_user) -> None:
    KnowledgeRuleFactory.create(rule_type="always", text="Be brief.", condition={}, fingerprint="")
    run = make_run(status="failed")
    hooks.before_run(run=run, data={})
    ResponseTracking.objects.create(run=run, agent_name=run.agent_name, response_type="run", feedback_by=admin_user)
    hooks.after_run(run=run, succeeded=False)
    assert RuleApplication.objects.get(run=run).outcome == "failure"
    assert ResponseTracking.objects.get(run=run).actual_outcome == "pending"  # staff's word stands


def test_skipped_runs_get_no_response_tracking() -> None:
    run = make_run(status="skipped")
    hooks.after_run(run=run, succeeded=False)
    assert not ResponseTracking.objects.exists()


def test_rule_types_are_the_models() -> None:
    assert set(KnowledgeRule.RuleType.values) == {"avoid", "always", "never", "validate", "retry", "escalate"}


def test_the_same_failure_reported_twice_in_one_attempt_is_one_row() -> None:
    run = make_run(attempts=1)
    exc = RuntimeError("icypeas.find (HTTP 500): boom")
    first = hooks.record_failure(run=run, agent_name=run.agent_name, exc=exc, provider="icypeas", step="find")
    again = hooks.record_failure(
        run=run, agent_name=run.agent_name, exc=exc, provider="icypeas", step="find", context={"trigger": "manual"}
    )
    assert again.pk == first.pk and again.context["trigger"] == "manual"
    run.attempts = 2  # the retry failing the same way is a new occurrence
    assert (
        hooks.record_failure(run=run, agent_name=run.agent_name, exc=exc, provider="icypeas", step="find").pk
        != first.pk
    )


def test_hooks_accept_no_run() -> None:
    assert not hooks.before_run(run=None, data={}).blocked
    assert not hooks.on_failure(run=None, error=RuntimeError("x")).escalate
    hooks.after_run(run=None, succeeded=True)


def test_a_run_failing_for_another_reason_does_not_count_against_the_rule(no_holdout) -> None:
    answered = KnowledgeRuleFactory.create(
        rule_type="always", text="Check the domain.", condition={}, fingerprint="d" * 64
    )
    generic = KnowledgeRuleFactory.create(rule_type="always", text="Be careful.", condition={}, fingerprint="")
    run = make_run(status="failed")
    hooks.before_run(run=run, data={})
    _fail(run, "something unrelated broke")
    hooks.after_run(run=run, succeeded=False)
    outcomes = dict(RuleApplication.objects.filter(run=run).values_list("rule_id", "outcome"))
    assert outcomes == {answered.pk: "success", generic.pk: "failure"}
