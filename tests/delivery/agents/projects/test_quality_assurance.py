"""quality_assurance: a ready deliverable against its criteria; pass delivers it, fail sends it back."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Action
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.models import Deliverable, Milestone, Project, ProjectTask, QAReview
from delivery.services.projects import add_deliverable, submit_deliverable_for_qa
from integrations.models import SandboxRecord
from tests.delivery.agents.projects.scene import contact, planned_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def ready(project: Project, *, order: int = 0, dropped: str = "") -> Deliverable:
    """The milestone's work closed in the tool as progress_tracking would have synced it."""
    milestone = project.milestones.get(order=order)
    for task in milestone.tasks.all():
        status = ProjectTask.Status.DROPPED if dropped and dropped in task.title else ProjectTask.Status.DONE
        pm_status = "won't do" if status == ProjectTask.Status.DROPPED else "complete"
        ProjectTask.objects.filter(pk=task.pk).update(status=status, pm_status=pm_status)
    Milestone.objects.filter(pk=milestone.pk).update(status=Milestone.Status.DONE)
    deliverable = add_deliverable(milestone=milestone, name=milestone.name, url="https://app.clickup.com/t/x")
    return submit_deliverable_for_qa(deliverable=deliverable)


def test_complete_work_passes_and_is_delivered_to_the_client() -> None:
    project = planned_project()
    deliverable = ready(project)

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk})

    assert result.status == "succeeded", result.error
    review = QAReview.objects.get(deliverable=deliverable)
    criteria = project.milestones.get(order=0).acceptance_criteria
    assert review.verdict == "pass" and [f["criterion"] for f in review.findings] == criteria
    assert all(f["met"] and f["evidence"] for f in review.findings)
    deliverable.refresh_from_db()
    assert deliverable.status == Deliverable.Status.DELIVERED
    email = Message.objects.get(idempotency_key=f"deliverable:{deliverable.pk}:delivered")
    assert email.subject == "Delivered: Discovery and design is ready for your review"
    assert email.to_email == contact(project.client).email and email.status == Message.Status.SENT
    assert [(a.kind, a.status) for a in result.acts] == [("email.reply", Action.Status.DONE)]


def test_dropped_work_fails_its_criterion_and_goes_back_with_a_rework_task_on_the_board() -> None:
    project = planned_project()
    deliverable = ready(project, order=1, dropped="Integrate with")

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk})

    assert result.status == "succeeded", result.error
    review = QAReview.objects.get(deliverable=deliverable)
    assert review.verdict == "fail"
    failed = [f for f in review.findings if not f["met"]]
    assert [f["criterion"] for f in failed] == ["Connected to HubSpot, Slack"]
    assert "closed without being done (won't do)" in failed[0]["note"]
    assert all(f["met"] for f in review.findings if f["criterion"] != "Connected to HubSpot, Slack")
    deliverable.refresh_from_db()
    milestone = deliverable.milestone
    assert deliverable.status == Deliverable.Status.REJECTED
    assert milestone.status == Milestone.Status.IN_PROGRESS and milestone.completed_on is None
    rework = ProjectTask.objects.get(kind=ProjectTask.Kind.REWORK)
    assert rework.milestone == milestone and "Fixes: Connected to HubSpot, Slack" in rework.description
    assert rework.title.startswith("M2. Rework 1.1:") and rework.external_id  # on the board
    assert SandboxRecord.objects.get(kind="task", ref=rework.external_id).data["rework"] is True
    assert not Message.objects.filter(idempotency_key__startswith="deliverable:").exists()
    assert result.output["unmet"] == ["Connected to HubSpot, Slack"]


def test_once_the_rework_is_done_the_same_criterion_passes() -> None:
    project = planned_project()
    deliverable = ready(project, order=1, dropped="Integrate with")
    run_agent("quality_assurance", {"deliverable_id": deliverable.pk})
    ProjectTask.objects.filter(kind=ProjectTask.Kind.REWORK).update(status=ProjectTask.Status.DONE)
    submit_deliverable_for_qa(deliverable=deliverable)

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk})

    assert result.output["verdict"] == "pass" and result.output["delivered"]
    finding = next(f for f in QAReview.objects.latest("pk").findings if f["criterion"] == "Connected to HubSpot, Slack")
    assert finding["met"] and "after rework" in finding["note"]


def test_a_brain_review_that_cites_work_the_milestone_does_not_have_is_replaced() -> None:
    project = planned_project()
    deliverable = ready(project, order=1, dropped="Integrate with")
    criteria = project.milestones.get(order=1).acceptance_criteria
    lenient = {
        "verdict": "pass",
        "findings": [{"criterion": c, "met": True, "note": "looks fine", "evidence": ["Demo video"]} for c in criteria],
    }

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk}, answers=[lenient])

    assert result.output["verdict"] == "fail"


def test_a_sound_brain_review_is_recorded_as_given() -> None:
    project = planned_project()
    deliverable = ready(project)
    milestone = project.milestones.get(order=0)
    titles = list(milestone.tasks.values_list("title", flat=True))
    answer = {
        "verdict": "fail",
        "findings": [
            {"criterion": milestone.acceptance_criteria[0], "met": True, "note": "signed off", "evidence": titles[:1]},
            {"criterion": milestone.acceptance_criteria[1], "met": False, "note": "the design leaves reporting out",
             "evidence": titles[1:2]},
        ],
    }  # fmt: skip

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk}, answers=[answer])

    assert result.output["verdict"] == "fail"
    assert QAReview.objects.get().findings[1]["note"] == "the design leaves reporting out"


def test_reviewing_twice_reviews_once() -> None:
    deliverable = ready(planned_project())

    _first, second = assert_idempotent("quality_assurance", {"deliverable_id": deliverable.pk})

    assert second.status == "skipped" and "not ready for QA" in second.error
    assert QAReview.objects.count() == 1


def test_a_milestone_without_criteria_is_skipped_with_the_reason() -> None:
    project = planned_project()
    Milestone.objects.filter(project=project, order=0).update(acceptance_criteria=[])

    result = run_agent("quality_assurance", {"deliverable_id": ready(project).pk})

    assert result.status == "skipped" and "no acceptance criteria" in result.error
    assert not QAReview.objects.exists()


def test_without_a_contact_we_may_email_it_passes_and_waits_as_approved(settings: Any) -> None:
    project = planned_project()
    lead = contact(project.client)
    lead.do_not_contact = True
    lead.save(update_fields=["do_not_contact"])
    deliverable = ready(project)

    result = run_agent("quality_assurance", {"deliverable_id": deliverable.pk})

    deliverable.refresh_from_db()
    assert deliverable.status == Deliverable.Status.APPROVED and "may not be emailed" in result.output["note"]


def test_a_deliverable_an_operator_marks_ready_is_reviewed_by_the_event_it_raises() -> None:
    from agents.testing import drain

    project = planned_project()
    deliverable = ready(project)  # submit_deliverable_for_qa, as the admin's "Submit for QA" calls it

    drain()

    review = QAReview.objects.get(deliverable=deliverable)
    assert review.reviewer == "quality_assurance" and review.verdict == "pass"
