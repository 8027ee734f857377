"""client_reporting: every week, each client hears where their work stands.

The weekly beat hands each client with work in flight to a run of its own. Facts: the client's
projects, milestones (done, delivered, at risk with the slip, next), tasks (done, done this week),
QA reviews this week, change requests, read into plain numbers (``snapshot``).
Decides: the report (the brain, checked: every number in it must be one of the facts' numbers,
and it names the milestones it speaks about; offline ``render``, a plain template of the facts).
Does: the ClientReport for the week and the email to the client's primary contact, once per client
per ISO week (the report's period and the email's key).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Max, Q, QuerySet
from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead
from crm.services.agency import profile
from crm.services.outbound import queue_email
from delivery.agents.projects.common import week_of
from delivery.models import ChangeRequest, ClientReport, Deliverable, Milestone, Project, ProjectTask, QAReview
from sales.models import Client

PROMPT = """You write an AI services agency's weekly status report to a client: plain text, under
250 words, friendly and factual. Say what was done this week, where each milestone stands (done,
delivered, on track, or late by how many days), what QA found, change requests, and the next steps
with dates. Use only the numbers and dates given, exactly; invent nothing. Subject: "Weekly status
report: <company>, week of <date>"."""

REPORTED = (Client.Status.ONBOARDING, Client.Status.ACTIVE, Client.Status.AT_RISK)
# A finished project is reported for two more weeks: the delivery, then how the launch settled.
AFTER_COMPLETION = dt.timedelta(days=14)
IN_FLIGHT = (Project.Status.PLANNING, Project.Status.ACTIVE, Project.Status.ON_HOLD)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


class ClientScope(BaseModel):
    client_id: int | None = None


class MilestoneLine(BaseModel):
    name: str
    status: str
    due_on: dt.date | None
    completed_on: dt.date | None = None
    slip_days: int = 0
    tasks_done: int
    tasks_total: int
    delivered: bool = False


class ProjectLine(BaseModel):
    name: str
    due_on: dt.date | None
    tasks_done: int
    tasks_total: int
    percent_done: int
    done_this_week: list[str]
    milestones: list[MilestoneLine]
    qa_passed: int
    qa_failed: int
    changes_waiting: list[str]
    changes_approved: list[str]
    next_steps: list[str]


class Snapshot(BaseModel):
    company: str
    first_name: str
    sender: str
    week_of: dt.date
    projects: list[ProjectLine]

    def numbers(self) -> set[str]:
        """Every number the facts hold (counts, percentages, slips, the parts of each date)."""
        found = {str(self.week_of.year), str(self.week_of.month), str(self.week_of.day)}
        found.update(_NUMBER.findall(self.model_dump_json()))
        for project in self.projects:
            found.update(
                str(len(items)) for items in (project.done_this_week, project.changes_waiting, project.changes_approved)
            )
            for day in [project.due_on, *(d for m in project.milestones for d in (m.due_on, m.completed_on))]:
                if day is not None:
                    found.update({str(day.year), str(day.month), str(day.day), f"{day.day:02d}", f"{day.month:02d}"})
        return {_plain(n) for n in found}


class Reporting(Facts):
    """What one run looks at: the clients due a report (the beat) or one client's week."""


class Week(Reporting):
    client: Client
    contact: Lead | None = None
    period_start: dt.date
    period_end: dt.date
    snapshot: Snapshot


class Clients(Reporting):
    client_ids: list[int]


class Report(BaseModel):
    subject: str = Field(min_length=5, max_length=200)
    body: str = Field(min_length=20, max_length=6000)


class Reported(BaseModel):
    clients: list[int] = Field(default_factory=list)
    report_id: int | None = None
    sent: bool = False
    note: str = ""


def _plain(number: str) -> str:
    text = number.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else str(value)


def ungrounded(report: Report, snapshot: Snapshot) -> str | None:
    """A number in the report that is none of the facts' numbers (None: all grounded)."""
    allowed = snapshot.numbers()
    for number in _NUMBER.findall(f"{report.subject}\n{report.body}"):
        if _plain(number) not in allowed:
            return f"{number} is not a number from the facts"
    names = [m.name for p in snapshot.projects for m in p.milestones]
    if names and not any(name.lower() in report.body.lower() for name in names):
        return "the report names none of the milestones"
    return None


