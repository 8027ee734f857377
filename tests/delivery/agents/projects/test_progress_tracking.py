"""progress_tracking: the board's truth synced, milestones completed or flagged, strangers recorded."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import AgentRun, Escalation
from agents.testing import assert_idempotent, run_agent
from delivery.models import Deliverable, Milestone, Project, ProjectTask
from integrations.models import SandboxRecord
from integrations.roles import get_role
from tests.delivery.agents.projects.scene import days, planned_project
from tests.factories.delivery import ProjectFactory

pytestmark = [pytest.mark.django_db]


def track(project: Project) -> Any:
    result = run_agent("progress_tracking", {"project_id": project.pk})
    assert result.status == "succeeded", result.error
    return result


def test_the_beat_hands_each_project_on_the_board_to_a_run_of_its_own(frozen_clock: Any) -> None:
    project = planned_project()
    ProjectFactory.create(pm_tool_id="")  # planned, not pushed yet: nothing to sync
    ProjectFactory.create(status=Project.Status.COMPLETED)

    result = run_agent("progress_tracking", {})

    assert [(r.agent_name, r.input) for r in result.handoffs] == [("progress_tracking", {"project_id": project.pk})]


def test_the_tools_progress_moves_our_tasks_and_a_finished_milestone_goes_to_qa(frozen_clock: Any) -> None:
    project = planned_project()
    frozen_clock.tick(days(12))  # discovery (16.5 h for two people) is done, however it overran

    result = track(project)

    discovery = project.milestones.get(order=0)
    assert discovery.status == Milestone.Status.DONE and discovery.completed_on == frozen_clock.now.date()
    assert set(discovery.tasks.values_list("status", flat=True)) <= {"done", "dropped"}
    assert all(t.done_at and t.pm_status and t.synced_at for t in discovery.tasks.all())
    deliverable = Deliverable.objects.get(milestone=discovery)
    assert deliverable.status == Deliverable.Status.READY
    assert "Work closed in the PM tool" in deliverable.description and deliverable.url
    assert deliverable.pk in result.output["to_qa"]
    review = AgentRun.objects.get(agent_name="quality_assurance", input={"deliverable_id": deliverable.pk})
    assert review.trigger == AgentRun.Trigger.EVENT and review.status == AgentRun.Status.QUEUED
    assert result.output["tasks_changed"] >= 3
    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    build = project.milestones.get(order=1)
    assert build.status != Milestone.Status.PENDING


def test_a_slipping_milestone_is_flagged_with_its_slip_and_a_big_slip_escalates_once(frozen_clock: Any) -> None:
    project = planned_project()
    build = project.milestones.get(order=1)
    Milestone.objects.filter(pk=build.pk).update(due_on=frozen_clock.now.date() + days(3))

    result = track(project)

    build.refresh_from_db()
    assert build.status == Milestone.Status.AT_RISK
    # ~103 h of work ahead of its end at 6 h a working day: about 18 working days, due in 3 days.
    assert build.slip_days >= 15
    assert {"milestone": build.name, "slip_days": build.slip_days} in result.output["slipping"]
    slip = Escalation.objects.get(dedupe_key=f"project:{project.pk}:milestone:{build.pk}:slip")
    assert str(build.slip_days) in slip.reason and slip.payload["slip_days"] == build.slip_days
    assert not track(project).escalations  # once per milestone, however long it stays late


def test_a_milestone_back_on_track_is_in_progress_again(frozen_clock: Any) -> None:
    project = planned_project()
    build = project.milestones.get(order=1)
    Milestone.objects.filter(pk=build.pk).update(status=Milestone.Status.AT_RISK, slip_days=4)
    frozen_clock.tick(days(1))

    track(project)

    build.refresh_from_db()
    assert build.status == Milestone.Status.IN_PROGRESS and build.slip_days == 0


def test_a_task_we_never_created_is_recorded_with_the_reason_not_imported(frozen_clock: Any) -> None:
    project = planned_project()
    stranger = get_role("project_tool").create_task(
        idempotency_key="someone-else", project_id=project.pm_tool_id, title="Redesign the logo"
    )
    before = ProjectTask.objects.count()

    result = track(project)

    assert ProjectTask.objects.count() == before
    assert result.output["foreign"] == ["Redesign the logo"]
    escalation = Escalation.objects.get(dedupe_key=f"project:{project.pk}:foreign:{stranger.task_id}")
    assert "never created" in escalation.reason and "Not imported" in escalation.reason
    assert escalation.payload["title"] == "Redesign the logo" and escalation.payload["url"]
    assert any(w.action == "project.foreign_task" for w in result.writes)
    again = track(project)
    assert again.output["foreign"] == ["Redesign the logo"] and not again.escalations


def test_a_task_gone_from_the_tool_is_reported_missing_and_a_lost_answer_is_adopted(frozen_clock: Any) -> None:
    project = planned_project()
    gone, unlinked = list(project.tasks.order_by("order")[:2])
    SandboxRecord.objects.filter(kind="task", ref=gone.external_id).delete()
    ProjectTask.objects.filter(pk=unlinked.pk).update(external_id="", url="")  # created, but the answer was lost

    result = track(project)

    assert result.output["missing"] == [gone.title]
    assert "no longer on the PM tool" in Escalation.objects.get(dedupe_key__endswith=f":missing:{gone.pk}").reason
    assert not track(project).escalations  # said once
    unlinked.refresh_from_db()
    assert unlinked.external_id.startswith("sbx_tsk_") and not result.output["foreign"]


def test_tracking_twice_the_same_day_changes_nothing_more(frozen_clock: Any) -> None:
    project = planned_project()
    frozen_clock.tick(days(20))

    first, second = assert_idempotent("progress_tracking", {"project_id": project.pk})

    assert first.output["completed"] and not second.output["completed"]


def test_a_project_not_on_the_tool_is_skipped_with_the_reason(frozen_clock: Any) -> None:
    result = run_agent("progress_tracking", {"project_id": ProjectFactory.create(pm_tool_id="").pk})

    assert result.status == "skipped" and "not on the PM tool" in result.error


def test_a_finished_plan_completes_the_project_once_everything_is_delivered(frozen_clock: Any) -> None:
    project = planned_project()
    frozen_clock.tick(days(120))
    track(project)
    for deliverable in Deliverable.objects.filter(milestone__project=project):
        Deliverable.objects.filter(pk=deliverable.pk).update(status=Deliverable.Status.DELIVERED)

    result = track(project)

    project.refresh_from_db()
    assert project.status == Project.Status.COMPLETED and result.output["project_completed"]
