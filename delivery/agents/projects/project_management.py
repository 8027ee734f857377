"""project_management: a signed client's work, planned and on the PM tool's board.

Facts: the client, its signed proposal (the scope: line items and requirements, read by
``planning.read_scope``), its primary contact, and the project when one was planned already.
Decides: the plan: milestones with acceptance criteria and tasks with estimates (the brain, checked
against the hours sold and the needs stated; offline ``planning.heuristic_plan``). Dates are not
the brain's: they follow from the hours at the agency's pace plus a buffer, over the client's
timeline when that is longer.
Does: the Project (committed hours from the line items), its milestones and tasks, in one go;
then pushes them to the PM tool, keyed by the project and each task, so a retry creates nothing twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead
from delivery.agents.projects.common import next_working_day
from delivery.agents.projects.planning import Plan, Scope, heuristic_plan, plan_problem, read_scope, schedule_plan
from delivery.agents.projects.pm_tool import push
from delivery.models import Project, ProjectTask
from delivery.services.projects import plan_project
from sales.models import Client, Proposal

PROMPT = """You plan the delivery of a signed project for an AI services agency.
From the proposal's line items (what was sold, with the hours each stands for) and the client's
requirements, give milestones in order: each with acceptance criteria a reviewer can check (tie
each to a stated need or goal; quote numbers from the goals exactly) and tasks with estimates in
hours. Plan the hours that were sold, no more than a quarter more or less. Start with discovery
and end with launch and handover. Task titles are unique and say what gets done."""


class ClientRef(BaseModel):
    client_id: int
    # The signed proposal to plan (an upsell a current client signed); none: the client's latest.
    proposal_id: int | None = None


class ScopeFacts(Facts):
    client: Client
    proposal: Proposal
    contact: Lead | None = None
    scope: Scope
    starts_on: dt.date
    project: Project | None = None


class Planned(BaseModel):
    project_id: int
    milestones: int = 0
    tasks: int = 0
    committed_hours: Decimal = Decimal("0")
    due_on: dt.date | None = None
    notes: list[str] = []


def signed_proposal(client: Client, proposal_id: int | None = None) -> Proposal | None:
    """The scope of the work: the client's latest signed proposal (by its client, else its company),
    or the one named."""
    signed = Proposal.objects.filter(status=Proposal.Status.SIGNED).order_by("-signed_at", "-pk")
    if proposal_id is not None:
        signed = signed.filter(pk=proposal_id)
    return signed.filter(client=client).first() or signed.filter(company_id=client.company_id).first()


def project_name(client: Client, proposal: Proposal) -> str:
    return f"{client.company.name}: {proposal.title}"[:255]


def board_description(client: Client, contact: Lead | None, proposal: Proposal) -> str:
    """What the PM tool's project says about whom the work is for."""
    lines = [f"Client: {client.company.name} ({client.company.domain})"]
    if contact is not None and contact.email:
        lines.append(f"Client contact: {contact.email}")
    lines.append(f"Scope: {proposal.title}")
    return "\n".join(lines)


def task_description(*, milestone: str, hours: Decimal, shows: list[str]) -> str:
    """The tool's task text: its milestone, its estimate and the criteria its work shows (QA reads them)."""
    return "\n".join([f"Milestone: {milestone}", f"Estimate: {hours}h", *(f"Shows: {c}" for c in shows)])


