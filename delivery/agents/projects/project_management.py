"""project_management: a signed client's work, planned and on the PM tool's board.

Facts: the client, its signed proposal (the scope: line items and requirements, read by
``planning.read_scope``), its primary contact, and the project when one was planned already.
Decides: the plan: milestones with acceptance criteria and tasks with estimates (the brain, checked
against the hours sold and the needs stated; offline ``planning.heuristic_plan``). Dates are not
the brain's: they follow from the hours at the agency's pace plus a buffer, over the client's
timeline when that is longer. A retainer's months follow the build, one milestone per month of the
term, each taken up when its month starts (``planning.service_months``); a renewal is its months.
Does: the Project (committed hours from the line items), its milestones and tasks, in one go;
then pushes them to the PM tool, keyed by the project and each task, so a retry creates nothing twice.
A client whose contract has no end yet gets the planned work's end as its contract end.
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
from delivery.agents.projects.common import next_working_day, sum_hours
from delivery.agents.projects.planning import (
    Dated,
    MilestoneDraft,
    Plan,
    Scope,
    ServiceMonth,
    heuristic_plan,
    plan_problem,
    read_scope,
    schedule_plan,
    service_months,
)
from delivery.agents.projects.pm_tool import push
from delivery.models import Project, ProjectTask
from delivery.services.projects import plan_project
from delivery.services.renewals import is_renewal
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
    months: list[ServiceMonth] = []  # the retainer's months, planned from the lines sold
    renewal: bool = False  # a renewal's work is its months: nothing new to build


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


def task_description(*, milestone: str, hours: Decimal, shows: list[str], starts: dt.date | None = None) -> str:
    """The tool's task text: its milestone, its estimate, when it may start (a retainer month's work)
    and the criteria its work shows (QA reads them)."""
    start = [f"Starts: {starts.isoformat()}"] if starts is not None else []
    return "\n".join([f"Milestone: {milestone}", f"Estimate: {hours}h", *start, *(f"Shows: {c}" for c in shows)])


def term_start(proposal: Proposal, starts_on: dt.date) -> dt.date:
    """When the retainer's months begin: at once, or for a renewal the day after the term it renews."""
    ends = proposal.requirements.get("contract_end") if isinstance(proposal.requirements, dict) else None
    try:
        renewed = dt.date.fromisoformat(str(ends)) + dt.timedelta(days=1) if ends else None
    except ValueError:
        renewed = None
    return max(starts_on, renewed) if renewed is not None else starts_on


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
        scope = read_scope(requirements=proposal.requirements, line_items=proposal.line_items)
        starts_on = next_working_day(ctx.now().date())
        return ScopeFacts(
            client=client,
            proposal=proposal,
            contact=client.primary_contact,
            scope=scope,
            starts_on=starts_on,
            project=Project.objects.filter(proposal=proposal).first(),
            months=service_months(scope, client_name=client.company.name, starts_on=term_start(proposal, starts_on)),
            renewal=is_renewal(proposal),
        )

    def decide(self, ctx: RunContext, facts: ScopeFacts) -> Plan:
        if facts.renewal and facts.months:
            return Plan(milestones=[m.draft for m in facts.months], assumptions=["a renewal: the retainer's months"])
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
        work: list[tuple[MilestoneDraft, Dated, dt.date | None]] = []
        note = ""
        if not (facts.renewal and facts.months):
            dated, _, note = schedule_plan(plan, starts_on=facts.starts_on, timeline_weeks=facts.scope.timeline_weeks)
            work += [(milestone, dates, None) for milestone, dates in zip(plan.milestones, dated, strict=True)]
        work += [(month.draft, month.dated, month.starts_on) for month in facts.months]
        due_on = max(dates.due_on for _, dates, _ in work)
        build_hours = Decimal("0") if facts.renewal and facts.months else facts.scope.committed_hours or plan.hours
        specs = []
        for number, (milestone, dates, starts) in enumerate(work, start=1):
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
                        starts=starts,
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
            committed_hours=build_hours + sum_hours(m.draft.hours for m in facts.months),
        )
        notes = [*plan.assumptions, *([note] if note else [])]
        ctx.update(project, action="project.planned", note={"hours_planned": str(plan.hours), "notes": notes})
        client = ctx.lock(facts.client)
        if client.contract_end is None and project.due_on is not None:
            # A contract signed without a term runs until the work it bought is done: renewal_manager
            # comes due before that end (without one, a client was never renewed nor let go).
            ctx.update(client, action="client.contract_end_set", contract_end=project.due_on)
            notes.append(f"the contract runs until the planned work ends, {project.due_on}")
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
