"""lead_scoring: 0-100 against the ICP, with reasons a person can read; qualifies or disqualifies.

The rules (crm.services.scoring) score every lead the same way; the brain may weigh the research
differently but only within ``MAX_ADJUST`` points of the rules, never above a cap the rules applied
(outside the ICP's industries or sizes: a policy, not an estimate to argue with), never past a hard
stop, and always with reasons. Anything else it answers is replaced by the rules' card.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import IdealCustomerProfile, Lead
from crm.selectors import sourced_findings
from crm.services.findings import Finding
from crm.services.leads import lead_disqualify, lead_qualify
from crm.services.scoring import QUALIFY_AT, ScoreCard, score_lead

MAX_ADJUST = 15
# Leads further along belong to the people talking to them: scoring never moves them back.
SCORABLE = frozenset(
    {Lead.Status.NEW, Lead.Status.ENRICHED, Lead.Status.VERIFIED, Lead.Status.QUALIFIED, Lead.Status.DISQUALIFIED}
)


class LeadRef(BaseModel):
    lead_id: int


class ScoringFacts(Facts):
    lead: Lead
    icp: IdealCustomerProfile
    findings: list[Finding] = Field(default_factory=list)
    card: ScoreCard


class Score(BaseModel):
    score: int = Field(ge=0, le=100)
    qualified: bool
    reasons: list[str] = Field(min_length=1, max_length=12)


class Scored(BaseModel):
    lead_id: int
    score: int
    qualified: bool
    reasons: list[str]
    changed: bool = False
    note: str = ""


def best_icp(lead: Lead, findings: list[Finding]) -> tuple[IdealCustomerProfile, ScoreCard]:
    """The profile a lead is scored against, with its card: its own while that is active; for a lead
    that came without one (a CSV import, a lead typed in by hand) the active profile it fits best, by
    the rules' card (a qualifying card first, then the higher score; the oldest profile on a tie).
    Scoring such a lead against whichever profile is oldest would judge a UK law firm by a US dental
    profile and disqualify it for its industry and country."""
    if lead.icp is not None and lead.icp.active:
        return lead.icp, score_lead(lead=lead, icp=lead.icp, findings=findings)
    cards = [
        (icp, score_lead(lead=lead, icp=icp, findings=findings))
        for icp in IdealCustomerProfile.objects.filter(active=True).order_by("pk")
    ]
    if not cards:
        raise SkipRun("no active ideal customer profile to score against")
    return max(cards, key=lambda pair: (pair[1].qualified, pair[1].score))  # max keeps the first of equals


@register
class LeadScoring(LLMAgent[LeadRef, Scored, Score]):
    name = "lead_scoring"
    category = "lead_generation"
    trigger = "handoff"
    Input, Facts, Output, Decision = LeadRef, ScoringFacts, Scored, Score
    next = ("lead_research",)
    max_tokens = 600
    system_prompt = (
        "You score a B2B lead 0-100 for an agency against its ideal customer profile. You get the rules' score "
        f"with its reasons and the sourced research. You may move the score by at most {MAX_ADJUST} points when "
        f"the research justifies it, never above the rules' cap; qualify only at {QUALIFY_AT} or more and never "
        "past a hard stop. Give short reasons a salesperson can read, each naming the fact it rests on."
    )

    def load(self, ctx: RunContext, data: LeadRef) -> ScoringFacts:
        lead = Lead.objects.select_related("company", "icp", "persona").get(pk=data.lead_id)
        found = sourced_findings(lead=lead)
        icp, card = best_icp(lead, found)
        return ScoringFacts(lead=lead, icp=icp, findings=found, card=card)

    def prompt(self, ctx: RunContext, facts: ScoringFacts) -> str:
        lead, company, card = facts.lead, facts.lead.company, facts.card
        lines = [
            f"ICP {facts.icp.name}: industries {facts.icp.industries}, sizes {facts.icp.company_sizes}, "
            f"titles {facts.icp.titles}, countries {facts.icp.countries}, pains {facts.icp.pains}",
            f"Lead: {lead.title} at {company.name if company else 'unknown company'}; email {lead.email_status}; "
            f"persona {lead.persona.name if lead.persona else 'none'}",
            f"Rules: score {card.score}, cap {card.ceiling}, qualified {card.qualified}, "
            f"hard stop: {card.hard_stop or 'none'}",
            *[f"- {r}" for r in card.reasons],
            "Research:",
            *[f"- [{f.kind}] {f.claim} ({f.source_url})" for f in facts.findings[:20]],
        ]
        return "\n".join(lines)

    def heuristic(self, ctx: RunContext, facts: ScoringFacts) -> Score:
        card = facts.card
        return Score(score=card.score, qualified=card.qualified, reasons=card.reasons)

    def decide(self, ctx: RunContext, facts: ScoringFacts) -> Score:
        return ctx.brain.decide_checked(facts, check=lambda d: self._check(facts, d))

    @staticmethod
    def _check(facts: ScoringFacts, decision: Score) -> str | None:
        card = facts.card
        if abs(decision.score - card.score) > MAX_ADJUST:
            return f"score {decision.score} is more than {MAX_ADJUST} from the rules' {card.score}"
        if decision.score > card.ceiling:
            return f"score {decision.score} is above the rules' cap of {card.ceiling}"
        if decision.qualified and (card.hard_stop or decision.score < QUALIFY_AT):
            return "qualified past a hard stop or below the line"
        if not any(r.strip() for r in decision.reasons):
            return "no reasons"
        return None

    def act(self, ctx: RunContext, facts: ScoringFacts, decision: Score) -> Scored:
        lead = ctx.lock(facts.lead)
        reasons = [r.strip() for r in decision.reasons if r.strip()]
        out = Scored(lead_id=lead.pk, score=decision.score, qualified=decision.qualified, reasons=reasons)
        if lead.status not in SCORABLE:
            out.note = f"lead is {lead.status}: not rescored"
            return out
        if lead.icp_id != facts.icp.pk:
            ctx.update(lead, action="lead.icp", icp=facts.icp)
        target = Lead.Status.QUALIFIED if decision.qualified else Lead.Status.DISQUALIFIED
        if lead.status != target:
            if decision.qualified:
                lead_qualify(lead=lead, score=decision.score, reasons=reasons, locked=True)
            else:
                lead_disqualify(lead=lead, reasons=reasons, score=decision.score, locked=True)
            out.changed = True
        else:
            out.changed = bool(ctx.update(lead, action="lead.rescored", score=decision.score, score_reasons=reasons))
        if decision.qualified:
            ctx.handoff("lead_research", {"lead_id": lead.pk})
        return out
