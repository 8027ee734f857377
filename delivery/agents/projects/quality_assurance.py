"""quality_assurance: a deliverable that is ready, reviewed against its milestone's acceptance criteria.

Facts: the deliverable, its milestone (the criteria), the milestone's tasks as the PM tool last
showed them (done, closed as "won't do", open; rework tasks name the criterion they fix), the
project and the client's contact.
Decides: pass or fail, with one finding per criterion, each citing the tasks that show it (the
brain, checked: every criterion answered once, evidence only from the milestone's own tasks, no
criterion "met" by work that was dropped or is still open; offline the same reading in code).
Does: records the QAReview. A pass delivers the work to the client (an email that it is ready for
their review). A fail sends it back: the deliverable is rejected with the findings, the milestone
is in progress again and a rework task per unmet criterion goes to the PM tool; progress_tracking
submits the deliverable again when the rework is closed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead
from crm.services.outbound import queue_email
from delivery.agents.projects.common import add_working_days, half_hours, move, overlap, working_days_for
from delivery.agents.projects.pm_tool import push
from delivery.models import Deliverable, Milestone, Project, ProjectTask
from delivery.services.projects import add_project_tasks, mark_deliverable_delivered, record_qa_review

PROMPT = """You are the QA reviewer of an AI services agency. Review a deliverable against each
acceptance criterion of its milestone, using only the listed tasks and their status in the PM tool.
A criterion is met only when completed work shows it; work closed as "won't do" or still open does
not count, unless a completed rework task fixes it. Give one finding per criterion, in order, with
a short note and the titles of the tasks you relied on as evidence. Verdict: pass only if every
criterion is met."""

_FIXES = re.compile(r"^fixes:\s*(.+)$", re.I | re.M)
_SHOWS = re.compile(r"^shows:\s*(.+)$", re.I | re.M)
REWORK_SHARE = Decimal("0.5")  # a fix takes about half the original work (judgement)
MIN_REWORK_HOURS = Decimal("2")


class DeliverableRef(BaseModel):
    deliverable_id: int


class Finding(BaseModel):
    criterion: str
    met: bool
    note: str = Field(max_length=500)
    evidence: list[str] = Field(default_factory=list)  # task titles


class Verdict(BaseModel):
    verdict: Literal["pass", "fail"]
    findings: list[Finding]


class Review(Facts):
    deliverable: Deliverable
    milestone: Milestone
    project: Project
    contact: Lead | None = None
    criteria: list[str]
    tasks: list[ProjectTask]
    earlier_reviews: int = 0
    today: dt.date


class Reviewed(BaseModel):
    deliverable_id: int
    verdict: str
    review_id: int
    unmet: list[str] = Field(default_factory=list)
    rework_tasks: list[str] = Field(default_factory=list)
    delivered: bool = False
    note: str = ""


def fixes(task: ProjectTask) -> str:
    """The criterion a rework task was made for ("" for other tasks)."""
    found = _FIXES.search(task.description)
    return found.group(1).strip() if found else ""


def shows(task: ProjectTask) -> list[str]:
    """The criteria the plan says a task's work shows."""
    return [m.strip() for m in _SHOWS.findall(task.description)]


def covering(criterion: str, tasks: list[ProjectTask], criteria: list[str]) -> list[ProjectTask]:
    """The tasks whose work shows ``criterion``: a rework task made for it, a task the plan made
    for it, or (a task the plan did not link) one whose title speaks of it more than of any other
    criterion. A dropped task that speaks of none counts against the first criterion (the
    milestone's scope as agreed)."""
    out = []
    for task in tasks:
        target, linked = fixes(task), shows(task)
        if target or linked:
            if criterion == target or criterion in linked:
                out.append(task)
            continue
        scores = [overlap(c, task.title) for c in criteria]
        best = max(scores) if scores else 0.0
        if (best > 0 and scores[criteria.index(criterion)] == best) or (
            best == 0 and task.status == ProjectTask.Status.DROPPED and criterion == criteria[0]
        ):
            out.append(task)
    return out


