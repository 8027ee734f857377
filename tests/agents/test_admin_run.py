"""Running any agent from the console, and a failed run's page: its errors, its rules, its Retry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from pydantic import BaseModel, Field, model_validator

from agents import registry
from agents.base import Agent
from agents.context import RunContext
from agents.models import AgentRun, AuditLog
from tests.factories.agents import AgentRunFactory, BudgetFactory, EscalationFactory
from tests.factories.learning import ErrorLogFactory, RuleApplicationFactory

pytestmark = pytest.mark.django_db


class ConsoleInput(BaseModel):
    lead_id: int = Field(ge=1, description="the lead to look at")
    kind: Literal["reply", "bounce"]
    note: str = ""
    urgent: bool = False
    since: dt.datetime | None = None
    emails: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounces_need_an_address(self) -> ConsoleInput:
        if self.kind == "bounce" and not self.emails:
            raise ValueError("a bounce names the address that bounced")
        return self


class Done(BaseModel):
    ok: bool = True


class ConsoleAgent(Agent[ConsoleInput, Done]):
    """Looks at a lead (a test agent for the console's input form)."""

    name = "t_console"
    category = "test"
    trigger = "event"
    Input = ConsoleInput
    Output = Done

    def act(self, ctx: RunContext, data: ConsoleInput) -> Done:
        return Done()


@pytest.fixture(autouse=True)
def _console_agent() -> Iterator[None]:
    registry.register(ConsoleAgent)
    yield
    registry.unregister(ConsoleAgent.name)


def _messages(response: Any) -> list[tuple[str, str]]:
    """The messages shown on the page a POST led to (posted with follow=True, so they are consumed)."""
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


RUN_URL = "admin:agents_agentrun_run"


def test_the_input_form_is_built_from_the_agents_schema(staff_client: Any) -> None:
    page = staff_client.get(reverse(RUN_URL, args=["t_console"]))
    form = page.context["form"]
    assert list(form.fields) == ["lead_id", "kind", "note", "urgent", "since", "emails", "metadata"]
    assert form.fields["lead_id"].required and form.fields["lead_id"].help_text == "the lead to look at"
    assert [c for c, _ in form.fields["kind"].choices] == ["reply", "bounce"]
    assert not form.fields["note"].required and not form.fields["since"].required
    assert 'class="required">lead_id' in page.content.decode()


def test_bad_input_is_refused_field_by_field_and_starts_nothing(staff_client: Any) -> None:
    data = {"lead_id": "0", "kind": "spam", "since_0": "yesterday", "since_1": "", "metadata": "{not json"}
    page = staff_client.post(reverse(RUN_URL, args=["t_console"]), data)
    errors = page.context["form"].errors
    assert page.status_code == 200
    assert "greater than or equal to 1" in errors["lead_id"][0]  # the schema's own constraint
    assert "not one of the available choices" in errors["kind"][0]
    assert set(errors) == {"lead_id", "kind", "since", "metadata"}
    assert not AgentRun.objects.filter(agent_name="t_console").exists()


def test_a_rule_of_the_whole_schema_is_shown_above_the_fields(staff_client: Any) -> None:
    page = staff_client.post(reverse(RUN_URL, args=["t_console"]), {"lead_id": "7", "kind": "bounce"})
    assert "a bounce names the address that bounced" in page.context["form"].non_field_errors()[0]
    assert not AgentRun.objects.filter(agent_name="t_console").exists()


def test_a_valid_input_queues_a_run_by_the_runtime_and_leads_to_it(staff_client: Any) -> None:
    data = {"lead_id": "7", "kind": "bounce", "emails": "a@example.com\n\n b@example.com ", "metadata": '{"x": 1}'}
    response = staff_client.post(reverse(RUN_URL, args=["t_console"]), data)
    run = AgentRun.objects.get(agent_name="t_console")
    assert response.status_code == 302 and response.url == reverse("admin:agents_agentrun_change", args=[run.pk])
    assert run.status == AgentRun.Status.QUEUED and run.trigger == AgentRun.Trigger.ADMIN
    assert run.input == {
        "lead_id": 7,
        "kind": "bounce",
        "note": "",
        "urgent": False,
        "since": None,
        "emails": ["a@example.com", "b@example.com"],
        "metadata": {"x": 1},
    }
    entry = AuditLog.objects.get(action="run.start", run=run)
    assert (entry.actor_type, entry.actor) == ("user", "root")


def test_running_an_agent_needs_the_run_permission(client: Any, django_user_model: Any) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="pw-for-tests-only", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse(RUN_URL, args=["t_console"])).status_code == 403
    assert client.get(reverse("admin:agents_agentrun_run_list")).status_code == 403
    clerk.groups.add(Group.objects.get(name="operator"))
    assert client.get(reverse(RUN_URL, args=["t_console"])).status_code == 200
    assert client.get(reverse(RUN_URL, args=["no_such_agent"])).status_code == 404


