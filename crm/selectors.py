"""Reads of the crm that more than one caller needs: who may be contacted, what is due, how variants do."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from crm.models import Campaign, CampaignStep, Company, Enrollment, Lead, Variant
from crm.services.findings import Finding
from crm.services.normalize import normalize_domain, normalize_email
from smarter_team import clock

__all__ = [
    "company_by_domain",
    "contactable_leads",
    "due_enrollments",
    "lead_by_email",
    "sourced_findings",
    "sourced_findings_by_lead",
    "variant_stats",
]

_SENT_STATUSES = ["sent", "delivered", "opened", "clicked", "replied", "bounced"]


def lead_by_email(email: str) -> Lead | None:
    """The lead stored under an address in any notation, or None (also for text that is not an address)."""
    try:
        address = normalize_email(email)
    except ValueError:
        return None
    return Lead.objects.select_related("company").filter(email=address).first()


def company_by_domain(domain_or_url: str) -> Company | None:
    """The company of a domain, URL or address, following merges to the surviving row."""
    try:
        domain = normalize_domain(domain_or_url)
    except ValueError:
        return None
    company = Company.objects.filter(domain=domain).first()
    while company is not None and company.merged_into_id is not None:
        company = Company.objects.filter(pk=company.merged_into_id).first()
    return company


def contactable_leads() -> QuerySet[Lead]:
    """Leads outreach may target: an address that is not known bad, not do-not-contact, not ended, not merged.

    The suppression list is checked again at send time (``is_suppressed``); this is the cheap pre-filter.
    """
    return Lead.objects.filter(
        do_not_contact=False,
        email__isnull=False,
        merged_into__isnull=True,
    ).exclude(
        Q(email_status__in=[Lead.EmailStatus.INVALID, Lead.EmailStatus.DISPOSABLE])
        | Q(status__in=[Lead.Status.UNSUBSCRIBED, Lead.Status.BOUNCED, Lead.Status.DISQUALIFIED])
    )


def due_enrollments(*, now: dt.datetime | None = None, limit: int = 500) -> QuerySet[Enrollment]:
    """Active enrollments whose next step is due, in active campaigns, for leads still contactable; oldest first."""
    moment = now or clock.now()
    return (
        Enrollment.objects.select_related("lead", "campaign")
        .filter(
            status=Enrollment.Status.ACTIVE,
            next_send_at__lte=moment,
            campaign__status=Campaign.Status.ACTIVE,
            lead__do_not_contact=False,
        )
        .order_by("next_send_at", "pk")[:limit]
    )


def variant_stats(*, step: CampaignStep) -> list[dict[str, Any]]:
    """Per variant of a step: label, weight, winner flag, sent and replied counts, reply rate (from messages)."""
    rows = (
        Variant.objects.filter(step=step)
        .annotate(
            sent=Count("messages", filter=Q(messages__status__in=_SENT_STATUSES)),
            replied=Count("messages", filter=Q(messages__status="replied")),
        )
        .order_by("label")
    )
    return [
        {
            "label": v.label,
            "weight": v.weight,
            "is_winner": v.is_winner,
            "sent": v.sent,
            "replied": v.replied,
            "reply_rate": (v.replied / v.sent) if v.sent else 0.0,
        }
        for v in rows
    ]


def sourced_findings(*, lead: Lead | None = None, company: Company | None = None) -> list[Finding]:
    """Every stored, sourced finding about a lead (its own research and its company's) or a company:
    what personalisation may cite. Company research reports count too; unsourced entries never do."""
    if company is None and lead is not None:
        company = lead.company
    rows = _report_rows({company.pk} if company is not None else set(), [lead.pk] if lead is not None else [])
    return _gathered(company, lead, [raw for _, _, _, _, raw in sorted(rows, key=lambda row: row[0])])


def sourced_findings_by_lead(leads: list[Lead]) -> dict[int, list[Finding]]:
    """``sourced_findings`` of many leads (their companies loaded), keyed by lead: the research
    reports of all of them in one read (the scheduler's batch of a hundred took a hundred)."""
    from crm.models import ResearchReport

    if not leads:
        return {}
    by_company: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    by_lead: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    rows = _report_rows({x.company_id for x in leads if x.company_id}, [x.pk for x in leads])
    for pk, kind, company_id, lead_id, raw in rows:
        if kind == ResearchReport.Kind.COMPANY:
            by_company[company_id or 0].append((pk, raw))
        else:
            by_lead[lead_id or 0].append((pk, raw))
    return {
        lead.pk: _gathered(
            lead.company,
            lead,
            [raw for _, raw in sorted(by_company.get(lead.company_id or 0, []) + by_lead.get(lead.pk, []))],
        )
        for lead in leads
    }


def _report_rows(company_ids: set[int], lead_ids: list[int]) -> list[tuple[int, str, int | None, int | None, Any]]:
    """(pk, kind, company, lead, findings) of the companies' company reports and the leads' own."""
    from crm.models import ResearchReport

    if not company_ids and not lead_ids:
        return []
    return list(
        ResearchReport.objects.filter(
            Q(kind=ResearchReport.Kind.COMPANY, company_id__in=company_ids)
            | Q(kind=ResearchReport.Kind.LEAD, lead_id__in=lead_ids)
        ).values_list("pk", "kind", "company_id", "lead_id", "findings")
    )


def _gathered(company: Company | None, lead: Lead | None, reports: Any) -> list[Finding]:
    """The findings of a company's enrichment, then the lead's research, then the reports in order."""
    from crm.services import findings

    found: list[Finding] = []
    if company is not None:
        found += findings.load(company.enrichment)
    if lead is not None:
        found += findings.load(lead.research)
    for raw in reports:
        found += findings.load(raw)
    return findings.merge([], found)
