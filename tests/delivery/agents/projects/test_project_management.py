"""project_management: the plan from the signed scope, pushed to the PM tool once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agents.models import Action
from agents.testing import assert_idempotent, crash_and_finish, run_agent
from delivery.models import Milestone, Project, ProjectTask
from delivery.services.renewals import add_months, draft_renewal
from integrations.models import SandboxRecord
from sales.models import Client, Proposal
from smarter_team import clock
from tests.delivery.agents.projects.scene import LINE_ITEMS, contact, signed_client
from tests.factories.sales import ProposalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_the_signed_scope_becomes_milestones_and_tasks_on_the_board() -> None:
    client = signed_client()

    result = run_agent("project_management", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    project = Project.objects.get(pk=result.output["project_id"])
    # 2,500 + 13,000 at the blended 150/h: 16.5 h of workshop and 86.5 h of workflows were sold.
    assert project.committed_hours == Decimal("103.00")
    milestones = list(project.milestones.order_by("order"))
    assert [m.name for m in milestones] == ["Discovery and design", "Workflow automation", "Launch and handover"]
    build = milestones[1]
    assert any("follow-ups fall through the cracks" in c for c in build.acceptance_criteria)
    assert "Connected to HubSpot, Slack" in build.acceptance_criteria
    tasks = list(ProjectTask.objects.filter(project=project))
    planned = sum((t.estimate_hours for t in tasks), Decimal("0"))
    assert Decimal("0.75") * project.committed_hours <= planned <= Decimal("1.25") * project.committed_hours
    assert all(t.milestone and t.due_on and t.milestone.due_on and t.due_on <= t.milestone.due_on for t in tasks)
    dues = [m.due_on for m in milestones if m.due_on is not None]
    assert dues == sorted(dues) and len(dues) == len(milestones)
    assert project.due_on == milestones[-1].due_on
    # On the board: the project with whom it is for, each task with our key, estimate and milestone.
    assert project.pm_tool_id.startswith("sbx_prj_")
    assert all(t.external_id.startswith("sbx_tsk_") for t in tasks)
    board = SandboxRecord.objects.get(kind="project", ref=project.pm_tool_id).data
    assert board["contact"] == contact(client).email and board["domain"] == client.company.domain
    remote = SandboxRecord.objects.filter(kind="task", data__project_id=project.pm_tool_id)
    assert remote.count() == len(tasks)
    assert all(r.data["estimate_hours"] and r.data["milestone"] for r in remote)
    assert [(a.kind, a.status) for a in result.acts] == [("project_tool.push", Action.Status.DONE)]


def test_a_stated_timeline_longer_than_the_work_spreads_the_milestones_over_it() -> None:
    client = signed_client()

    project = Project.objects.get(pk=run_agent("project_management", {"client_id": client.pk}).output["project_id"])

    # "live within 8 weeks": 103 h at 30 h a week would take under 4 weeks; the plan uses the 8.
    assert project.due_on is not None and project.starts_on is not None
    assert 38 <= (project.due_on - project.starts_on).days <= 56


def test_planning_twice_changes_nothing_and_pushes_nothing_twice() -> None:
    client = signed_client()

    _first, second = assert_idempotent("project_management", {"client_id": client.pk})

    assert second.output["notes"] == ["planned before: the plan stands"]
    assert Project.objects.count() == 1
    assert SandboxRecord.objects.filter(kind="task").count() == ProjectTask.objects.count()


def test_a_worker_lost_after_the_tool_answered_leaves_one_board() -> None:
    client = signed_client()

    crash_and_finish("project_management", {"client_id": client.pk}, at="after_call")

    project = Project.objects.get()
    assert SandboxRecord.objects.filter(kind="project").count() == 1
    assert SandboxRecord.objects.filter(kind="task").count() == project.tasks.count()
    assert not project.tasks.filter(external_id="").exists()


def test_a_brain_plan_that_drops_sold_hours_is_replaced_by_the_heuristic() -> None:
    client = signed_client()
    thin = {
        "milestones": [
            {"name": "Everything", "acceptance_criteria": ["follow-ups and reporting automated"],
             "tasks": [{"title": "Do the follow-ups and reporting", "estimate_hours": "10", "serves": [1]}]}
        ]
    }  # fmt: skip

    result = run_agent("project_management", {"client_id": client.pk}, answers=[thin])

    assert result.status == "succeeded", result.error
    assert Milestone.objects.filter(name="Everything").count() == 0
    assert Milestone.objects.filter(name="Workflow automation").exists()


def test_a_brain_plan_within_the_sold_hours_is_used_as_given() -> None:
    client = signed_client()
    plan = {
        "milestones": [
            {"name": "Discovery", "acceptance_criteria": ["Requirements signed off"],
             "tasks": [{"title": "Requirements workshop", "estimate_hours": "16", "serves": [1]}]},
            {"name": "Follow-up and reporting automations",
             "acceptance_criteria": ["Follow-ups no longer fall through the cracks",
                                     "Client reporting runs without spreadsheets"],
             "tasks": [{"title": "Follow-up workflow in HubSpot", "estimate_hours": "44", "serves": [1]},
                       {"title": "Automated client reporting", "estimate_hours": "43", "serves": [2]}]},
        ]
    }  # fmt: skip

    result = run_agent("project_management", {"client_id": client.pk}, answers=[plan])

    assert result.status == "succeeded", result.error
    names = list(Milestone.objects.order_by("order").values_list("name", flat=True))
    assert names == ["Discovery", "Follow-up and reporting automations"]
    assert ProjectTask.objects.get(title="M2. Automated client reporting").description.endswith(
        "Shows: Client reporting runs without spreadsheets"
    )


def test_an_upsell_the_client_signed_later_is_planned_as_a_project_of_its_own() -> None:
    client = signed_client()
    first = run_agent("project_management", {"client_id": client.pk}).output["project_id"]
    upsell = ProposalFactory.create(
        signed=True, client=client, company=client.company, lead=contact(client), title="WhatsApp channel",
        requirements={"kind": "upsell", "needs": ["answer customers on WhatsApp"]},
        line_items=[{"description": "Chatbot: answer customers on WhatsApp", "quantity": "1", "unit_price": "6000"}],
    )  # fmt: skip

    result = run_agent("project_management", {"client_id": client.pk, "proposal_id": upsell.pk})

    assert result.status == "succeeded", result.error
    project = Project.objects.get(pk=result.output["project_id"])
    assert project.pk != first and project.proposal == upsell and project.milestones.exists()
    elsewhere = ProposalFactory.create(signed=True)  # another company's signed proposal is not this client's scope
    refused = run_agent("project_management", {"client_id": client.pk, "proposal_id": elsewhere.pk})
    assert refused.status == "skipped" and "not a signed proposal of client" in refused.error


RETAINER = {"description": "AI operations retainer", "quantity": "3", "unit_price": "4500.00", "amount": "13500.00"}


def test_a_retainers_months_are_planned_after_the_build_each_taken_up_when_its_month_starts() -> None:
    client = signed_client(line_items=[*LINE_ITEMS, RETAINER])

    result = run_agent("project_management", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    project = Project.objects.get(pk=result.output["project_id"])
    milestones = list(project.milestones.order_by("order"))
    months = [m for m in milestones if m.name.startswith("Operations: ")]
    assert [m.name for m in milestones[: -len(months)]][-1] == "Launch and handover" and len(months) == 3
    assert project.starts_on is not None and project.due_on == months[-1].due_on
    for number, month in enumerate(months):
        first = add_months(project.starts_on, number)
        assert month.due_on is not None and first < month.due_on < add_months(project.starts_on, number + 1)
        tasks = list(month.tasks.all())
        # 13,500 over three months at the blended 150/h: 30 h a month, split over the month's work.
        assert sum((t.estimate_hours for t in tasks), Decimal("0")) == Decimal("30.0")
        assert all(f"Starts: {first.isoformat()}" in t.description for t in tasks)
    # The build's hours and the retainer's both are committed work.
    assert project.committed_hours == Decimal("103.00") + Decimal("90.0")


def test_a_signed_renewal_is_planned_as_its_months_from_the_day_the_old_term_ends() -> None:
    client = signed_client(line_items=[*LINE_ITEMS, RETAINER])
    ends = clock.today() + dt.timedelta(days=30)
    Client.objects.filter(pk=client.pk).update(contract_end=ends, monthly_value=Decimal("4500.00"))
    client.refresh_from_db()
    renewal = draft_renewal(client=client, contact=contact(client), term_months=6)
    Proposal.objects.filter(pk=renewal.pk).update(status="signed", signed_at=clock.now())

    result = run_agent("project_management", {"client_id": client.pk, "proposal_id": renewal.pk})

    assert result.status == "succeeded", result.error
    project = Project.objects.get(pk=result.output["project_id"])
    names = list(project.milestones.order_by("order").values_list("name", flat=True))
    starts = ends + dt.timedelta(days=1)
    assert len(names) == 6 and all(n.startswith("Operations: ") for n in names)
    assert names[0] == f"Operations: {starts:%B %Y}"
    first_month = project.milestones.order_by("order")[0]
    assert all(f"Starts: {starts.isoformat()}" in t.description for t in first_month.tasks.all())
    client.refresh_from_db()
    assert client.contract_end == ends  # a contract end on record is the renewal's to move, not the plan's


def test_a_client_without_a_signed_proposal_is_skipped_with_the_reason() -> None:
    from tests.factories.sales import ClientFactory

    result = run_agent("project_management", {"client_id": ClientFactory.create().pk})

    assert result.status == "skipped"
    assert "no signed proposal" in result.error or "no signed proposal" in str(result.output)


def test_an_unknown_client_is_skipped() -> None:
    result = run_agent("project_management", {"client_id": 987654})

    assert result.status == "skipped"
    assert not Project.objects.exists()