def judge(criterion: str, tasks: list[ProjectTask]) -> Finding:
    if not tasks:
        return Finding(criterion=criterion, met=False, note="no completed work in the plan shows this criterion")
    rework_done = [t for t in tasks if fixes(t) and t.status == ProjectTask.Status.DONE]
    dropped = [t for t in tasks if t.status == ProjectTask.Status.DROPPED and not fixes(t)]
    still_open = [t for t in tasks if not t.closed]
    if still_open:
        return Finding(
            criterion=criterion,
            met=False,
            note=f"{still_open[0].title!r} is still open",
            evidence=[t.title for t in still_open],
        )
    if dropped and not rework_done:
        return Finding(
            criterion=criterion,
            met=False,
            note=f"{dropped[0].title!r} was closed without being done ({dropped[0].pm_status or 'dropped'})",
            evidence=[t.title for t in dropped],
        )
    done = [t for t in tasks if t.status == ProjectTask.Status.DONE]
    note = "done: " + "; ".join(t.title for t in done[:3]) + (" (after rework)" if rework_done else "")
    return Finding(criterion=criterion, met=True, note=note[:500], evidence=[t.title for t in done])


def review_problem(verdict: Verdict, facts: Review) -> str | None:
    """What makes the brain's review unusable for these facts (None: nothing)."""
    if [f.criterion.strip() for f in verdict.findings] != [c.strip() for c in facts.criteria]:
        return "the findings do not answer each acceptance criterion once, in order"
    if (verdict.verdict == "pass") != all(f.met for f in verdict.findings):
        return "the verdict does not follow from the findings"
    by_title = {t.title: t for t in facts.tasks}
    for finding in verdict.findings:
        unknown = [e for e in finding.evidence if e not in by_title]
        if unknown:
            return f"evidence {unknown[0]!r} is not a task of this milestone"
        if finding.met and not any(by_title[e].status == ProjectTask.Status.DONE for e in finding.evidence):
            return f"{finding.criterion!r} is called met without completed work as evidence"
    return None


