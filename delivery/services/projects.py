"""Projects and their milestones and deliverables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery.models import ChangeRequest, Deliverable, Milestone, Project, QAReview
from sales.models import Client, Proposal

MILESTONE_FIELDS = {"name", "due_on", "amount", "acceptance_criteria", "external_id"}


def _milestones(specs: Sequence[Mapping[str, Any]], *, due_on: dt.date | None) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    for index, spec in enumerate(specs):
        unknown = set(spec) - MILESTONE_FIELDS
        if unknown:
            raise ValidationError(f"Milestone {index + 1}: unknown fields {sorted(unknown)}", code="invalid_milestone")
        name = str(spec.get("name") or "").strip()
        if not name:
            raise ValidationError(f"Milestone {index + 1}: a name is required", code="invalid_milestone")
        amount = spec.get("amount", Decimal("0.00"))
        if not isinstance(amount, Decimal) or amount < 0:
            raise ValidationError(f"Milestone {name!r}: amount must be a Decimal >= 0", code="invalid_milestone")
        milestone_due = spec.get("due_on")
        if milestone_due is not None and due_on is not None and milestone_due > due_on:
            raise ValidationError(f"Milestone {name!r} is due after the project", code="invalid_milestone")
        cleaned.append({**spec, "name": name, "amount": amount, "order": index})
    names = [c["name"] for c in cleaned]
    if len(set(names)) != len(names):
        raise ValidationError("Milestone names must be unique within a project", code="invalid_milestone")
    return cleaned


def create_project(
    *,
    client: Client,
    name: str,
    milestones: Sequence[Mapping[str, Any]] = (),
    proposal: Proposal | None = None,
    starts_on: dt.date | None = None,
    due_on: dt.date | None = None,
    committed_hours: Decimal = Decimal("0"),
    pm_tool_id: str = "",
) -> Project:
    """A project in planning with its milestones ``[{name, due_on, amount, acceptance_criteria}]`` in order."""
    if starts_on is not None and due_on is not None and due_on < starts_on:
        raise ValidationError("The project cannot be due before it starts", code="dates_unordered")
    specs = _milestones(milestones, due_on=due_on)
    with transaction.atomic():
        project = Project.objects.create(
            client=client,
            name=name.strip(),
            proposal=proposal,
            starts_on=starts_on,
            due_on=due_on,
            committed_hours=committed_hours,
            pm_tool_id=pm_tool_id,
        )
        Milestone.objects.bulk_create(Milestone(project=project, **spec) for spec in specs)
        return project


def change_project_status(*, project: Project, status: str) -> Project:
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        project.transition_to(status)
        return project


def change_milestone_status(*, milestone: Milestone, status: str) -> Milestone:
    """Move a milestone (pending, in progress, at risk, done, accepted); starting work on a
    milestone of a planned project starts the project."""
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        milestone.transition_to(status)
        if status in (Milestone.Status.IN_PROGRESS, Milestone.Status.AT_RISK, Milestone.Status.DONE):
            project = Project.objects.select_for_update().get(pk=milestone.project_id)
            if project.status == Project.Status.PLANNING:
                project.transition_to(Project.Status.ACTIVE)
        return milestone


def add_deliverable(*, milestone: Milestone, name: str, url: str = "", description: str = "") -> Deliverable:
    if not name.strip():
        raise ValidationError("A deliverable needs a name", code="missing_name")
    return Deliverable.objects.create(milestone=milestone, name=name.strip(), url=url, description=description)


def submit_deliverable_for_qa(*, deliverable: Deliverable) -> Deliverable:
    with transaction.atomic():
        deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        deliverable.transition_to(Deliverable.Status.READY)
        return deliverable


def record_qa_review(
    *, deliverable: Deliverable, verdict: str, findings: Sequence[Mapping[str, Any]] = (), reviewer: str = ""
) -> QAReview:
    """A QA verdict on a deliverable that is ready: pass approves it, fail sends it back."""
    if verdict not in QAReview.Verdict.values:
        raise ValidationError(f"Unknown QA verdict {verdict!r}", code="invalid_verdict")
    with transaction.atomic():
        deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        approved = verdict == QAReview.Verdict.PASS
        deliverable.transition_to(Deliverable.Status.APPROVED if approved else Deliverable.Status.REJECTED)
        return QAReview.objects.create(
            deliverable=deliverable,
            verdict=verdict,
            findings=[dict(f) for f in findings],
            reviewer=reviewer or "quality_assurance",
        )


def mark_deliverable_delivered(*, deliverable: Deliverable) -> Deliverable:
    with transaction.atomic():
        deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        deliverable.transition_to(Deliverable.Status.DELIVERED)
        return deliverable


def record_change_request(
    *, project: Project, description: str, price: Decimal = Decimal("0.00"), currency: str = "USD"
) -> ChangeRequest:
    """Scope the client asked for beyond the contract; priced and approved before any work."""
    if not description.strip():
        raise ValidationError("A change request needs a description", code="missing_description")
    if not isinstance(price, Decimal) or price < 0:
        raise ValidationError("The price must be a Decimal >= 0", code="invalid_price")
    status = ChangeRequest.Status.PRICED if price > 0 else ChangeRequest.Status.DETECTED
    return ChangeRequest.objects.create(
        project=project, description=description.strip(), price=price, currency=currency.upper(), status=status
    )


def change_change_request_status(*, change_request: ChangeRequest, status: str) -> ChangeRequest:
    with transaction.atomic():
        change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        change_request.transition_to(status)
        return change_request
