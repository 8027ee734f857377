"""Projects and their milestones and deliverables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Message
from delivery.models import ChangeRequest, Deliverable, Milestone, Project, ProjectTask, QAReview
from sales.models import Client, Proposal

MILESTONE_FIELDS = {"name", "due_on", "amount", "acceptance_criteria", "external_id"}
TASK_FIELDS = {"key", "title", "description", "estimate_hours", "due_on"}


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


def plan_project(
    *,
    client: Client,
    name: str,
    milestones: Sequence[Mapping[str, Any]],
    proposal: Proposal | None = None,
    starts_on: dt.date | None = None,
    due_on: dt.date | None = None,
    committed_hours: Decimal = Decimal("0"),
) -> Project:
    """A project with its milestones and each milestone's ``tasks`` ``[{key, title, description,
    estimate_hours, due_on}]``, all or nothing."""
    specs = [{k: v for k, v in m.items() if k != "tasks"} for m in milestones]
    with transaction.atomic():
        project = create_project(
            client=client,
            name=name,
            milestones=specs,
            proposal=proposal,
            starts_on=starts_on,
            due_on=due_on,
            committed_hours=committed_hours,
        )
        for milestone, spec in zip(project.milestones.order_by("order"), milestones, strict=True):
            add_project_tasks(project=project, milestone=milestone, tasks=spec.get("tasks", ()))
        return project


def add_milestone(
    *,
    project: Project,
    name: str,
    due_on: dt.date | None = None,
    acceptance_criteria: Sequence[str] = (),
    amount: Decimal = Decimal("0.00"),
) -> Milestone:
    """One more milestone at the end of a project (an approved change); the project's due date
    moves with it when it ends later."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        spec = _milestones([{"name": name, "due_on": due_on, "amount": amount}], due_on=None)[0]
        if project.milestones.filter(name=spec["name"]).exists():
            raise ValidationError(f"Milestone {spec['name']!r} exists already", code="invalid_milestone")
        order = (project.milestones.order_by("-order").values_list("order", flat=True).first() or 0) + 1
        milestone = Milestone.objects.create(
            project=project,
            name=spec["name"],
            order=order,
            due_on=due_on,
            amount=amount,
            acceptance_criteria=[str(c) for c in acceptance_criteria],
        )
        if due_on is not None and (project.due_on is None or due_on > project.due_on):
            project.due_on = due_on
            project.save(update_fields=["due_on"])
        return milestone


def add_project_tasks(
    *,
    project: Project,
    tasks: Sequence[Mapping[str, Any]],
    milestone: Milestone | None = None,
    kind: str = ProjectTask.Kind.PLANNED,
) -> list[ProjectTask]:
    """Tasks of ``project`` (under ``milestone`` when given), once per ``key``: a key already used
    returns the task it made, so a retried plan, rework or change adds nothing twice."""
    if milestone is not None and milestone.project_id != project.pk:
        raise ValidationError("The milestone belongs to another project", code="foreign_milestone")
    made: list[ProjectTask] = []
    with transaction.atomic():
        order = ProjectTask.objects.filter(project=project).count()
        for index, spec in enumerate(tasks):
            unknown = set(spec) - TASK_FIELDS
            if unknown:
                raise ValidationError(f"Task {index + 1}: unknown fields {sorted(unknown)}", code="invalid_task")
            key, title = str(spec.get("key") or "").strip(), str(spec.get("title") or "").strip()
            if not key or not title:
                raise ValidationError(f"Task {index + 1}: a key and a title are required", code="invalid_task")
            hours = spec.get("estimate_hours", Decimal("0"))
            if not isinstance(hours, Decimal) or hours < 0:
                raise ValidationError(f"Task {title!r}: estimate_hours must be a Decimal >= 0", code="invalid_task")
            task, created = ProjectTask.objects.get_or_create(
                key=key,
                defaults={
                    "project": project,
                    "milestone": milestone,
                    "title": title[:255],
                    "description": str(spec.get("description") or ""),
                    "kind": kind,
                    "estimate_hours": hours,
                    "due_on": spec.get("due_on"),
                    "order": order,
                },
            )
            order += int(created)
            made.append(task)
        return made


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
            _start(milestone.project_id)
        return milestone


def _start(project_id: int) -> None:
    """Work on a milestone of a planned project starts the project. Call inside a transaction."""
    project = Project.objects.select_for_update().get(pk=project_id)
    if project.status == Project.Status.PLANNING:
        project.transition_to(Project.Status.ACTIVE)


def add_deliverable(*, milestone: Milestone, name: str, url: str = "", description: str = "") -> Deliverable:
    if not name.strip():
        raise ValidationError("A deliverable needs a name", code="missing_name")
    return Deliverable.objects.create(milestone=milestone, name=name.strip(), url=url, description=description)


def submit_deliverable_for_qa(*, deliverable: Deliverable, description: str | None = None) -> Deliverable:
    """Ready for QA (again, after rework: ``description`` then says what changed). Whoever marks it
    ready (progress_tracking, an operator), the quality_assurance agent reviews it: the event starts
    its run in this transaction, once per submission."""
    from agents.models import AgentRun
    from agents.services.runs import start_run

    with transaction.atomic():
        deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        also = []
        if description is not None and description != deliverable.description:
            deliverable.description, also = description, ["description"]
        if deliverable.status == Deliverable.Status.READY and not also:
            return deliverable  # submitted already: its review is under way
        deliverable.transition_to(Deliverable.Status.READY, also=also)
        start_run(
            agent_name="quality_assurance",
            input={"deliverable_id": deliverable.pk},
            trigger=AgentRun.Trigger.EVENT,
            idempotency_key=f"deliverable:{deliverable.pk}:ready:{deliverable.reviews.count() + 1}",
        )
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
    *,
    project: Project,
    description: str,
    price: Decimal = Decimal("0.00"),
    currency: str = "USD",
    source_message: Message | None = None,
) -> ChangeRequest:
    """Scope the client asked for beyond the contract; priced and approved before any work."""
    if not description.strip():
        raise ValidationError("A change request needs a description", code="missing_description")
    if not isinstance(price, Decimal) or price < 0:
        raise ValidationError("The price must be a Decimal >= 0", code="invalid_price")
    status = ChangeRequest.Status.PRICED if price > 0 else ChangeRequest.Status.DETECTED
    return ChangeRequest.objects.create(
        project=project,
        description=description.strip(),
        price=price,
        currency=currency.upper(),
        status=status,
        source_message=source_message,
    )


def change_change_request_status(*, change_request: ChangeRequest, status: str) -> ChangeRequest:
    with transaction.atomic():
        change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        change_request.transition_to(status)
        return change_request
