"""The runtime's admin pages: lists without N+1, run tree, actions calling the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.services.runs import start_run
from tests.factories.agents import (
    ActionFactory,
    AgentRunFactory,
    AuditLogFactory,
    BudgetFactory,
    EscalationFactory,
    HealthCheckFactory,
    LLMBatchFactory,
    ReportFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ("agentrun", "action", "escalation", "budget", "auditlog", "healthcheck", "report", "llmbatch")


def _populate(n: int) -> None:
    for _ in range(n):
        run = AgentRunFactory.create()
        ActionFactory.create(run=run)
        EscalationFactory.create(run=run)
        AuditLogFactory.create(run=run)
        HealthCheckFactory.create()
        ReportFactory.create()
        LLMBatchFactory.create()
        BudgetFactory.create(scope="agent", key=f"agent_{run.pk}")


@pytest.mark.parametrize("model", MODELS)
def test_changelists_cost_the_same_with_more_rows(staff_client, model, django_assert_max_num_queries) -> None:
    url = reverse(f"admin:agents_{model}_changelist")
    _populate(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    _populate(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert staff_client.get(url).status_code == 200


def test_the_run_page_shows_the_handoff_tree(staff_client) -> None:
    root = start_run(agent_name="t_chain", input={"n": 0}, trigger="event", enqueue=False)
    runtime.execute(root.pk)
    child = AgentRun.objects.get(parent=root)
    page = staff_client.get(reverse("admin:agents_agentrun_change", args=[child.pk])).content.decode()
    assert f"#{root.pk} t_chain (succeeded)" in page and f"#{child.pk} t_chain (queued)" in page
    assert "&quot;n&quot;: 1" in page or '"n": 1' in page  # the readable input


def test_runs_are_found_by_correlation_id(staff_client) -> None:
    run = AgentRunFactory.create()
    AgentRunFactory.create()
    page = staff_client.get(reverse("admin:agents_agentrun_changelist"), {"q": str(run.correlation_id)})
    assert list(page.context["cl"].result_list) == [run]


def test_the_retry_action_requeues_failed_runs(staff_client) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.FAILED, attempts=3)
    staff_client.post(
        reverse("admin:agents_agentrun_changelist"), {"action": "retry_selected", "_selected_action": [run.pk]}
    )
    run.refresh_from_db()
    assert run.status == AgentRun.Status.QUEUED and run.attempts == 0


def test_approving_on_the_escalation_page_resumes_the_run(staff_client) -> None:
    run = start_run(agent_name="t_approval", input={"text": "it"}, trigger="event", enqueue=False)
    runtime.execute(run.pk)
    escalation = Escalation.objects.get(run=run)
    url = reverse("admin:agents_escalation_change", args=[escalation.pk])
    assert "Approve (resume the work)" in staff_client.get(url).content.decode()
    staff_client.post(url, {"assigned_group": "operator", "decision_note": "fine by me", "_approve": "1"})
    escalation.refresh_from_db()
    run.refresh_from_db()
    assert escalation.status == Escalation.Status.APPROVED and escalation.decision_note == "fine by me"
    assert run.status == AgentRun.Status.QUEUED


def test_the_reject_action_cancels_waiting_runs(staff_client) -> None:
    run = start_run(agent_name="t_approval", input={"text": "it"}, trigger="event", enqueue=False)
    runtime.execute(run.pk)
    escalation = Escalation.objects.get(run=run)
    staff_client.post(
        reverse("admin:agents_escalation_changelist"),
        {"action": "reject_selected", "_selected_action": [escalation.pk]},
    )
    run.refresh_from_db()
    assert run.status == AgentRun.Status.CANCELED
