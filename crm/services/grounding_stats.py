"""Reads: the share of sent first lines that cite a fact (issue 16, "Grounded copy").

A sent cold email has a first line when its copy (the step's, or its variant's) holds the
``{{ first_line }}`` slot. That line cites a fact when personalization's line, as stored on the
enrollment (``variables["first_line"]`` with ``variables["grounding"]``: each sentence and the
finding claims it cites), is in the body that left, and every claim it cites is a stored, sourced
finding about the lead or its company that the line does not overstate (the sender's own check,
``grounding_problem``). An empty line (no finding, so no claim) counts as not citing: the share
measures how often research gave copy something true to open with.

The enrollment's variables are read now, not as they were at the send: a line rewritten since no
longer matches the body, and a finding deleted since no longer backs it; both count as not citing,
so the share errs low, never high.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm.agents.campaign._compose import VARIABLE, grounding_problem
from crm.models import Lead, Message, ResearchReport
from crm.services import findings as findings_service
from crm.services.findings import Finding
from crm.services.outreach_stats import outbound_sends

SLOT = "first_line"
# What first_lines_by_campaign reads of a sent email and what it points at (has_slot, cites_a_fact,
# findings_by_lead): the foreign keys it follows, the copy, the line's variables, the findings.
READ = (
    "body",
    "enrollment__campaign_id",
    "enrollment__variables",
    "step__body_template",
    "variant__body",
    "conversation__lead__research",
    "conversation__lead__company__enrichment",
)


@dataclass(frozen=True)
class FirstLines:
    sent: int = 0  # sent cold emails whose copy has a first line
    cited: int = 0  # of those, the first line cites a stored, sourced finding

    @property
    def share(self) -> float | None:
        return self.cited / self.sent if self.sent else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "first_lines": self.sent,
            "first_lines_cited": self.cited,
            "first_lines_cited_share": round(share, 4) if share is not None else None,
        }

    def describe(self) -> str:
        share = self.share
        if share is None:
            return "no sent first line yet"
        return f"{self.cited} of {self.sent} sent first lines cite a fact ({share:.0%})"

    def __add__(self, other: FirstLines) -> FirstLines:
        return FirstLines(sent=self.sent + other.sent, cited=self.cited + other.cited)


def has_slot(message: Message) -> bool:
    copy = message.variant.body if message.variant is not None else message.step.body_template if message.step else ""
    return any(m.group(1) == SLOT for m in VARIABLE.finditer(copy))


def cites_a_fact(message: Message, found: list[Finding]) -> bool:
    variables = message.enrollment.variables if message.enrollment else {}
    line = str(variables.get(SLOT) or "").strip()
    if not line or line not in message.body:
        return False
    return grounding_problem(variables, found) is None


def findings_by_lead(leads: Iterable[Lead]) -> dict[int, list[Finding]]:
    """crm.selectors.sourced_findings for many leads at once: their own, their companies', and the
    research reports of both, in one query for the reports."""
    leads = list(leads)
    lead_ids = {lead.pk for lead in leads}
    company_ids = {lead.company_id for lead in leads if lead.company_id}
    by_lead: dict[int, list[Finding]] = defaultdict(list)
    by_company: dict[int, list[Finding]] = defaultdict(list)
    reports = ResearchReport.objects.filter(kind__in=[ResearchReport.Kind.COMPANY, ResearchReport.Kind.LEAD]).order_by(
        "pk"
    )
    for report in reports.filter(company_id__in=company_ids) | reports.filter(lead_id__in=lead_ids):
        loaded = findings_service.load(report.findings)
        if report.kind == ResearchReport.Kind.COMPANY and report.company_id in company_ids:
            by_company[report.company_id] += loaded
        elif report.kind == ResearchReport.Kind.LEAD and report.lead_id in lead_ids:
            by_lead[report.lead_id] += loaded
    out: dict[int, list[Finding]] = {}
    for lead in leads:
        company = lead.company
        found = findings_service.load(company.enrichment) if company else []
        found += findings_service.load(lead.research)
        found += by_company.get(lead.company_id or 0, []) + by_lead.get(lead.pk, [])
        out[lead.pk] = findings_service.merge([], found)
    return out


def first_lines_by_campaign(*, campaign_id: int | None = None) -> dict[int, FirstLines]:
    """Per campaign: sent cold emails with a first line, and how many of those lines cite a fact."""
    sends = outbound_sends().filter(enrollment__isnull=False, step__isnull=False)
    if campaign_id is not None:
        sends = sends.filter(enrollment__campaign_id=campaign_id)
    # Only the columns the count reads: every sent email of every campaign is read each day, and
    # building whole rows (the lead's and company's JSON, the headers) cost most of the agent's run.
    rows = sends.select_related("enrollment", "step", "variant", "conversation__lead__company").only(*READ)
    messages = [m for m in rows.order_by("pk") if has_slot(m)]
    found = findings_by_lead({m.conversation.lead.pk: m.conversation.lead for m in messages}.values())
    tallies: dict[int, FirstLines] = defaultdict(FirstLines)
    for message in messages:
        assert message.enrollment is not None  # filtered above
        cited = int(cites_a_fact(message, found.get(message.conversation.lead.pk, [])))
        tallies[message.enrollment.campaign_id] += FirstLines(sent=1, cited=cited)
    return dict(tallies)


def first_lines(*, campaign_id: int | None = None) -> FirstLines:
    return sum(first_lines_by_campaign(campaign_id=campaign_id).values(), FirstLines())
