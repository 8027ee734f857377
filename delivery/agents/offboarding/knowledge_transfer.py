"""knowledge_transfer: the handover document of what we built and how to run it, from stored facts.

Facts: the offboarding and its client, and everything stored about the work, each a numbered fact
the document may cite: projects, milestones with their acceptance criteria, deliverables with where
they live, QA reviews and their findings, change requests, and the accesses we held.
Decides (LLM; the heuristic offline): the document, in sections (what was built, how to run it,
open items, accounts and access), each citing the facts it rests on. A section that cites nothing,
cites a fact that does not exist, or names a link no cited fact holds is refused: the heuristic's
document goes instead (ctx.brain.decide_checked).
Does: saves it on the offboarding (Offboarding.handover_document), ticks the handover item, and
emails it to the client's contact once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import models
from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.models import Lead, Message
from crm.services.outbound import may_email, queue_email
from delivery.agents.offboarding.common import HANDOVER, OffboardingRef, tick
from delivery.models import ChangeRequest, ClientAccess, Deliverable, Milestone, Offboarding, Project, QAReview
from sales.models import Client

PROMPT = """You write the handover document an AI services agency gives a client who is leaving: what
was built and how to run it without us. Use only the numbered facts given; every section lists the
ids of the facts it rests on in sources, and states nothing those facts do not hold (no invented
links, numbers or features). Sections: "What we built", "How to run it", and when the facts hold
them, "Open items" and "Accounts and access". Plain text, concise, for the client's team."""

REQUIRED = ("What we built", "How to run it")
URL = re.compile(r"https?://[^\s)>\]]+")
M = TypeVar("M", bound=models.Model)


class StoredFact(BaseModel):
    id: str
    label: str  # how the document names it when it cites it
    text: str


class HandoverFacts(Facts):
    offboarding: Offboarding
    client: Client
    contact: Lead | None
    facts: list[StoredFact]
    deliverables: list[Deliverable]
    reviews: list[QAReview]
    accesses: list[ClientAccess]
    open_changes: list[ChangeRequest]
    emailed: bool = False

    def known(self) -> dict[str, StoredFact]:
        return {f.id: f for f in self.facts}


class Section(BaseModel):
    heading: str
    body: str
    sources: list[str] = Field(default_factory=list)


class Handover(BaseModel):
    title: str
    sections: list[Section]


class HandedOver(BaseModel):
    offboarding_id: int
    sections: list[str]
    cited: int
    message_id: int | None = None
    note: str = ""


def handover_problem(doc: Handover, known: dict[str, StoredFact]) -> str | None:
    """Why a document may not be handed over (None: every section is grounded in stored facts)."""
    headings = [s.heading.strip().lower() for s in doc.sections]
    missing = [h for h in REQUIRED if h.lower() not in headings]
    if missing:
        return f"sections missing: {', '.join(missing)}"
    for section in doc.sections:
        if not section.sources:
            return f"section {section.heading!r} cites no stored fact"
        unknown = [s for s in section.sources if s not in known]
        if unknown:
            return f"section {section.heading!r} cites facts that do not exist: {', '.join(unknown[:3])}"
        cited_text = " ".join(known[s].text for s in section.sources)
        invented = [u for u in URL.findall(section.body) if u.rstrip(".,;") not in cited_text]
        if invented:
            return f"section {section.heading!r} names a link no cited fact holds: {invented[0]}"
    return None


def render(doc: Handover, known: dict[str, StoredFact]) -> str:
    """The document as the client reads it; each section says what it is based on."""
    parts = [doc.title, "=" * len(doc.title)]
    for section in doc.sections:
        labels = ", ".join(known[s].label for s in section.sources if s in known)
        parts += ["", section.heading, "-" * len(section.heading), section.body.strip(), f"(Based on: {labels})"]
    return "\n".join(parts)


