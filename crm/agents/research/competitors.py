"""competitive_intelligence: who else sells AI work to each niche, how they position themselves and
what they charge, with sources; one report per niche and week."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agents.base import Empty, Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.research import _fetch
from crm.agents.research._fetch import Claim, Doc
from crm.models import Niche
from crm.services import research

MAX_NICHES = 5
_PRICE = re.compile(r"\$\s?\d[\d,]*")
_DOMAIN = re.compile(r"\(([a-z0-9.-]+\.[a-z]{2,})\)")


class Watched(BaseModel):
    niche_id: int
    name: str
    doc: Doc | None = None


class WatchFacts(Facts):
    niches: list[Watched]
    week: str


class Landscape(BaseModel):
    summary: str = Field(default="", max_length=1000)
    findings: list[Claim] = Field(default_factory=list)


class Decisions(BaseModel):
    answers: list[Landscape | None]


class WatchOut(BaseModel):
    reports: list[int] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


@register
class CompetitiveIntelligence(LLMAgent[Empty, WatchOut, Landscape]):
    name = "competitive_intelligence"
    category = "research"
    trigger = "schedule"
    schedule = "0 7 * * 1"  # weekly, Monday morning
    Facts, Output, Decision = WatchFacts, WatchOut, Landscape
    system_prompt = (
        "You track the agencies competing for one niche. From the sourced answer, state each competitor's "
        "positioning and pricing as short findings, each with the URL it comes from. Nothing unsourced."
    )

    def load(self, ctx: RunContext, data: Empty) -> WatchFacts:
        week = ctx.now().strftime("%G-W%V")
        niches = sorted(Niche.objects.exclude(status=Niche.Status.DROPPED), key=lambda n: (-n.total_score, n.pk))
        watched = []
        for niche in niches[:MAX_NICHES]:
            doc = _fetch.search(
                ctx,
                f"competitors AI automation agencies for {niche.name} pricing",
                key=f"competitors:{niche.name}:{week}",
            )
            watched.append(Watched(niche_id=niche.pk, name=niche.name, doc=doc if doc.text else None))
        return WatchFacts(niches=watched, week=week)

    def prompt(self, ctx: RunContext, subject: Watched) -> str:
        assert subject.doc is not None
        return f"Niche: {subject.name}\n--- cites {', '.join(subject.doc.citations)}\n{subject.doc.text}"

    def heuristic(self, ctx: RunContext, subject: Watched) -> Landscape:
        assert subject.doc is not None
        doc, claims = subject.doc, []
        for part in re.split(r";\s*|(?<=\.)\s+", doc.text):
            part = part.strip().rstrip(".")
            if len(part.split()) < 3:
                continue
            domain = _DOMAIN.search(part)
            url = next((u for u in doc.citations if domain and domain.group(1) in u), doc.url)
            claims.append(
                Claim(kind="pricing" if _PRICE.search(part) else "positioning", claim=f"{part}.", source_url=url)
            )
        prices = [c.claim for c in claims if c.kind == "pricing"]
        summary = f"{len([c for c in claims if c.kind == 'positioning'])} competitors found; " + " ".join(prices[:3])
        return Landscape(summary=summary[:1000], findings=claims)

    def decide(self, ctx: RunContext, facts: WatchFacts) -> Decisions:
        return Decisions(answers=_fetch.ask_each_sourced(ctx, facts.niches))

    def act(self, ctx: RunContext, facts: WatchFacts, decision: Decisions) -> WatchOut:
        out = WatchOut()
        for item, answer in zip(facts.niches, decision.answers, strict=True):
            if answer is None or item.doc is None:
                out.skipped.append(f"{item.name}: no sourced answer")
                continue
            niche = Niche.objects.get(pk=item.niche_id)
            found = _fetch.to_findings(answer.findings, [item.doc])
            report = research.save_report(
                kind="competitor",
                subject=f"{item.name} competitors {facts.week}",
                niche=niche,
                found=found,
                summary=answer.summary,
                run=ctx.run,
            )
            out.reports.append(report.pk)
        return out