def reportable(start: dt.date) -> QuerySet[Project]:
    """Projects a report of the week from ``start`` speaks about: in flight, or finished lately."""
    finished = Project.objects.filter(status=Project.Status.COMPLETED).annotate(last=Max("milestones__completed_on"))
    recent = finished.filter(last__gte=start - AFTER_COMPLETION).values_list("pk", flat=True)
    return Project.objects.filter(Q(status__in=IN_FLIGHT) | Q(pk__in=recent))


def snapshot(client: Client, *, start: dt.date, end: dt.date) -> Snapshot:
    """The client's work in numbers, as of the week ``start``..``end``."""
    projects = reportable(start).filter(client=client)
    lines = []
    for project in projects.order_by("pk"):
        tasks = list(project.tasks.all())
        milestones = list(project.milestones.order_by("order", "pk"))
        delivered = set(
            Deliverable.objects.filter(milestone__project=project, status=Deliverable.Status.DELIVERED).values_list(
                "milestone_id", flat=True
            )
        )
        reviews = QAReview.objects.filter(deliverable__milestone__project=project, created_at__date__range=(start, end))
        changes = ChangeRequest.objects.filter(project=project)
        done = [t for t in tasks if t.status == ProjectTask.Status.DONE]
        upcoming = next(
            (m for m in milestones if m.status not in (Milestone.Status.DONE, Milestone.Status.ACCEPTED)), None
        )
        next_steps = []
        if upcoming is not None:
            open_tasks = [t.title.split(". ", 1)[-1] for t in tasks if t.milestone_id == upcoming.pk and not t.closed]
            next_steps.append(f"{upcoming.name} (due {upcoming.due_on}): " + ", ".join(open_tasks[:3]))
        lines.append(
            ProjectLine(
                name=project.name,
                due_on=project.due_on,
                tasks_done=len(done),
                tasks_total=len(tasks),
                percent_done=round(100 * len(done) / len(tasks)) if tasks else 0,
                done_this_week=[
                    t.title.split(". ", 1)[-1] for t in done if t.done_at and start <= t.done_at.date() <= end
                ],
                milestones=[
                    MilestoneLine(
                        name=m.name,
                        status=m.status,
                        due_on=m.due_on,
                        completed_on=m.completed_on,
                        slip_days=m.slip_days,
                        tasks_done=sum(1 for t in done if t.milestone_id == m.pk),
                        tasks_total=sum(1 for t in tasks if t.milestone_id == m.pk),
                        delivered=m.pk in delivered,
                    )
                    for m in milestones
                ],
                qa_passed=sum(1 for r in reviews if r.verdict == QAReview.Verdict.PASS),
                qa_failed=sum(1 for r in reviews if r.verdict == QAReview.Verdict.FAIL),
                changes_waiting=[
                    c.description[:120] for c in changes if c.status in ("detected", "priced", "awaiting_approval")
                ],
                changes_approved=[
                    c.description[:120] for c in changes.filter(status="approved", updated_at__date__gte=start)
                ],
                next_steps=next_steps,
            )
        )
    contact = client.primary_contact
    return Snapshot(
        company=client.company.name,
        first_name=(contact.first_name if contact is not None else "") or "there",
        sender=profile().sender_name,
        week_of=start,
        projects=lines,
    )


def _milestone_line(m: MilestoneLine) -> str:
    if m.status in ("done", "accepted"):
        state = f"delivered, done on {m.completed_on}" if m.delivered else f"done on {m.completed_on}, in review"
        if m.slip_days:
            state += f" ({m.slip_days} days after the due date)"
    elif m.status == "at_risk":
        state = (
            f"at risk: forecast {m.slip_days} days late (due {m.due_on}), {m.tasks_done} of {m.tasks_total} tasks done"
        )
    elif m.tasks_done or m.status == "in_progress":
        state = f"in progress, {m.tasks_done} of {m.tasks_total} tasks done, due {m.due_on}"
    else:
        state = f"not started, due {m.due_on}"
    return f"- {m.name}: {state}"


