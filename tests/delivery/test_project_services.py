"""Projects, milestones, deliverables and QA (delivery/services/projects.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from delivery.models import ChangeRequest, Deliverable, Milestone, Project
from delivery.services import projects
from smarter_team.models import InvalidTransition
from tests.factories.delivery import DeliverableFactory, ProjectFactory
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db]

START = dt.date(2026, 3, 2)


def test_a_project_is_created_in_planning_with_its_milestones_in_order() -> None:
    project = projects.create_project(
        client=ClientFactory.create(),
        name="Support assistant",
        starts_on=START,
        due_on=START + dt.timedelta(days=60),
        milestones=[
            {"name": "Design", "due_on": START + dt.timedelta(days=14), "amount": Decimal("3000.00")},
            {"name": "Build", "acceptance_criteria": ["90% accuracy"]},
        ],
    )

    assert project.status == Project.Status.PLANNING
    assert list(project.milestones.values_list("name", "order", "amount")) == [
        ("Design", 0, Decimal("3000.00")),
        ("Build", 1, Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    "milestones",
    [
        [{"name": ""}],
        [{"name": "a"}, {"name": "a"}],
        [{"name": "a", "amount": 10.5}],
        [{"name": "a", "due_on": START + dt.timedelta(days=90)}],
        [{"name": "a", "owner": "x"}],
    ],
)
def test_invalid_milestones_are_refused(milestones: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError):
        projects.create_project(
            client=ClientFactory.create(),
            name="p",
            starts_on=START,
            due_on=START + dt.timedelta(days=30),
            milestones=milestones,
        )
    assert not Project.objects.exists()


def test_starting_a_milestone_starts_a_planned_project() -> None:
    project = projects.create_project(client=ClientFactory.create(), name="p", milestones=[{"name": "Design"}])

    milestone = projects.change_milestone_status(
        milestone=project.milestones.get(), status=Milestone.Status.IN_PROGRESS
    )

    project.refresh_from_db()
    assert milestone.status == Milestone.Status.IN_PROGRESS
    assert project.status == Project.Status.ACTIVE


def test_a_pending_milestone_cannot_be_accepted_directly() -> None:
    project = projects.create_project(client=ClientFactory.create(), name="p", milestones=[{"name": "Design"}])

    with pytest.raises(InvalidTransition):
        projects.change_milestone_status(milestone=project.milestones.get(), status=Milestone.Status.ACCEPTED)


def test_a_completed_project_cannot_be_reopened() -> None:
    project = projects.change_project_status(project=ProjectFactory.create(), status=Project.Status.COMPLETED)

    with pytest.raises(InvalidTransition):
        projects.change_project_status(project=project, status=Project.Status.ACTIVE)


def test_a_qa_pass_approves_and_a_fail_rejects_the_deliverable() -> None:
    passed = projects.submit_deliverable_for_qa(deliverable=DeliverableFactory.create())
    failed = projects.submit_deliverable_for_qa(deliverable=DeliverableFactory.create())

    projects.record_qa_review(deliverable=passed, verdict="pass")
    review = projects.record_qa_review(
        deliverable=failed, verdict="fail", findings=[{"criterion": "tone", "met": False}]
    )

    passed.refresh_from_db()
    failed.refresh_from_db()
    assert (passed.status, failed.status) == (Deliverable.Status.APPROVED, Deliverable.Status.REJECTED)
    assert review.findings == [{"criterion": "tone", "met": False}]


def test_a_deliverable_not_ready_for_qa_cannot_be_reviewed() -> None:
    with pytest.raises(InvalidTransition):
        projects.record_qa_review(deliverable=DeliverableFactory.create(), verdict="pass")


def test_a_priced_change_request_goes_to_approval() -> None:
    change = projects.record_change_request(project=ProjectFactory.create(), description="Slack", price=Decimal("900"))

    change = projects.change_change_request_status(change_request=change, status=ChangeRequest.Status.APPROVED)

    assert change.status == ChangeRequest.Status.APPROVED


def test_a_planned_project_gets_its_tasks_once_per_key_under_their_milestones() -> None:
    task = {"key": "p:m1:t1", "title": "M1. Workshop", "estimate_hours": Decimal("6"), "due_on": START}
    project = projects.plan_project(
        client=ClientFactory.create(),
        name="Reporting automation",
        starts_on=START,
        due_on=START + dt.timedelta(days=30),
        milestones=[{"name": "Discovery", "due_on": START + dt.timedelta(days=5), "tasks": [task]}],
    )
    milestone = project.milestones.get()

    again = projects.add_project_tasks(project=project, milestone=milestone, tasks=[task])

    assert project.tasks.count() == 1 and again[0].milestone == milestone and again[0].kind == "planned"
    with pytest.raises(ValidationError, match="estimate_hours must be a Decimal"):
        projects.add_project_tasks(project=project, tasks=[{"key": "x", "title": "Bad", "estimate_hours": 3.5}])
    with pytest.raises(ValidationError, match="another project"):
        projects.add_project_tasks(project=ProjectFactory.create(), milestone=milestone, tasks=[])


def test_a_change_adds_a_milestone_at_the_end_and_moves_the_due_date() -> None:
    project = ProjectFactory.create(starts_on=START, due_on=START + dt.timedelta(days=20))
    later = START + dt.timedelta(days=40)

    milestone = projects.add_milestone(project=project, name="Change 1: WhatsApp", due_on=later, amount=Decimal("6000"))

    project.refresh_from_db()
    assert project.due_on == later and milestone.amount == Decimal("6000")
    with pytest.raises(ValidationError, match="exists already"):
        projects.add_milestone(project=project, name="Change 1: WhatsApp")


def test_a_deliverable_made_ready_starts_its_review_once_per_submission() -> None:
    from agents.models import AgentRun

    deliverable = DeliverableFactory.create()

    projects.submit_deliverable_for_qa(deliverable=deliverable)
    projects.submit_deliverable_for_qa(deliverable=deliverable)

    runs = AgentRun.objects.filter(agent_name="quality_assurance")
    assert [r.input for r in runs] == [{"deliverable_id": deliverable.pk}]
