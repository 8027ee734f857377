"""Issue #15: learning that changes what every agent does, with honest figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.services.runs import start_run
from integrations.http.errors import ProviderError
from integrations.http.usage import report_failure
from learning import hooks
from learning.demo import ID_AGENT, IdOnlyEnricher, LeadFacts, _lead, id_agent
from learning.models import AgentLearning, ErrorGroupNote, ErrorLog, KnowledgeRule, RuleApplication
from learning.services import application, performance
from learning.services.evidence import refresh_rules
from learning.services.extraction import extract
from learning.services.rules import RuleNotExecutable, approve_rule
from learning.stats import skip_worth
from tests.factories.learning import KnowledgeRuleFactory, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> Any:
    with id_agent() as cls:
        yield cls


def _run(lead_id: int) -> AgentRun:
    run = start_run(agent_name=ID_AGENT, input={"lead_id": lead_id}, trigger=AgentRun.Trigger.MANUAL, enqueue=False)
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


# 1. conditions over facts -----------------------------------------------------------------------


def test_an_id_only_agent_gets_an_executable_rule_over_its_facts(
    agent: Any, frozen_clock: Any, no_holdout: Any
) -> None:
    for n in range(5):
        assert _run(_lead(n, domain=True, country="US")).status == "succeeded"
    for n in range(5, 8):
        assert _run(_lead(n, domain=False, country="US")).status == "failed"
    logged = ErrorLog.objects.filter(agent_name=ID_AGENT).first()
    assert logged is not None
    facts = logged.context["facts"]
    assert facts["lead.company.domain"] == {"t": "none", "present": False}
    assert facts["lead.company.country"] == {"t": "choice", "v": "US", "present": True}
    assert "v" not in facts["lead.last_name"]  # free text: presence and length only
    [rule] = extract().proposed
    assert rule.rule_type == "validate"
    assert rule.condition == {"field": "lead.company.domain", "op": "empty"}
    approve_rule(rule=rule, user=None)
    assert _run(_lead(9, domain=False, country="US")).status == "skipped"
    assert _run(_lead(10, domain=True, country="US")).status == "succeeded"


def test_contact_data_is_recorded_as_presence_length_and_domain_never_raw() -> None:
    from learning.facts_record import record_facts

    record = record_facts({"email": "jane.doe@acme.example", "note": "call me at 5pm", "status": "new", "lead_id": 4})
    assert record["email"] == {"t": "str", "present": True, "len": 21, "domain": "acme.example"}
    assert "jane" not in str(record) and "5pm" not in str(record)
    assert record["status"]["v"] == "new" and record["lead_id"] == {"t": "id", "present": True}


# 2. no rule that cannot act ---------------------------------------------------------------------


def test_a_rules_agent_gets_no_prompt_rule_and_the_error_group_says_why(agent: Any, frozen_clock: Any) -> None:
    for n in range(3):
        _run(_lead(n, domain=False, country="US"))  # nothing succeeds: no condition separates
    result = extract()
    assert result.proposed == []
    [note] = ErrorGroupNote.objects.all()
    assert "rules agent" in note.reason and note.failed_runs == 3
    rule = KnowledgeRuleFactory.create(agent_name=ID_AGENT, rule_type="always", condition={}, status="proposed")
    with pytest.raises(RuleNotExecutable):
        approve_rule(rule=rule, user=None)


def test_an_escalate_rule_sends_the_escalation_to_its_target(agent: Any, frozen_clock: Any, no_holdout: Any) -> None:
    first = _run(_lead(1, domain=False, country="US"))
    fp = ErrorLog.objects.get(run_id=first.pk).fingerprint
    KnowledgeRuleFactory.create(
        agent_name=ID_AGENT, rule_type="escalate", condition={}, fingerprint=fp, action_params={"target": "admin"}
    )
    run = _run(_lead(2, domain=False, country="US"))
    assert run.status == "escalated"
    assert Escalation.objects.get(run_id=run.pk).assigned_group == "admin"


# 3. worth that counts skipped work --------------------------------------------------------------


def test_a_rule_that_skips_everything_scores_badly_and_is_retired(settings: Any) -> None:
    settings.LEARNING_MIN_HOLDOUT = 20
    rule = KnowledgeRuleFactory.create(condition={"field": "lead_id", "op": "present"})
    run_ids = [make_run().pk for _ in range(360)]
    # A third of the matched runs would have failed: the rule matches everything.
    RuleApplication.objects.bulk_create(
        [
            RuleApplication(rule=rule, run_id=r, mode="applied", effect="skipped", outcome="success")
            for r in run_ids[:300]
        ]
        + [
            RuleApplication(
                rule=rule, run_id=r, mode="holdout", effect="skipped", outcome="failure" if i < 20 else "success"
            )
            for i, r in enumerate(run_ids[300:])
        ]
    )
    retired = refresh_rules(rule_ids=[rule.pk])
    rule.refresh_from_db()
    assert retired == [rule], (rule.precision, rule.precision_high, rule.holdout_exposures, rule.times_applied)
    assert rule.status == "retired" and "precision" in rule.retired_reason
    assert rule.precision == Decimal("0.3333")
    assert rule.precision_high is not None and rule.precision_high < Decimal("0.5")
    assert rule.holdout_lift is not None and rule.holdout_lift < 0
    assert rule.successes_lost is not None and abs(float(rule.successes_lost) - 200) < 1


@hsettings(max_examples=300, deadline=None)
@given(
    matched=st.integers(min_value=1, max_value=5000),
    share=st.floats(min_value=0, max_value=0.5),
    applied=st.integers(min_value=0, max_value=100_000),
    min_holdout=st.integers(min_value=1, max_value=50),
)
def test_statistics_never_call_a_rule_good_when_its_skipped_work_would_have_succeeded(
    matched: int, share: float, applied: int, min_holdout: int
) -> None:
    would_fail = int(matched * share)  # at most half of the held-out runs failed
    worth = skip_worth(would_fail=would_fail, matched=matched, applied_n=applied, min_holdout=min_holdout)
    assert worth is not None
    assert worth.verdict != "good"
    assert worth.lift <= 0 and worth.lift_low <= 0
    assert worth.successes_lost >= worth.failures_avoided


# 4. holdout integrity ---------------------------------------------------------------------------


def test_a_held_out_run_never_sees_the_rule_in_a_batch_prompt(all_holdout: Any) -> None:
    KnowledgeRuleFactory.create(rule_type="always", condition={}, text="Be brief.", fingerprint="")
    run = make_run()
    assert hooks.prompt_rules_for(run) == []
    all_holdout.LEARNING_HOLDOUT_RATE = 0.0
    assert hooks.prompt_rules_for(run) == ["Be brief."]


def test_a_holdout_exposure_is_kept_when_another_rule_blocks_the_run(monkeypatch: Any) -> None:
    held = KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    blocking = KnowledgeRuleFactory.create(condition={"field": "company_domain", "op": "empty"})
    monkeypatch.setattr(application, "in_holdout", lambda *, rule_id, run_id, rate: rule_id == held.pk)
    run = make_run(input={"company_domain": None})
    decision = hooks.before_run(run=run, data=run.input)
    assert decision.blocked
    modes = dict(RuleApplication.objects.filter(run=run).values_list("rule_id", "mode"))
    assert modes == {held.pk: "holdout", blocking.pk: "applied"}


def test_rules_guarding_people_or_money_are_never_held_out(agent: Any, all_holdout: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(IdOnlyEnricher, "guards_people_or_money", True, raising=False)
    KnowledgeRuleFactory.create(agent_name=ID_AGENT, condition={"field": "lead.company.domain", "op": "empty"})
    run = _run(_lead(1, domain=False, country="US"))
    assert run.status == "skipped"
    assert not RuleApplication.objects.filter(mode="holdout").exists()


# 5. one failure, one ErrorLog -------------------------------------------------------------------


class ProviderFails(IdOnlyEnricher):
    name = "demo_provider_fails"

    def act(self, ctx: Any, facts: LeadFacts) -> Any:
        exc = ProviderError("lookup refused", provider="icypeas", operation="find_email")
        report_failure(exc)  # what the HTTP client does when a call finally fails
        raise exc


def test_the_clients_failure_and_the_runtimes_are_one_errorlog(frozen_clock: Any) -> None:
    from agents import registry
    from smarter_team.context import bound_run

    registry.register(ProviderFails)
    try:
        run = start_run(
            agent_name=ProviderFails.name,
            input={"lead_id": _lead(1, domain=True, country="US")},
            trigger=AgentRun.Trigger.MANUAL,
            enqueue=False,
        )
        runtime.execute(run.pk)
    finally:
        registry.unregister(ProviderFails.name)
    assert bound_run is not None
    [logged] = ErrorLog.objects.filter(run_id=run.pk)
    assert logged.step == "find_email" and logged.provider == "icypeas"
    assert "facts" in logged.context


# 6. agent performance by runs -------------------------------------------------------------------


def test_recurrence_counts_failed_runs_not_errorlog_rows(frozen_clock: Any) -> None:
    import datetime as dt

    from smarter_team import clock

    run = make_run(status="failed")
    for attempt in (1, 2, 3):
        run.attempts = attempt
        hooks.record_failure(run=run, agent_name="lead_research", exc=ValueError("lead 1 has no domain"), step="run")
    assert ErrorLog.objects.count() == 3
    day = clock.now().date()
    [row] = performance.per_fingerprint(day=day, threshold=1)
    assert row.errors_after == 1
    assert day - dt.timedelta(days=1) < day


def test_per_rule_is_a_bounded_number_of_queries(frozen_clock: Any, django_assert_max_num_queries: Any) -> None:
    from smarter_team import clock

    for _ in range(3):
        KnowledgeRuleFactory.create(approved_at=clock.now())
    day = clock.now().date()
    with django_assert_max_num_queries(2):
        assert len(performance.per_rule(day=day)) == 3
    for _ in range(30):
        KnowledgeRuleFactory.create(approved_at=clock.now())
    with django_assert_max_num_queries(2):
        assert len(performance.per_rule(day=day)) == 33
    assert AgentLearning.objects.count() == 33


# 7. the admin tells the story ------------------------------------------------------------------


def test_the_rule_page_shows_both_arms_precision_and_why_it_was_retired(admin_client: Any) -> None:
    from django.urls import reverse

    rule = KnowledgeRuleFactory.create(status="retired", retired_reason="automatic: precision 0.250 [0.112, 0.469]")
    KnowledgeRule.objects.filter(pk=rule.pk).update(
        holdout_exposures=20, holdout_failures=5, precision=Decimal("0.25"), precision_low=Decimal("0.1119")
    )
    page = admin_client.get(reverse("admin:learning_knowledgerule_change", args=[rule.pk])).content.decode()
    assert "holdout arm" in page and "applied arm" in page and "0.1119" in page and "precision 0.250" in page