@register
class QualityAssurance(LLMAgent[DeliverableRef, Reviewed, Verdict]):
    name = "quality_assurance"
    category = "delivery"
    trigger = "event"  # a deliverable became ready (services.projects.submit_deliverable_for_qa starts it)
    Input = DeliverableRef
    Facts = Review
    Output = Reviewed
    Decision = Verdict
    system_prompt = PROMPT
    max_tokens = 2048

    def load(self, ctx: RunContext, data: DeliverableRef) -> Review:
        deliverable = Deliverable.objects.select_related(
            "milestone__project__client__company", "milestone__project__client__primary_contact"
        ).get(pk=data.deliverable_id)
        if deliverable.status != Deliverable.Status.READY:
            raise SkipRun(f"deliverable #{deliverable.pk} is {deliverable.status}, not ready for QA")
        milestone = deliverable.milestone
        criteria = [str(c).strip() for c in (milestone.acceptance_criteria or []) if str(c).strip()]
        if not criteria:
            raise SkipRun(f"milestone {milestone.name!r} has no acceptance criteria to review against")
        return Review(
            deliverable=deliverable,
            milestone=milestone,
            project=milestone.project,
            contact=milestone.project.client.primary_contact,
            criteria=criteria,
            tasks=list(milestone.tasks.order_by("order", "pk")),
            earlier_reviews=deliverable.reviews.count(),
            today=ctx.now().date(),
        )

    def decide(self, ctx: RunContext, facts: Review) -> Verdict:
        return ctx.brain.decide_checked(facts, check=lambda v: review_problem(v, facts))

    def prompt(self, ctx: RunContext, facts: Review) -> str:
        d = facts.deliverable
        parts = [f"Deliverable: {d.name}", f"Link: {d.url or '(none)'}", f"Description:\n{d.description}"]
        parts.append("Acceptance criteria:\n" + "\n".join(f"{i}. {c}" for i, c in enumerate(facts.criteria, 1)))
        lines = [
            f"- {t.title}: {t.status} ({t.pm_status or 'no tool status'})"
            + (f", fixes: {fixes(t)}" if fixes(t) else "")
            for t in facts.tasks
        ]
        parts.append("Tasks:\n" + "\n".join(lines))
        return "\n\n".join(parts)

    def heuristic(self, ctx: RunContext, facts: Review) -> Verdict:
        findings = [judge(c, covering(c, facts.tasks, facts.criteria)) for c in facts.criteria]
        return Verdict(verdict="pass" if all(f.met for f in findings) else "fail", findings=findings)

    def act(self, ctx: RunContext, facts: Review, verdict: Verdict) -> Reviewed:
        deliverable = ctx.lock(facts.deliverable)
        if deliverable.status != Deliverable.Status.READY:
            raise SkipRun(f"deliverable #{deliverable.pk} was reviewed meanwhile ({deliverable.status})")
        review = record_qa_review(
            deliverable=deliverable,
            verdict=verdict.verdict,
            findings=[f.model_dump() for f in verdict.findings],
            reviewer=self.name,
        )
        unmet = [f for f in verdict.findings if not f.met]
        out = Reviewed(
            deliverable_id=deliverable.pk,
            verdict=verdict.verdict,
            review_id=review.pk,
            unmet=[f.criterion for f in unmet],
        )
        if verdict.verdict == "pass":
            self._deliver(ctx, facts, deliverable, verdict, out)
        else:
            self._send_back(ctx, facts, deliverable, unmet, review.pk, out)
        return out

    def _deliver(
        self, ctx: RunContext, facts: Review, deliverable: Deliverable, verdict: Verdict, out: Reviewed
    ) -> None:
        contact = facts.contact
        name = facts.milestone.name
        first = contact.first_name if contact is not None and contact.first_name else "there"
        done = [t.title.split(". ", 1)[-1] for t in facts.tasks if t.status == ProjectTask.Status.DONE]
        body = "\n".join(
            [
                f"Hi {first},",
                "",
                f"The milestone {name!r} of {facts.project.name} is delivered and ready for your review.",
                "",
                "What it includes:",
                *(f"- {t}" for t in done),
                "",
                "We checked it against the acceptance criteria we agreed:",
                *(f"- {f.criterion}: met" for f in verdict.findings),
                *(["", f"Link: {deliverable.url}"] if deliverable.url else []),
                "",
                "Tell us if anything is not as you expected.",
                "",
                "Best,",
                "The delivery team",
            ]
        )
        sent = (
            queue_email(
                ctx,
                key=f"deliverable:{deliverable.pk}:delivered",
                lead=contact,
                subject=f"Delivered: {name} is ready for your review",
                body=body,
                intent="delivery",
            )
            if contact is not None
            else None
        )
        if sent is None:
            out.note = "passed QA; the client's contact may not be emailed, so it waits as approved"
            return
        mark_deliverable_delivered(deliverable=deliverable)
        ctx.update(deliverable, action="deliverable.delivered", note={"message": sent.pk})
        out.delivered = True

    def _send_back(
        self,
        ctx: RunContext,
        facts: Review,
        deliverable: Deliverable,
        unmet: list[Finding],
        review_id: int,
        out: Reviewed,
    ) -> None:
        milestone = ctx.lock(facts.milestone)
        ctx.update(
            deliverable, action="deliverable.sent_back", note={"unmet": [f"{f.criterion}: {f.note}" for f in unmet]}
        )
        if milestone.status == Milestone.Status.DONE:
            move(ctx, milestone, Milestone.Status.IN_PROGRESS, action="milestone.reopened", completed_on=None)
        planned = [t for t in facts.tasks if not fixes(t)]
        typical = sum((t.estimate_hours for t in planned), Decimal("0")) / max(1, len(planned))
        specs = []
        for index, finding in enumerate(unmet, start=1):
            culprit = next((t for t in facts.tasks if t.title in finding.evidence), None)
            base = culprit.estimate_hours if culprit is not None else typical
            hours = max(MIN_REWORK_HOURS, half_hours(base * REWORK_SHARE))
            specs.append(
                {
                    "key": f"qa:{review_id}:rework:{index}",
                    "title": f"M{milestone.order + 1}. Rework {facts.earlier_reviews + 1}.{index}: {finding.criterion}"[
                        :255
                    ],
                    "description": f"Milestone: {milestone.name}\nEstimate: {hours}h\nFixes: {finding.criterion}\n"
                    f"Finding: {finding.note}",
                    "estimate_hours": hours,
                    "due_on": add_working_days(facts.today, working_days_for(hours)),
                }
            )
        tasks = add_project_tasks(project=facts.project, milestone=milestone, tasks=specs, kind=ProjectTask.Kind.REWORK)
        push(ctx, key=f"qa:{review_id}:rework", project=facts.project, description="", tasks=tasks)
        out.rework_tasks = [t.title for t in tasks]
