"""lead_research: person-level facts usable for personalisation (role, tenure, recent posts), each
sourced. Only qualified leads are researched: the rest will not be written to."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.research import _fetch
from crm.agents.research._fetch import Claim, Doc
from crm.models import Lead
from crm.services import findings, web

_KINDS: tuple[tuple[re.Pattern[str], findings.Kind], ...] = (
    (re.compile(r"\b(has been|joined|since|years at|for \d+ years)\b"), "tenure"),
    (re.compile(r"\b(posted|wrote|shared|spoke|commented)\b"), "post"),
    (re.compile(r"\bis (the )?[\w ]+ at\b"), "role"),
)


class LeadRef(BaseModel):
    lead_id: int


class LeadFacts(Facts):
    lead: Lead
    docs: list[Doc] = Field(default_factory=list)
    note: str = ""


class PersonFindings(BaseModel):
    findings: list[Claim] = Field(default_factory=list)


class LeadResearched(BaseModel):
    lead_id: int
    findings: int = 0
    note: str = ""


@register
class LeadResearch(LLMAgent[LeadRef, LeadResearched, PersonFindings]):
    name = "lead_research"
    category = "research"
    trigger = "handoff"
    Input, Facts, Output, Decision = LeadRef, LeadFacts, LeadResearched, PersonFindings
    max_tokens = 800
    system_prompt = (
        "You collect facts about one business person that a salesperson may mention in a first email: their "
        "role, how long they have been in it, what they recently posted or said in public. Each fact is one "
        "short sentence from the documents with that document's URL as source_url. Nothing private, nothing "
        "the documents do not say."
    )

    def load(self, ctx: RunContext, data: LeadRef) -> LeadFacts:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        if lead.status != Lead.Status.QUALIFIED:
            return LeadFacts(lead=lead, note=f"lead is {lead.status}, not qualified: not researched")
        who = lead.linkedin_url or lead.email or ""
        if not (who or lead.full_name):
            return LeadFacts(lead=lead, note="no name, address or profile to search for")
        company = lead.company.name if lead.company else ""
        doc = _fetch.search(ctx, f"{lead.full_name} {company} {who}".strip(), key=f"person:{who or lead.pk}")
        return LeadFacts(lead=lead, docs=[doc] if doc.text else [])

    def prompt(self, ctx: RunContext, facts: LeadFacts) -> str:
        lead = facts.lead
        docs = "\n\n".join(f"--- {d.url} (cites {', '.join(d.citations)})\n{d.text[:3000]}" for d in facts.docs)
        return f"Person: {lead.full_name}, {lead.title}\n\n{docs}"

    def heuristic(self, ctx: RunContext, facts: LeadFacts) -> PersonFindings:
        claims = []
        for doc in facts.docs:
            for sentence in web.sentences(doc.text):
                kind = next((k for pattern, k in _KINDS if pattern.search(sentence.lower())), None)
                if kind is not None:
                    claims.append(Claim(kind=kind, claim=sentence, source_url=doc.url))
        return PersonFindings(findings=claims)

    def decide(self, ctx: RunContext, facts: LeadFacts) -> PersonFindings:
        if not facts.docs:
            return PersonFindings()
        return ctx.brain.decide_checked(facts, check=lambda d: _fetch.unsupported(d.findings, facts.docs))

    def act(self, ctx: RunContext, facts: LeadFacts, decision: PersonFindings) -> LeadResearched:
        out = LeadResearched(lead_id=facts.lead.pk, note=facts.note)
        if facts.note:
            return out
        if not facts.docs:
            out.note = "nothing public was found"
            return out
        lead = ctx.lock(facts.lead)
        found = _fetch.to_findings(decision.findings, facts.docs)
        merged = findings.merge(findings.load(lead.research), found)
        ctx.update(
            lead, action="lead.researched", research={**(lead.research or {}), "findings": findings.dump(merged)}
        )
        out.findings = len(found)
        return out
