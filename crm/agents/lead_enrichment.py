"""lead_enrichment: firmographics and tech stack from what the providers give us; fills gaps only.

Sources, in order: the lead source's dataset fields kept on the company (``enrichment.lead_source``)
and the company's home page through the WebResearch role (Firecrawl's markdown; a page that comes
back as raw HTML is reduced to its main text with trafilatura). A value already set is never
overwritten; each value written is recorded in ``Company.enrichment["fields"]`` with its source and
fetched_at, so later text can cite it.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.agents.lead_list_builder import _employee_range, _revenue_band
from crm.models import Company, Lead
from crm.services import normalize
from crm.services.leads import lead_set_status
from integrations.values import ScrapedPage

# Tools a page or a dataset may name; matched on word boundaries.
KNOWN_TECH = (
    "HubSpot", "Salesforce", "Shopify", "WordPress", "Zapier", "QuickBooks", "Slack", "Notion", "Pipedrive",
    "Stripe", "Intercom", "Zendesk", "Mailchimp", "Webflow", "Wix", "Squarespace", "Xero", "Calendly",
)  # fmt: skip
_EMPLOYEES = re.compile(r"(?:about|around|over|some|of)?\s*(\d[\d,]*)\s+(?:employees|people|staff|team members)", re.I)
_HTML = re.compile(r"^\s*(?:<!doctype html|<html)", re.I)


class LeadRef(BaseModel):
    lead_id: int


class Enrichable(Facts):
    lead: Lead
    page: ScrapedPage | None = None
    page_text: str = ""
    skip: str = ""


class EnrichmentOutput(BaseModel):
    company_fields: dict[str, str] = Field(default_factory=dict, description="field -> source")
    lead_fields: dict[str, str] = Field(default_factory=dict)
    note: str = ""


def page_text(page: ScrapedPage) -> str:
    """The page's readable text: the markdown, or the main text of raw HTML (trafilatura)."""
    text = page.markdown or ""
    if _HTML.match(text):
        import trafilatura

        text = trafilatura.extract(text, include_comments=False, include_tables=False) or ""
    return text.strip()


def facts_from_text(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    match = _EMPLOYEES.search(text)
    if match:
        found["employee_range"] = _employee_range(match.group(1).replace(",", ""))
    tech = [t for t in KNOWN_TECH if re.search(rf"\b{re.escape(t)}\b", text, re.I)]
    if tech:
        found["tech_stack"] = tech
    paragraph = next((p.strip() for p in text.split("\n") if len(p.strip()) > 40 and not p.startswith("#")), "")
    if paragraph:
        found["description"] = paragraph[:1000]
    return found


def facts_from_dataset(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "industry": str(data.get("industry") or ""),
        "employee_range": _employee_range(data.get("employees")),
        "revenue_band": _revenue_band(data.get("annual_revenue")),
        "tech_stack": [str(t) for t in data.get("technologies") or [] if str(t).strip()],
    }
    country = str(data.get("location") or "").rpartition(",")[2].strip()
    if country:
        with contextlib.suppress(ValueError):
            found["country"] = normalize.normalize_country(country)
    return {k: v for k, v in found.items() if v}


@register
class LeadEnrichment(Agent[LeadRef, EnrichmentOutput]):
    """Firmographics and tech stack from the providers we have; fills gaps only."""

    name = "lead_enrichment"
    category = "lead_generation"
    trigger = "handoff"
    queue = "crm"
    Input = LeadRef
    Facts = Enrichable
    Output = EnrichmentOutput
    next = ("company_research",)

    def load(self, ctx: RunContext, data: LeadRef) -> Enrichable:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        company = lead.company
        if company is None or not company.domain:
            return Enrichable(lead=lead, skip="no company domain: nothing to look up")
        research = ctx.roles.web_research
        url = f"https://{company.domain}/"
        page = ctx.cached(
            f"web_research:{research.name}:scrape:{url}", lambda: research.scrape(url=url), model=ScrapedPage
        )
        text = page_text(page) if page.status_code < 400 else ""
        return Enrichable(lead=lead, page=page, page_text=text)

    def act(self, ctx: RunContext, facts: Enrichable) -> EnrichmentOutput:
        lead = ctx.lock(facts.lead)
        out = EnrichmentOutput(note=facts.skip)
        company = ctx.lock(lead.company) if lead.company is not None else None
        if company is not None:
            self._company(ctx, company, facts, out)
        dataset = (company.enrichment.get("lead_source") or {}).get("data", {}) if company else {}
        lead_gaps: dict[str, Any] = {}
        if not lead.seniority and dataset.get("seniority"):
            lead_gaps["seniority"] = str(dataset["seniority"])[:32]
        if not lead.time_zone and dataset.get("timezone"):
            with contextlib.suppress(ValueError):
                lead_gaps["time_zone"] = normalize.normalize_time_zone(str(dataset["timezone"]))
        if not lead.country and company is not None and company.country:
            lead_gaps["country"] = company.country
        if lead_gaps:
            ctx.update(lead, action="lead.enriched", **lead_gaps)
            out.lead_fields = dict.fromkeys(lead_gaps, "company/lead_source")
        if lead.status in (Lead.Status.NEW, Lead.Status.VERIFIED) and (out.company_fields or out.lead_fields):
            lead_set_status(lead=lead, status=Lead.Status.ENRICHED, reason="lead_enrichment", locked=True)
        if lead.status not in (Lead.Status.DISQUALIFIED, Lead.Status.UNSUBSCRIBED) and company is not None:
            ctx.handoff("company_research", {"company_id": company.pk, "lead_id": lead.pk})
        return out

    def _company(self, ctx: RunContext, company: Company, facts: Enrichable, out: EnrichmentOutput) -> None:
        now = ctx.now().isoformat()
        candidates: list[tuple[str, dict[str, Any]]] = []
        kept = company.enrichment.get("lead_source") or {}
        if kept.get("data"):
            candidates.append((str(kept.get("source") or "lead_source"), facts_from_dataset(kept["data"])))
        if facts.page_text and facts.page is not None:
            candidates.append((f"web_research:{facts.page.url}", facts_from_text(facts.page_text)))
        changes: dict[str, Any] = {}
        fields = dict(company.enrichment.get("fields") or {})
        for source, values in candidates:
            for name, value in values.items():
                if name in changes or getattr(company, name):
                    continue  # fills gaps only: a value we have is never overwritten
                changes[name] = value
                fields[name] = {"value": value, "source": source, "fetched_at": now}
                out.company_fields[name] = source
        if changes:
            ctx.update(
                company, action="company.enriched", enrichment={**company.enrichment, "fields": fields}, **changes
            )
