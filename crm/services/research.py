"""Write paths for the research side of the crm: niches chosen or dropped, research reports kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction

from crm.models import Company, Lead, Niche, ResearchReport
from crm.services import findings
from crm.services.findings import KEY, Finding

if TYPE_CHECKING:
    from agents.models import AgentRun

__all__ = ["niche_set_status", "save_report"]


@transaction.atomic
def niche_set_status(*, niche: Niche, status: str) -> bool:
    """Select, drop or reconsider a niche (InvalidTransition when not allowed); returns whether it changed."""
    locked = Niche.objects.select_for_update().get(pk=niche.pk)
    changed = locked.transition_to(status)
    niche.status = locked.status
    return changed


def save_report(
    *,
    kind: str,
    subject: str,
    found: Sequence[Finding],
    summary: str = "",
    niche: Niche | None = None,
    company: Company | None = None,
    lead: Lead | None = None,
    run: AgentRun | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ResearchReport:
    """The one report of ``kind`` about a subject (per niche, company or lead and subject text), created
    or brought up to date: findings with their sources, and the sources listed once each."""
    with transaction.atomic():
        report = (
            ResearchReport.objects.select_for_update()
            .filter(kind=kind, subject=subject[:255], niche=niche, company=company, lead=lead)
            .order_by("pk")
            .first()
        )
        body = {KEY: findings.dump(found), **(extra or {})}
        sources = sorted({f.source_url for f in found})
        if report is None:
            return ResearchReport.objects.create(
                kind=kind,
                subject=subject[:255],
                niche=niche,
                company=company,
                lead=lead,
                summary=summary,
                findings=body,
                sources=sources,
                run=run,
            )
        if (report.summary, report.findings, report.sources) != (summary, body, sources):
            report.summary, report.findings, report.sources, report.run = summary, body, sources, run
            report.save(update_fields=["summary", "findings", "sources", "run", "updated_at"])
        return report
