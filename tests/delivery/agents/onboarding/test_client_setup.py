"""client_setup: the workspace in the PM tool, the accesses asked for, once."""

from __future__ import annotations

import pytest

from agents.registry import is_registered
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.onboarding.client_setup import systems_in_scope
from delivery.agents.onboarding.common import ACCESSES, ASSETS, WORKSPACE
from delivery.models import ClientAccess, Onboarding
from integrations.models import SandboxRecord
from tests.delivery.agents.lifecycle import signed_client
from tests.factories.sales import ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def onboarded(**kwargs: object) -> Onboarding:
    client = signed_client(**kwargs)  # type: ignore[arg-type]
    assert run_agent("onboarding_orchestrator", {"client_id": client.pk}).status == "succeeded"
    return Onboarding.objects.get(client=client)


def test_the_workspace_is_created_with_the_clients_tasks_and_the_accesses_are_asked_for() -> None:
    onboarding = onboarded()

    result = run_agent("client_setup", {"client_id": onboarding.client_id})

    assert result.status == "succeeded", result.error
    tasks = {t.item: t for t in onboarding.tasks.all()}
    assert tasks[WORKSPACE].done_at is not None and tasks[WORKSPACE].external_id.startswith("sbx_prj_")
    project = SandboxRecord.objects.get(kind="project", ref=tasks[WORKSPACE].external_id)
    assert onboarding.client.company.name in project.data["name"]
    pushed = SandboxRecord.objects.filter(kind="task", data__project_id=tasks[WORKSPACE].external_id)
    assert {t.ref for t in pushed} == {tasks[ACCESSES].external_id, tasks[ASSETS].external_id}
    assert tasks[ACCESSES].done_at is None  # the client grants them: read back from the workspace
    accesses = ClientAccess.objects.filter(client=onboarding.client).order_by("system")
    assert [(a.system, a.kind, a.status) for a in accesses] == [
        ("HubSpot", "user_account", "requested"),
        ("Slack", "guest", "requested"),
    ]
    request = Message.objects.get(idempotency_key=f"onboarding:{onboarding.pk}:access-request")
    assert "HubSpot" in request.body and "Slack" in request.body and request.status == Message.Status.SENT
    assert result.output["accesses_requested"] == ["HubSpot", "Slack"]
    if is_registered("project_management"):
        assert [r.agent_name for r in result.handoffs] == ["project_management"]


def test_a_second_run_creates_nothing_again() -> None:
    onboarding = onboarded()

    assert_idempotent("client_setup", {"client_id": onboarding.client_id})

    assert ClientAccess.objects.count() == 2
    assert SandboxRecord.objects.filter(kind="project").count() == 1


def test_without_any_of_the_clients_systems_in_scope_the_accesses_item_is_done_at_once() -> None:
    onboarding = onboarded(requirements={"needs": ["a chatbot on the website"]}, tech_stack=[])

    result = run_agent("client_setup", {"client_id": onboarding.client_id})

    assert result.status == "succeeded", result.error
    assert not ClientAccess.objects.exists()
    assert onboarding.tasks.get(item=ACCESSES).done_at is not None
    assert not Message.objects.filter(intent="onboarding_access_request").exists()


def test_a_client_without_an_open_onboarding_is_skipped() -> None:
    client = signed_client()

    result = run_agent("client_setup", {"client_id": client.pk})

    assert result.status == "skipped" and "onboarding_orchestrator" in result.error


def test_the_systems_come_from_the_signed_scope_else_from_the_tools_the_company_runs() -> None:
    scoped = ProposalFactory.build(requirements={"needs": ["sync Shopify orders into Pipedrive"]}, line_items=[])
    unscoped = ProposalFactory.build(requirements={"needs": ["fewer manual reports"]}, line_items=[])

    assert systems_in_scope(proposal=scoped, tech_stack=["Slack"]) == ["Pipedrive", "Shopify"]
    assert systems_in_scope(proposal=unscoped, tech_stack=["Slack", "notion"]) == ["Slack", "Notion"]
    assert systems_in_scope(proposal=None, tech_stack=["Slackware"]) == []