@register
class KnowledgeTransfer(LLMAgent[OffboardingRef, HandedOver, Handover]):
    name = "knowledge_transfer"
    category = "offboarding"
    trigger = "handoff"
    Input = OffboardingRef
    Facts = HandoverFacts
    Output = HandedOver
    Decision = Handover
    system_prompt = PROMPT
    max_tokens = 3000

    def load(self, ctx: RunContext, data: OffboardingRef) -> HandoverFacts:
        offboarding = Offboarding.objects.select_related("client__company", "client__primary_contact").get(
            pk=data.offboarding_id
        )
        client = offboarding.client
        projects = list(Project.objects.filter(client=client).order_by("starts_on", "pk"))
        deliverables = list(
            Deliverable.objects.filter(milestone__project__client=client)
            .select_related("milestone__project")
            .order_by("milestone__project_id", "milestone__order", "pk")
        )
        reviews = list(
            QAReview.objects.filter(deliverable__in=deliverables).select_related("deliverable").order_by("pk")
        )
        milestones = [m for p in projects for m in p.milestones.order_by("order", "pk")]
        changes = list(ChangeRequest.objects.filter(project__client=client).order_by("pk"))
        accesses = list(ClientAccess.objects.filter(client=client).exclude(status=ClientAccess.Status.WITHDRAWN))
        facts = [
            StoredFact(
                id="client",
                label=f"client record of {client.company.name}",
                text=f"{client.company.name}, a client since {client.started_on or 'unknown'}; "
                f"leaving because: {offboarding.reason}",
            )
        ]
        facts += _cite("project", projects, _project)
        facts += _cite("milestone", milestones, _milestone)
        facts += _cite("deliverable", deliverables, _deliverable)
        facts += _cite("qa", reviews, _review)
        facts += _cite("change", changes, _change)
        facts += _cite("access", accesses, _access)
        return HandoverFacts(
            offboarding=offboarding,
            client=client,
            contact=client.primary_contact,
            facts=facts,
            deliverables=deliverables,
            reviews=reviews,
            accesses=accesses,
            open_changes=[c for c in changes if c.status not in (ChangeRequest.Status.APPROVED,)],
            emailed=Message.objects.filter(idempotency_key=handover_key(offboarding)).exists(),
        )

    def decide(self, ctx: RunContext, facts: HandoverFacts) -> Handover:
        if facts.offboarding.handover_document.strip():  # written before: the same document goes out
            return Handover(title="", sections=[])
        return ctx.brain.decide_checked(facts, check=lambda doc: handover_problem(doc, facts.known()))

    def prompt(self, ctx: RunContext, facts: HandoverFacts) -> str:
        lines = [f"Client: {facts.client.company.name}", "Facts:"]
        lines += [f"[{f.id}] {f.text}" for f in facts.facts]
        return "\n".join(lines)

    def heuristic(self, ctx: RunContext, facts: HandoverFacts) -> Handover:
        known = facts.known()
        projects = [f for f in facts.facts if f.id.startswith("project:")]
        sections = [_built(facts, projects), _running(facts)]
        open_ids = [f"change:{c.pk}" for c in facts.open_changes]
        open_ids += [f.id for f in facts.facts if f.id.startswith("milestone:") and _unfinished(f.text)]
        if open_ids:
            sections.append(_listing("Open items", [known[i] for i in open_ids]))
        if facts.accesses:
            sections.append(
                _listing(
                    "Accounts and access",
                    [known[f"access:{a.pk}"] for a in facts.accesses],
                    after="Where we held a key or an account, please remove it and rotate any shared credentials: "
                    "from now on only your team should hold them.",
                )
            )
        return Handover(title=f"Handover: {facts.client.company.name}", sections=sections)

    def act(self, ctx: RunContext, facts: HandoverFacts, doc: Handover) -> HandedOver:
        offboarding = ctx.lock(facts.offboarding)
        document = offboarding.handover_document
        out = HandedOver(offboarding_id=offboarding.pk, sections=[s.heading for s in doc.sections], cited=0)
        if not document.strip():
            document = render(doc, facts.known())
            out.cited = len({s for section in doc.sections for s in section.sources})
            ctx.update(offboarding, action="offboarding.handover_written", handover_document=document)
        tick(offboarding.pk, HANDOVER)
        if may_email(facts.contact):
            message = queue_email(
                ctx,
                key=handover_key(offboarding),
                lead=facts.contact,
                subject=f"{facts.client.company.name}: handover of what we built",
                body=document,
                intent="offboarding_handover",
            )
            out.message_id = message.pk if message is not None else None
        if out.message_id is None:
            out.note = "no contact we may email: the document is on the offboarding for a human to send"
        return out


def handover_key(offboarding: Offboarding) -> str:
    return f"offboarding:{offboarding.pk}:handover"


def _listing(heading: str, cited: list[StoredFact], *, before: str = "", after: str = "") -> Section:
    """A section that lists stored facts as they are, one a line, citing each."""
    lines = [f"- {fact.text}" for fact in cited]
    body = "\n".join([before, *lines] if before else lines) + (f"\n{after}" if after else "")
    return Section(heading=heading, body=body, sources=[fact.id for fact in cited])


