"""niche_research: scores candidate niches for the agency's offer on demand, budget, competition and
reachability from sourced market answers; keeps a report per niche and month; hands the best on to
persona_research."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.research import _fetch
from crm.agents.research._fetch import Claim, Doc
from crm.models import IdealCustomerProfile, Niche
from crm.services import research, web
from crm.services.agency import profile
from crm.services.scoring import industry_matches

MAX_CANDIDATES = 10
HAND_ON = 3  # the best niches of a run go on to persona research
_NUMBER = r"\$?(\d[\d,]*)"


class NicheInput(BaseModel):
    candidates: list[str] = Field(default_factory=list, description="niche names (an admin action); blank: the ICPs'")


class Candidate(BaseModel):
    name: str
    doc: Doc | None = None
    offer: str = ""


class NicheFacts(Facts):
    candidates: list[Candidate]
    month: str


class NicheScores(BaseModel):
    demand: int = Field(ge=0, le=100)
    budget: int = Field(ge=0, le=100)
    competition: int = Field(ge=0, le=100)
    reachability: int = Field(ge=0, le=100)
    rationale: str = Field(default="", max_length=800)
    findings: list[Claim] = Field(default_factory=list)


class Decisions(BaseModel):
    scores: list[NicheScores | None]


class NicheOut(BaseModel):
    name: str
    niche_id: int | None = None
    total: int | None = None
    note: str = ""


class NichesOut(BaseModel):
    niches: list[NicheOut] = Field(default_factory=list)


def _scale(value: float, low: float, high: float) -> int:
    """``value`` on a log scale from ``low`` (0) to ``high`` (100)."""
    if value <= low:
        return 0
    return max(0, min(100, round(100 * math.log(value / low) / math.log(high / low))))


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text, re.I)
    return float(m.group(1).replace(",", "")) if m else None


@register
class NicheResearch(LLMAgent[NicheInput, NichesOut, NicheScores]):
    name = "niche_research"
    category = "research"
    trigger = ("schedule", "event")
    schedule = "0 6 1 * *"  # monthly
    Input, Facts, Output, Decision = NicheInput, NicheFacts, NichesOut, NicheScores
    next = ("persona_research",)
    max_tokens = 800
    system_prompt = (
        "You assess a market niche for an AI services agency. Given the agency's offer and a sourced market "
        "answer, score 0-100: demand (how many businesses need it), budget (what they can spend), competition "
        "(how many agencies already serve them: higher is worse) and reachability (can their decision makers be "
        "reached). Cite each finding with the source URL; no source, no finding."
    )

    def load(self, ctx: RunContext, data: NicheInput) -> NicheFacts:
        names = [n.strip().lower() for n in data.candidates if n.strip()]
        if not names:
            for icp in IdealCustomerProfile.objects.filter(active=True).order_by("pk"):
                names += [str(i).strip().lower() for i in icp.industries]
            names += list(Niche.objects.filter(status=Niche.Status.CANDIDATE).values_list("name", flat=True))
        unique = list(dict.fromkeys(names))[:MAX_CANDIDATES]
        month = ctx.now().strftime("%Y-%m")
        offer = profile().offer
        docs = [
            _fetch.search(ctx, f"{n} market size budget competition AI automation", key=f"niche:{n}:{month}")
            for n in unique
        ]
        cands = [Candidate(name=n, doc=d if d.text else None, offer=offer) for n, d in zip(unique, docs, strict=True)]
        return NicheFacts(candidates=cands, month=month)

    def prompt(self, ctx: RunContext, subject: Candidate) -> str:
        assert subject.doc is not None
        return f"Agency offer: {subject.offer}\nNiche: {subject.name}\n--- {subject.doc.url}\n{subject.doc.text}"

    def heuristic(self, ctx: RunContext, subject: Candidate) -> NicheScores:
        assert subject.doc is not None
        text = subject.doc.text
        businesses = _number(rf"{_NUMBER}\s+[\w\s]*?businesses", text)
        budget = _number(rf"average\s+{_NUMBER}", text) or _number(rf"spend[\w\s]*?{_NUMBER}", text)
        agencies = _number(rf"{_NUMBER}\s+agencies", text)
        reach = _number(r"(\d+)%", text)
        claims = [
            Claim(kind=k, claim=s, source_url=subject.doc.url)
            for s in web.sentences(text)
            for k in [_kind(s)]
            if k is not None
        ]
        return NicheScores(
            demand=_scale(businesses, 1_000, 100_000) if businesses else 50,
            budget=_scale(budget, 2_000, 50_000) if budget else 50,
            competition=_scale(agencies, 2, 100) if agencies is not None else 50,
            reachability=round(reach) if reach is not None else 50,
            rationale="; ".join(c.claim for c in claims)[:800],
            findings=claims,
        )

    def decide(self, ctx: RunContext, facts: NicheFacts) -> Decisions:
        return Decisions(scores=_fetch.ask_each_sourced(ctx, facts.candidates))

    def act(self, ctx: RunContext, facts: NicheFacts, decision: Decisions) -> NichesOut:
        out = NichesOut()
        ranked: list[tuple[int, Niche]] = []
        icps = list(IdealCustomerProfile.objects.filter(active=True).order_by("pk"))
        for cand, scores in zip(facts.candidates, decision.scores, strict=True):
            if scores is None or cand.doc is None:
                out.niches.append(NicheOut(name=cand.name, note="no sourced market information: not scored"))
                continue
            icp = next((i for i in icps if industry_matches(cand.name, i.industries)), None)
            niche, _ = Niche.objects.get_or_create(name=cand.name, defaults={"icp": icp})
            niche = ctx.lock(niche)
            ctx.update(
                niche,
                action="niche.scored",
                demand_score=scores.demand,
                budget_score=scores.budget,
                competition_score=scores.competition,
                reachability_score=scores.reachability,
            )
            found = _fetch.to_findings(scores.findings, [cand.doc])
            research.save_report(
                kind="niche",
                subject=f"{niche.name} {facts.month}",
                niche=niche,
                found=found,
                summary=scores.rationale,
                run=ctx.run,
                extra={"scores": scores.model_dump(exclude={"findings", "rationale"})},
            )
            out.niches.append(NicheOut(name=niche.name, niche_id=niche.pk, total=niche.total_score))
            if niche.status != Niche.Status.DROPPED:
                ranked.append((niche.total_score, niche))
        for _, niche in sorted(ranked, key=lambda t: (-t[0], t[1].pk))[:HAND_ON]:
            ctx.handoff("persona_research", {"niche_id": niche.pk})
        return out


def _kind(sentence: str) -> str | None:
    s = sentence.lower()
    if "agencies" in s:
        return "competition"
    if "spend" in s or "$" in s:
        return "budget"
    if "reachable" in s or "%" in s:
        return "reachability"
    if "businesses" in s:
        return "demand"
    return None