@register
class ProjectManagement(LLMAgent[ClientRef, Planned, Plan]):
    name = "project_management"
    category = "delivery"
    trigger = "handoff"
    Input = ClientRef
    Facts = ScopeFacts
    Output = Planned
    Decision = Plan
    system_prompt = PROMPT
    max_tokens = 4096

    def load(self, ctx: RunContext, data: ClientRef) -> ScopeFacts:
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        proposal = signed_proposal(client, data.proposal_id)
        if proposal is None and data.proposal_id is not None:
            raise SkipRun(f"proposal #{data.proposal_id} is not a signed proposal of client #{client.pk}")
        if proposal is None:
            raise SkipRun(f"client #{client.pk} has no signed proposal: there is no scope to plan")
        return ScopeFacts(
            client=client,
            proposal=proposal,
            contact=client.primary_contact,
            scope=read_scope(requirements=proposal.requirements, line_items=proposal.line_items),
            starts_on=next_working_day(ctx.now().date()),
            project=Project.objects.filter(proposal=proposal).first(),
        )

    def decide(self, ctx: RunContext, facts: ScopeFacts) -> Plan:
        if facts.project is not None:
            return Plan(milestones=heuristic_plan(facts.scope, client_name=facts.client.company.name).milestones)
        return ctx.brain.decide_checked(facts, check=lambda plan: plan_problem(plan, facts.scope))

    def prompt(self, ctx: RunContext, facts: ScopeFacts) -> str:
        scope = facts.scope
        parts = [f"Client: {facts.client.company.name}", f"Proposal: {facts.proposal.title}", "Line items:"]
        parts += [
            f"- {li.description}: {li.amount} {facts.proposal.currency}, {li.hours} h ({li.kind})" for li in scope.lines
        ]
        parts.append(f"Hours sold for the build: {scope.committed_hours}")
        for title, values in (
            ("Needs", scope.needs),
            ("Scope items", scope.items),
            ("Goals", scope.goals),
            ("Tools", scope.tools),
        ):
            if values:
                parts.append(f"{title}:\n" + "\n".join(f"- {v}" for v in values))
        if scope.timeline_text:
            parts.append(f"Timeline: {scope.timeline_text}")
        return "\n".join(parts)

    def heuristic(self, ctx: RunContext, facts: ScopeFacts) -> Plan:
        return heuristic_plan(facts.scope, client_name=facts.client.company.name)

    def act(self, ctx: RunContext, facts: ScopeFacts, plan: Plan) -> Planned:
        if facts.project is not None:
            return self._pushed(ctx, facts, facts.project, notes=["planned before: the plan stands"])
        dated, due_on, note = schedule_plan(plan, starts_on=facts.starts_on, timeline_weeks=facts.scope.timeline_weeks)
        specs = []
        for number, (milestone, dates) in enumerate(zip(plan.milestones, dated, strict=True), start=1):
            tasks = [
                {
                    "key": f"proposal:{facts.proposal.pk}:m{number}:t{index}",
                    "title": f"M{number}. {task.title}",
                    "description": task_description(
                        milestone=milestone.name,
                        hours=task.estimate_hours,
                        shows=[
                            milestone.acceptance_criteria[n - 1]
                            for n in task.serves
                            if 0 < n <= len(milestone.acceptance_criteria)
                        ],
                    ),
                    "estimate_hours": task.estimate_hours,
                    "due_on": due,
                }
                for index, (task, due) in enumerate(zip(milestone.tasks, dates.task_dues, strict=True), start=1)
            ]
            specs.append(
                {
                    "name": milestone.name,
                    "due_on": dates.due_on,
                    "acceptance_criteria": milestone.acceptance_criteria,
                    "tasks": tasks,
                }
            )
        name = project_name(facts.client, facts.proposal)
        if Project.objects.filter(client=facts.client, name=name).exists():
            # A second signed proposal of the same title (two buyers at one company): its own project.
            name = f"{name[:230]} (proposal #{facts.proposal.pk})"
        project = plan_project(
            client=facts.client,
            name=name,
            proposal=facts.proposal,
            milestones=specs,
            starts_on=facts.starts_on,
            due_on=due_on,
            committed_hours=facts.scope.committed_hours or plan.hours,
        )
        notes = [*plan.assumptions, *([note] if note else [])]
        ctx.update(project, action="project.planned", note={"hours_planned": str(plan.hours), "notes": notes})
        return self._pushed(ctx, facts, project, notes=notes)

    def _pushed(self, ctx: RunContext, facts: ScopeFacts, project: Project, *, notes: list[str]) -> Planned:
        tasks = list(ProjectTask.objects.filter(project=project, kind=ProjectTask.Kind.PLANNED).order_by("order", "pk"))
        push(
            ctx,
            key=f"project:{project.pk}:plan",
            project=project,
            description=board_description(facts.client, facts.contact, facts.proposal),
            tasks=tasks,
        )
        return Planned(
            project_id=project.pk,
            milestones=project.milestones.count(),
            tasks=len(tasks),
            committed_hours=project.committed_hours,
            due_on=project.due_on,
            notes=notes,
        )
