"""company_research: what a company sells, how big it is and what is happening there, from its own
pages and the news, each finding with its source. Signals only research finds (hiring, funding, a new
location) are what lead_scoring and personalisation need most."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.research import _fetch
from crm.agents.research._fetch import Claim, Doc
from crm.models import Company, Lead
from crm.services import findings, research, web
from crm.services.scoring import employee_range

PATHS = ("", "/about", "/careers", "/news")
FRESH_FOR = dt.timedelta(days=30)
_SIGNAL = re.compile(
    r"\b(hiring|raised|funding|opened|opening|launched|launching|migrating|doubled|expanding|acquired|new location)\b"
)
_SIZE = re.compile(r"\b(?:about|over|around|some)?\s*(\d[\d,]*)\s+(?:people|employees|staff)\b")
_OFFER = re.compile(r"\b(provides|offers|sells|specialis\w*|specializ\w*|makes|builds)\b")
_TECH = re.compile(r"\b(works with|uses|built on)\b")
_EMPTY = re.compile(r"\b(no open positions|no news|no recent news|no specific public information)\b", re.I)


class LeadRef(BaseModel):
    lead_id: int


class CompanyFacts(Facts):
    lead: Lead
    company: Company | None = None
    docs: list[Doc] = Field(default_factory=list)
    fresh: bool = False  # researched lately: the stored findings stand


class CompanySummary(BaseModel):
    summary: str = Field(default="", max_length=1000)
    findings: list[Claim] = Field(default_factory=list)


class Researched(BaseModel):
    company_id: int | None = None
    findings: int = 0
    signals: int = 0
    reused: bool = False
    note: str = ""


def classify(sentence: str) -> findings.Kind | None:
    if _EMPTY.search(sentence):
        return None
    if _SIGNAL.search(sentence.lower()):
        return "signal"
    if _SIZE.search(sentence.lower()):
        return "size"
    if _OFFER.search(sentence.lower()):
        return "offering"
    if _TECH.search(sentence.lower()):
        return "tech"
    return None


@register
class CompanyResearch(LLMAgent[LeadRef, Researched, CompanySummary]):
    name = "company_research"
    category = "research"
    trigger = "handoff"
    Input, Facts, Output, Decision = LeadRef, CompanyFacts, Researched, CompanySummary
    next = ("lead_scoring",)
    max_tokens = 1200
    system_prompt = (
        "You research a prospect company for a B2B agency. From the fetched pages and news below, state what "
        "the company sells, how big it is and any buying signals (hiring, funding, new locations, new systems). "
        "Each finding is one short sentence taken from a document, with that document's URL as source_url. "
        "State nothing the documents do not say; no document, no finding."
    )

    def load(self, ctx: RunContext, data: LeadRef) -> CompanyFacts:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        company = lead.company
        if company is None or not company.domain:
            return CompanyFacts(lead=lead, company=company)
        researched = company.enrichment.get("researched_at") if isinstance(company.enrichment, dict) else None
        if researched and dt.datetime.fromisoformat(researched) > ctx.now() - FRESH_FOR:
            return CompanyFacts(lead=lead, company=company, fresh=True)
        site = f"https://www.{company.domain}"
        docs = [_fetch.scrape(ctx, site + path) for path in PATHS]
        docs.append(_fetch.search(ctx, f"{company.name} {company.domain} news", key=f"news:{company.domain}"))
        return CompanyFacts(lead=lead, company=company, docs=[d for d in docs if d.text])

    def prompt(self, ctx: RunContext, facts: CompanyFacts) -> str:
        assert facts.company is not None
        parts = [f"Company: {facts.company.name} ({facts.company.domain})"]
        parts += [f"--- {d.kind} {d.url} (cites {', '.join(d.citations)})\n{d.text[:4000]}" for d in facts.docs]
        return "\n\n".join(parts)

    def heuristic(self, ctx: RunContext, facts: CompanyFacts) -> CompanySummary:
        claims: list[Claim] = []
        for doc in facts.docs:
            for sentence in web.sentences(doc.text):
                kind = classify(sentence)
                if kind is not None:
                    claims.append(Claim(kind=kind, claim=sentence[:500], source_url=doc.url))
        unique = list({(c.kind, c.claim.lower()): c for c in claims}.values())
        order = {"offering": 0, "size": 1, "signal": 2}
        summary = " ".join(c.claim for c in sorted(unique, key=lambda c: order.get(c.kind, 3))[:4])
        return CompanySummary(summary=summary, findings=unique)

    def decide(self, ctx: RunContext, facts: CompanyFacts) -> CompanySummary:
        if not facts.docs:
            return CompanySummary()  # nothing fetched: nothing to ask about
        return ctx.brain.decide_checked(facts, check=lambda d: _fetch.unsupported(d.findings, facts.docs))

    def act(self, ctx: RunContext, facts: CompanyFacts, decision: CompanySummary) -> Researched:
        lead = facts.lead
        out = Researched(company_id=facts.company.pk if facts.company else None)
        if facts.company is None or not facts.company.domain:
            out.note = "no company website to research"
        elif facts.fresh:
            out.reused, out.note = True, "researched within the last 30 days"
        elif not facts.docs:
            out.note = "no page or news answered"
        else:
            company = ctx.lock(facts.company)
            found = _fetch.to_findings(decision.findings, facts.docs)
            merged = findings.merge(findings.load(company.enrichment), found)
            newest = max((d.fetched_at for d in facts.docs), default=ctx.now())
            enrichment = {
                **(company.enrichment or {}),
                "findings": findings.dump(merged),
                "summary": decision.summary,
                "researched_at": newest.isoformat(),
            }
            gaps: dict[str, Any] = {}
            if not company.description and decision.summary:
                gaps["description"] = decision.summary
            size = next((_SIZE.search(f.claim.lower()) for f in found if f.kind == "size"), None)
            if not company.employee_range and size:
                gaps["employee_range"] = employee_range(int(size.group(1).replace(",", "")))
            ctx.update(company, action="company.researched", enrichment=enrichment, **gaps)
            research.save_report(
                kind="company",
                subject=company.domain or company.name,
                company=company,
                summary=decision.summary,
                found=found,
                run=ctx.run,
            )
            out.findings, out.signals = len(found), sum(f.kind == "signal" for f in found)
        ctx.handoff("lead_scoring", {"lead_id": lead.pk})
        return out