def _cite(kind: str, rows: Iterable[M], describe: Callable[[M], tuple[str, str]]) -> list[StoredFact]:
    """Stored rows as the numbered facts the document may cite, ``describe`` giving (label, text)."""
    facts = []
    for row in rows:
        label, text = describe(row)
        facts.append(StoredFact(id=f"{kind}:{row.pk}", label=label, text=text))
    return facts


def _project(p: Project) -> tuple[str, str]:
    tracked = f", tracked in the project tool as {p.pm_tool_id}" if p.pm_tool_id else ""
    return f"project {p.name!r}", f"Project {p.name!r} ({p.status}), {p.starts_on or '?'} to {p.due_on or '?'}{tracked}"


def _milestone(m: Milestone) -> tuple[str, str]:
    criteria = "; ".join(str(c) for c in m.acceptance_criteria) or "none recorded"
    return (
        f"milestone {m.name!r}",
        f"Milestone {m.name!r} ({m.status}, due {m.due_on or '?'}); acceptance criteria: {criteria}",
    )


def _deliverable(d: Deliverable) -> tuple[str, str]:
    where = f" Location: {d.url}" if d.url else ""
    what = d.description or "no description"
    return (
        f"deliverable {d.name!r}",
        f"Deliverable {d.name!r} ({d.status}) of milestone {d.milestone.name!r}: {what}{where}",
    )


def _review(r: QAReview) -> tuple[str, str]:
    findings = "; ".join(_finding(f) for f in r.findings if isinstance(f, dict))
    name = r.deliverable.name
    return f"QA review of {name!r}", f"QA review of {name!r} on {r.created_at:%Y-%m-%d}: {r.verdict}; {findings}"


def _change(c: ChangeRequest) -> tuple[str, str]:
    return "change request", f"Change request ({c.status}): {c.description}"


def _access(a: ClientAccess) -> tuple[str, str]:
    removed = f", removed {a.revoked_at:%Y-%m-%d}" if a.revoked_at else ""
    return f"access to {a.system}", f"Access to {a.system} ({a.get_kind_display()}): {a.status}{removed}"


def _finding(finding: dict[str, object]) -> str:
    met = "met" if finding.get("met") else "not met"
    note = f" ({finding['note']})" if finding.get("note") else ""
    return f"{finding.get('criterion', 'criterion')}: {met}{note}"


def _unfinished(milestone_text: str) -> bool:
    return not any(f"({state}," in milestone_text for state in ("done", "accepted"))


def _built(facts: HandoverFacts, projects: list[StoredFact]) -> Section:
    if not facts.deliverables:
        if not projects:
            return Section(
                heading="What we built",
                body="No project or deliverable was recorded under this engagement.",
                sources=["client"],
            )
        return _listing("What we built", projects, before="No deliverable was recorded yet. Projects:")
    lines, sources = [], [p.id for p in projects]
    for d in facts.deliverables:
        where = f" It lives at {d.url}." if d.url else ""
        what = d.description.rstrip(".") if d.description else "no description recorded"
        of = f"milestone {d.milestone.name!r} of {d.milestone.project.name!r}"
        lines.append(f"- {d.name} ({d.status}), for {of}: {what}.{where}")
        sources += [f"deliverable:{d.pk}", f"milestone:{d.milestone_id}"]
    return Section(heading="What we built", body="\n".join(lines), sources=list(dict.fromkeys(sources)))


def _running(facts: HandoverFacts) -> Section:
    if not facts.deliverables:
        return Section(
            heading="How to run it",
            body="Nothing was delivered that needs running; the project records stay available on request.",
            sources=["client"],
        )
    lines, sources = [], []
    latest = {r.deliverable_id: r for r in facts.reviews}
    for d in facts.deliverables:
        criteria = "; ".join(str(c) for c in d.milestone.acceptance_criteria) or "no criteria recorded"
        line = f"- {d.name}: " + (f"open it at {d.url}. " if d.url else "") + f"It was built to: {criteria}."
        sources += [f"deliverable:{d.pk}", f"milestone:{d.milestone_id}"]
        review = latest.get(d.pk)
        if review is not None:
            notes = "; ".join(_finding(f) for f in review.findings if isinstance(f, dict))
            line += f" Our last QA check ({review.created_at:%Y-%m-%d}) was a {review.verdict}" + (
                f": {notes}." if notes else "."
            )
            line += " Re-run the same checks after any change."
            sources.append(f"qa:{review.pk}")
        lines.append(line)
    for access in facts.accesses:
        lines.append(
            f"- It connects to your {access.system} ({access.get_kind_display()}): replace our access with an "
            "account of your own."
        )
        sources.append(f"access:{access.pk}")
    return Section(heading="How to run it", body="\n".join(lines), sources=list(dict.fromkeys(sources)))
