from __future__ import annotations

import datetime as dt

import pytest

from learning import hooks
from learning.derivation import ErrorGroup, Proposal
from learning.models import ErrorLog, KnowledgeRule
from learning.services.extraction import extract, min_occurrences
from tests.factories.learning import KnowledgeRuleFactory, make_run

pytestmark = pytest.mark.django_db


def _failing(
    n: int, *, agent: str = "t_domain_enricher", message: str = "lead {i} has no company domain"
) -> list[ErrorLog]:
    logs = []
    for i in range(n):
        run = make_run(agent_name=agent, status="failed", input={"lead_id": i, "company_domain": None})
        logs.append(hooks.record_failure(run=run, agent_name=agent, exc=ValueError(message.format(i=i)), step="run"))
    return logs


def _succeeding(n: int, agent: str = "t_domain_enricher") -> None:
    for i in range(n):
        make_run(agent_name=agent, status="succeeded", input={"lead_id": 100 + i, "company_domain": f"c{i}.com"})


def test_two_alike_errors_are_not_enough_the_third_proposes_a_rule(frozen_clock) -> None:
    _succeeding(5)
    _failing(2)
    assert extract().proposed == []
    _failing(1)
    result = extract()
    [rule] = result.proposed
    assert rule.status == "proposed" and rule.rule_type == "validate"
    assert rule.condition == {"field": "company_domain", "op": "empty"}
    assert rule.agent_name == "t_domain_enricher" and rule.error_type == "ValueError"
    assert rule.source_error == ErrorLog.objects.order_by("-occurred_at", "-pk").first()
    assert rule.action_params["evidence"]["fail_share"] == 1.0
    assert "lead <n> has no company domain" in rule.pattern


def test_a_covered_fingerprint_is_not_proposed_twice(frozen_clock) -> None:
    _succeeding(3)
    _failing(3)
    assert len(extract().proposed) == 1
    _failing(3)
    assert extract().proposed == []
    KnowledgeRule.objects.update(status="retired")
    assert extract().proposed == []  # a retired rule still covers it: re-activate instead


def test_errors_outside_the_window_do_not_count(frozen_clock, settings) -> None:
    settings.LEARNING_WINDOW_HOURS = 24
    _failing(2)
    frozen_clock.tick(dt.timedelta(hours=25))
    _failing(1)
    assert extract().proposed == []


def test_threshold_setting_is_clamped_to_3_5(settings) -> None:
    settings.LEARNING_MIN_OCCURRENCES = 1
    assert min_occurrences() == 3
    settings.LEARNING_MIN_OCCURRENCES = 9
    assert min_occurrences() == 5
    settings.LEARNING_MIN_OCCURRENCES = 4
    assert min_occurrences() == 4


def test_transient_provider_errors_become_retry_rules(frozen_clock) -> None:
    for _ in range(3):
        hooks.record_failure(
            run=make_run(status="failed"),
            agent_name="t_domain_enricher",
            exc=RuntimeError("icypeas.find (HTTP 503): down"),
            provider="icypeas",
            transient=True,
        )
    [rule] = extract().proposed
    assert rule.rule_type == "retry" and rule.action_params["delays"] == [30, 120, 600]


def test_auto_approve_by_type(frozen_clock, settings) -> None:
    settings.LEARNING_AUTO_APPROVE_TYPES = "retry"
    for _ in range(3):
        hooks.record_failure(
            run=make_run(status="failed"), agent_name="t_domain_enricher", exc=RuntimeError("timeout"), transient=True
        )
    result = extract()
    assert [r.pk for r in result.auto_approved] == [r.pk for r in result.proposed]
    assert KnowledgeRule.objects.get().status == "active"


def test_drafter_words_the_rule_and_a_failing_drafter_falls_back(frozen_clock) -> None:
    _succeeding(3)
    _failing(3)
    _failing(3, message="lead {i} title is empty")

    calls: list[str] = []

    def drafter(group: ErrorGroup, proposal: Proposal) -> str:
        calls.append(proposal.rule_type)
        if "title" in group.message:
            raise RuntimeError("model down")
        return "Check the company domain before enriching."

    texts = sorted(r.text for r in extract(drafter=drafter).proposed)
    assert len(calls) == 2
    assert texts[0] == "Check the company domain before enriching."
    assert texts[1].startswith("t_domain_enricher:")


def test_extraction_refreshes_rule_evidence(frozen_clock) -> None:
    rule = KnowledgeRuleFactory.create(times_applied=99)
    extract()
    rule.refresh_from_db()
    assert rule.times_applied == 0  # rebuilt from the (no) applications