def render(snap: Snapshot) -> Report:
    """The report in plain words, every figure straight from the snapshot."""
    lines = [
        f"Hi {snap.first_name},",
        "",
        f"Here is your weekly status report for {snap.company}, week of {snap.week_of}.",
    ]
    for project in snap.projects:
        lines += [
            "",
            f"{project.name} (due {project.due_on}): {project.tasks_done} of {project.tasks_total} tasks done "
            f"({project.percent_done}%).",
            "Milestones:",
        ]
        lines += [_milestone_line(m) for m in project.milestones]
        if project.done_this_week:
            lines.append(
                f"Done this week ({len(project.done_this_week)}): " + "; ".join(project.done_this_week[:6]) + "."
            )
        else:
            lines.append("No task was closed this week.")
        if project.qa_passed or project.qa_failed:
            lines.append(
                f"Quality checks this week: {project.qa_passed} passed, {project.qa_failed} sent back for rework."
            )
        if project.changes_waiting:
            lines.append("Change requests we are pricing or confirming: " + "; ".join(project.changes_waiting) + ".")
        if project.changes_approved:
            lines.append("Change requests approved this week: " + "; ".join(project.changes_approved) + ".")
        if project.next_steps:
            lines += ["Next steps:", *(f"- {s}" for s in project.next_steps)]
    lines += ["", "Reply to this email with any question.", "", "Best,", snap.sender]
    subject = f"Weekly status report: {snap.company}, week of {snap.week_of}"
    return Report(subject=subject[:200], body="\n".join(lines))


@register
class ClientReporting(LLMAgent[ClientScope, Reported, Report]):
    name = "client_reporting"
    category = "delivery"
    trigger = ("schedule", "handoff")
    Input = ClientScope
    Facts = Reporting
    Output = Reported
    Decision = Report
    system_prompt = PROMPT
    schedule = "0 15 * * 5"  # Friday afternoon: the week's work is in, the client reads it before the weekend
    next = ("client_reporting",)

    def load(self, ctx: RunContext, data: ClientScope) -> Reporting:
        start, end = week_of(ctx.now().date())
        if data.client_id is None:
            reported = ClientReport.objects.filter(period_start=start).values_list("client_id", flat=True)
            busy = reportable(start).values_list("client_id", flat=True)
            ids = Client.objects.filter(status__in=REPORTED, pk__in=busy).exclude(pk__in=reported)
            return Clients(client_ids=list(ids.order_by("pk").values_list("pk", flat=True)))
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        if ClientReport.objects.filter(client=client, period_start=start).exists():
            raise SkipRun(f"{client} had its report for the week of {start} already")
        snap = snapshot(client, start=start, end=end)
        if not snap.projects:
            raise SkipRun(f"{client} has no project in flight: nothing to report")
        return Week(client=client, contact=client.primary_contact, period_start=start, period_end=end, snapshot=snap)

    def decide(self, ctx: RunContext, facts: Reporting) -> Report:
        if isinstance(facts, Clients):
            return Report(subject="(weekly fan-out)", body="no report is written by the beat run itself")
        assert isinstance(facts, Week)
        return ctx.brain.decide_checked(facts, check=lambda r: ungrounded(r, facts.snapshot))

    def prompt(self, ctx: RunContext, facts: Reporting) -> str:
        assert isinstance(facts, Week)
        return facts.snapshot.model_dump_json(indent=1)

    def heuristic(self, ctx: RunContext, facts: Reporting) -> Report:
        assert isinstance(facts, Week)
        return render(facts.snapshot)

    def act(self, ctx: RunContext, facts: Reporting, report: Report) -> Reported:
        if isinstance(facts, Clients):
            for pk in facts.client_ids:
                ctx.handoff("client_reporting", {"client_id": pk})
            return Reported(clients=facts.client_ids)
        assert isinstance(facts, Week)
        client, contact = facts.client, facts.contact
        row = ClientReport.objects.create(
            client=client, period_start=facts.period_start, period_end=facts.period_end, content=report.body
        )
        sent = (
            queue_email(
                ctx,
                key=f"client:{client.pk}:report:{facts.period_start}",
                lead=contact,
                subject=report.subject,
                body=report.body,
                intent="status_report",
            )
            if contact is not None
            else None
        )
        if sent is None:
            return Reported(report_id=row.pk, note="kept, not sent: the client has no contact we may email")
        ctx.update(row, action="client_report.sent", sent_at=ctx.now())
        return Reported(report_id=row.pk, sent=True)