def test_the_agent_list_offers_every_registered_agent(staff_client: Any) -> None:
    page = staff_client.get(reverse("admin:agents_agentrun_run_list")).content.decode()
    assert reverse(RUN_URL, args=["t_console"]) in page
    assert reverse(RUN_URL, args=["data_validation"]) in page
    runs = staff_client.get(reverse("admin:agents_agentrun_changelist")).content.decode()
    assert reverse("admin:agents_agentrun_run_list") in runs


def test_a_failed_runs_page_links_its_errors_and_rules_and_retries_it(staff_client: Any) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.FAILED, attempts=3)
    error = ErrorLogFactory.create(run=run, message="no company domain")
    ErrorLogFactory.create()  # another run's
    application = RuleApplicationFactory.create(run=run)
    url = reverse("admin:agents_agentrun_change", args=[run.pk])
    page = staff_client.get(url).content.decode()
    assert reverse("admin:learning_errorlog_change", args=[error.pk]) in page
    assert reverse("admin:learning_ruleapplication_change", args=[application.pk]) in page
    errors_url = page.split('id="run-errors"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert list(staff_client.get(errors_url).context["cl"].result_list) == [error]
    assert 'id="run-retry"' in page

    response = staff_client.post(reverse("admin:agents_agentrun_retry", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert response.redirect_chain[-1][0] == url and run.status == AgentRun.Status.QUEUED and run.attempts == 0
    assert _messages(response) == [("success", f"Run #{run.pk} is queued again.")]


def test_retry_on_a_succeeded_run_warns_and_changes_nothing(staff_client: Any) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.SUCCEEDED)
    assert (
        'id="run-retry"'
        not in staff_client.get(reverse("admin:agents_agentrun_change", args=[run.pk])).content.decode()
    )
    response = staff_client.post(reverse("admin:agents_agentrun_retry", args=[run.pk]), follow=True)
    assert _messages(response) == [
        ("warning", f"Run #{run.pk} is succeeded: nothing to retry (only failed or escalated runs are).")
    ]
    changelist = reverse("admin:agents_agentrun_changelist")
    response = staff_client.post(changelist, {"action": "retry_selected", "_selected_action": [run.pk]}, follow=True)
    assert _messages(response) == [
        ("warning", f"Nothing changed: only failed or escalated runs are retried; #{run.pk} (succeeded).")
    ]
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED


def test_bulk_actions_say_which_rows_they_left_alone(staff_client: Any) -> None:
    failed = AgentRunFactory.create(status=AgentRun.Status.FAILED)
    done = AgentRunFactory.create(status=AgentRun.Status.SUCCEEDED)
    response = staff_client.post(
        reverse("admin:agents_agentrun_changelist"),
        {"action": "retry_selected", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    assert _messages(response) == [
        ("success", "Queued again: 1 row(s)."),
        ("warning", f"1 row(s) left as they were: only failed or escalated runs are retried; #{done.pk} (succeeded)."),
    ]
    decided = EscalationFactory.create(status="rejected", decided_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    response = staff_client.post(
        reverse("admin:agents_escalation_changelist"),
        {"action": "approve_selected", "_selected_action": [decided.pk]},
        follow=True,
    )
    assert [level for level, _ in _messages(response)] == ["warning"]


def test_json_fields_show_their_default_and_come_back_blank_when_left_blank(staff_client: Any) -> None:
    page = staff_client.get(reverse(RUN_URL, args=["t_console"])).content.decode()
    assert 'id="id_metadata">\n{}</textarea>' in page  # metadata's default, as JSON
    again = staff_client.post(reverse(RUN_URL, args=["t_console"]), {"lead_id": "x", "kind": "reply", "metadata": ""})
    assert "null</textarea>" not in again.content.decode()


def test_run_again_starts_from_the_past_runs_input(staff_client: Any) -> None:
    since = "2026-03-02T09:30:00Z"
    past = AgentRunFactory.create(agent_name="t_console", input={"lead_id": 9, "kind": "reply", "since": since})
    page = staff_client.get(reverse("admin:agents_agentrun_change", args=[past.pk])).content.decode()
    again = f"{reverse(RUN_URL, args=['t_console'])}?from_run={past.pk}"
    assert again in page
    form = staff_client.get(again).context["form"]
    assert form["lead_id"].value() == 9 and form["kind"].value() == "reply"
    assert form["since"].value() == dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    assert staff_client.get(f"{reverse(RUN_URL, args=['t_console'])}?from_run=nope").status_code == 200


def test_a_run_held_by_a_paused_budget_says_until_when(staff_client: Any, frozen_clock: Any) -> None:
    until = frozen_clock.now + dt.timedelta(hours=2)
    BudgetFactory.create(scope="agent", key="t_console", on_exceed="pause", paused_until=until)
    response = staff_client.post(reverse(RUN_URL, args=["t_console"]), {"lead_id": "3", "kind": "reply"}, follow=True)
    run = AgentRun.objects.get(agent_name="t_console")
    assert run.due_at == until
    assert _messages(response) == [
        ("warning", f"Run #{run.pk} of t_console is queued, held until 2026-03-02 11:00 (a paused budget).")
    ]
