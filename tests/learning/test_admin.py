from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from learning.models import FAQ, ErrorLog, KnowledgeRule, ResponseTracking
from tests.factories.learning import (
    AgentLearningFactory,
    ErrorLogFactory,
    FAQFactory,
    KnowledgeRuleFactory,
    ResponseTrackingFactory,
    RuleApplicationFactory,
    make_run,
)

pytestmark = pytest.mark.django_db

MODELS = ("errorlog", "knowledgerule", "ruleapplication", "responsetracking", "agentlearning", "faq")


@pytest.fixture
def data() -> dict[str, object]:
    rule = KnowledgeRuleFactory.create(fingerprint="c" * 64)
    for _ in range(5):
        run = make_run()
        ErrorLogFactory.create(run=run, fingerprint=rule.fingerprint, message="lead 1 has no company domain")
        RuleApplicationFactory.create(rule=rule, run=run)
        ResponseTrackingFactory.create(run=run)
    AgentLearningFactory.create(rule=rule)
    FAQFactory.create()
    return {"rule": rule}


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load_without_n_plus_one(staff_client, data, model, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse(f"admin:learning_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_change_pages_load(staff_client, data, model) -> None:
    obj: Any = {
        "errorlog": ErrorLog,
        "knowledgerule": KnowledgeRule,
        "responsetracking": ResponseTracking,
        "faq": FAQ,
    }.get(model)
    if obj is None:
        return
    pk = obj.objects.order_by("pk").values_list("pk", flat=True).first()
    response = staff_client.get(reverse(f"admin:learning_{model}_change", args=[pk]))
    assert response.status_code == 200


def test_rule_page_shows_source_errors_applications_and_lift(staff_client, data) -> None:
    rule = data["rule"]
    KnowledgeRule.objects.filter(pk=rule.pk).update(holdout_lift="0.5", lift_low="0.1", lift_high="0.9")
    html = staff_client.get(reverse("admin:learning_knowledgerule_change", args=[rule.pk])).content.decode()
    assert "lead 1 has no company domain" in html
    assert "+0.500 [+0.100, +0.900]" in html
    assert "<th>outcome</th>" in html
    assert "company_domain is missing or empty" in html


def test_approve_and_retire_actions_call_the_services(staff_client) -> None:
    rule = KnowledgeRuleFactory.create(status="proposed")
    url = reverse("admin:learning_knowledgerule_changelist")
    staff_client.post(url, {"action": "approve", "_selected_action": [rule.pk]})
    rule.refresh_from_db()
    assert rule.status == "active" and rule.approved_by is not None
    staff_client.post(url, {"action": "retire", "_selected_action": [rule.pk]})
    rule.refresh_from_db()
    assert rule.status == "retired" and "root" in rule.retired_reason


def test_editing_a_rule_with_a_bad_condition_is_refused(staff_client) -> None:
    rule = KnowledgeRuleFactory.create()
    url = reverse("admin:learning_knowledgerule_change", args=[rule.pk])
    form = {
        "agent_name": rule.agent_name,
        "rule_type": "validate",
        "text": "Changed.",
        "condition": '{"field": "x", "op": "exec"}',
        "action_params": "{}",
    }
    response = staff_client.post(url, form)
    assert response.status_code == 200 and "Not a valid condition" in response.content.decode()
    form["condition"] = '{"field": "x", "op": "missing"}'
    response = staff_client.post(url, form)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.text == "Changed." and rule.condition == {"field": "x", "op": "missing"}


def test_error_log_is_read_only_but_can_be_resolved_with_a_note(staff_client) -> None:
    error = ErrorLogFactory.create()
    assert staff_client.get(reverse("admin:learning_errorlog_add")).status_code == 403
    url = reverse("admin:learning_errorlog_changelist")
    staff_client.post(url, {"action": "mark_resolved", "_selected_action": [error.pk], "note": "fixed the scraper"})
    error.refresh_from_db()
    assert (
        error.resolved_at
        and error.resolved_by is not None
        and error.resolved_by.username == "root"
        and error.resolution_notes == "fixed the scraper"
    )


def test_select_all_resolves_every_error_however_many_in_lists_it_takes(staff_client, monkeypatch) -> None:
    # "Select all" may pick more rows than one IN list binds: the update goes in chunks (of 2 here).
    monkeypatch.setattr("smarter_team.db.IN_LIST_CHUNK", 2)
    errors = ErrorLogFactory.create_batch(5)
    url = reverse("admin:learning_errorlog_changelist")
    staff_client.post(url, {"action": "mark_resolved", "_selected_action": [e.pk for e in errors], "note": "bulk"})
    assert all(e.resolution_notes == "bulk" for e in ErrorLog.objects.filter(pk__in=[e.pk for e in errors]))


def test_staff_feedback_marks_responses_good_or_bad(staff_client) -> None:
    tracking = ResponseTrackingFactory.create()
    url = reverse("admin:learning_responsetracking_changelist")
    staff_client.post(url, {"action": "mark_bad", "_selected_action": [tracking.pk], "note": "wrong tone"})
    tracking.refresh_from_db()
    assert tracking.actual_outcome == "failure" and tracking.user_feedback == "wrong tone" and tracking.feedback_by


def test_faq_saved_in_the_admin_gets_its_vector(staff_client) -> None:
    url = reverse("admin:learning_faq_add")
    response = staff_client.post(
        url,
        {
            "question": "Do you offer refunds?",
            "answer": "Within 14 days.",
            "category": "billing",
            "tags": "[]",
            "approved": "on",
        },
    )
    assert response.status_code == 302
    faq = FAQ.objects.get()
    assert len(faq.embedding) == 512 and faq.approved


@pytest.mark.parametrize("model", MODELS)
def test_changelist_search_works(staff_client, data, model) -> None:
    response = staff_client.get(reverse(f"admin:learning_{model}_changelist"), {"q": "domain"})
    assert response.status_code == 200
