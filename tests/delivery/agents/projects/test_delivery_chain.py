"""The delivery stage on simulated time: a signed client's plan goes onto the board, the sandbox's
team works it, tracking follows, QA reviews each finished milestone and the client hears every week."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.models import AgentRun
from agents.testing import advance, keep_schedules, run_agent
from crm.models import Message
from delivery.models import ClientReport, Deliverable, Milestone, Project, ProjectTask, QAReview
from integrations.models import SandboxRecord
from tests.delivery.agents.projects.scene import contact, signed_client

pytestmark = pytest.mark.django_db
DELIVERY = {"progress_tracking", "quality_assurance", "client_reporting", "resource_planning", "change_request"}


def test_a_plan_is_worked_tracked_reviewed_and_reported_week_by_week(frozen_clock: Any) -> None:
    client = signed_client()
    lead = contact(client)
    assert run_agent("project_management", {"client_id": client.pk}).status == "succeeded"
    project = Project.objects.get(client=client)
    keep_schedules(lambda name: name in DELIVERY)

    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(weeks=9), step=dt.timedelta(hours=8))

    assert not AgentRun.objects.filter(status__in=["failed", "running", "queued"]).exists()
    tasks = ProjectTask.objects.filter(project=project, kind=ProjectTask.Kind.PLANNED)
    assert all(t.closed and t.synced_at for t in tasks)  # the board's progress came back
    milestones = list(project.milestones.order_by("order"))
    assert all(m.status == Milestone.Status.DONE and m.completed_on for m in milestones)
    # Every finished milestone went through QA; what passed was delivered to the client.
    for milestone in milestones:
        reviews = QAReview.objects.filter(deliverable__milestone=milestone)
        assert reviews.exists()
        assert all([f["criterion"] for f in r.findings] == milestone.acceptance_criteria for r in reviews)
        deliverable = Deliverable.objects.get(milestone=milestone)
        assert deliverable.status == Deliverable.Status.DELIVERED
        assert reviews.latest("pk").verdict == "pass"
    # Work the team dropped was caught by QA and reworked before the client got it.
    for task in tasks.filter(status=ProjectTask.Status.DROPPED):
        assert QAReview.objects.filter(deliverable__milestone=task.milestone, verdict="fail").exists()
        assert ProjectTask.objects.filter(
            milestone=task.milestone, kind=ProjectTask.Kind.REWORK, status="done"
        ).exists()
    project.refresh_from_db()
    assert project.status == Project.Status.COMPLETED
    # One report a week while the work was in flight, each emailed once.
    reports = list(ClientReport.objects.filter(client=client).order_by("period_start"))
    assert len(reports) >= 3
    assert len({r.period_start for r in reports}) == len(reports) and all(r.sent_at for r in reports)
    sent = Message.objects.filter(to_email=lead.email, intent="status_report", status=Message.Status.SENT)
    assert sent.count() == len(reports)
    assert Message.objects.filter(to_email=lead.email, intent="delivery").count() == len(milestones)
    # The client noticed: reports and deliveries moved their mood, once per week and per milestone.
    moves = SandboxRecord.objects.get(kind="client_mood", ref=lead.email).data["moves"]
    reasons = [m["reason"] for m in moves]
    assert reasons.count("weekly status report") == len(reports)
    assert sum(1 for r in reasons if r.startswith("milestone") and "delivered" in r) == len(milestones)
    late = [m for m in milestones if m.slip_days > 7]
    assert all(any(m.name in r and "past due" in r for r in reasons) for m in late)
