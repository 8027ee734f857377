"""personalization: one enrollment's first line, every claim in it citing a stored, sourced finding.

No fact, no claim: the model gets the lead's findings (claim and source) and answers with the line
and the claims it cites; an answer that cites a claim we do not hold, or says more than its
citations (an invented funding round), is replaced by the heuristic, which writes only what it can
cite: the freshest finding about the company or person, wrapped in a neutral sentence. Without a
finding there is no first line (the copy reads fine without it). The sender checks the line again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._compose import grounding_problem
from crm.models import Enrollment
from crm.selectors import sourced_findings
from crm.services.findings import Finding

# The kinds a first line may open with, best first.
OPENERS = ("news", "post", "signal", "offering", "tech", "location", "role")


class EnrollmentRef(BaseModel):
    enrollment_id: int


class PersonalFacts(Facts):
    enrollment: Enrollment
    findings: list[Finding] = Field(default_factory=list)


class FirstLine(BaseModel):
    line: str = Field(default="", max_length=300)
    cites: list[str] = Field(default_factory=list, max_length=3, description="the finding claims the line rests on")

    def variables(self) -> dict[str, Any]:
        if not self.line.strip():
            return {"first_line": "", "grounding": []}
        return {"first_line": self.line.strip(), "grounding": [{"text": self.line.strip(), "cites": self.cites}]}


class Personalised(BaseModel):
    enrollment_id: int
    first_line: str
    cites: list[str]
    changed: bool = False


def heuristic_line(findings: list[Finding]) -> FirstLine:
    ranked = sorted(
        (f for f in findings if f.kind in OPENERS),
        key=lambda f: (OPENERS.index(f.kind), -f.fetched_at.timestamp()),
    )
    if not ranked:
        return FirstLine()
    best = ranked[0]
    claim = best.claim.strip().rstrip(".")
    return FirstLine(line=f"I read that {claim}.", cites=[best.claim])


@register
class Personalization(LLMAgent[EnrollmentRef, Personalised, FirstLine]):
    name, category, trigger = "personalization", "campaign", "handoff"
    Input, Facts, Output, Decision = EnrollmentRef, PersonalFacts, Personalised, FirstLine
    next = ("send_time_optimization",)
    max_tokens = 400
    system_prompt = (
        "You write the first line of a cold email: one sentence about the recipient or their company. "
        "Use ONLY the findings given (each a claim with its source); cite the exact claim text of every "
        "finding you use in `cites`. Never add a fact, number, event or compliment that no finding states. "
        "With no usable finding, answer an empty line."
    )

    def load(self, ctx: RunContext, data: EnrollmentRef) -> PersonalFacts:
        enrollment = Enrollment.objects.select_related("lead__company", "campaign").get(pk=data.enrollment_id)
        return PersonalFacts(enrollment=enrollment, findings=sourced_findings(lead=enrollment.lead))

    def prompt(self, ctx: RunContext, facts: PersonalFacts) -> str:
        lead = facts.enrollment.lead
        company = lead.company.name if lead.company else "their company"
        return "\n".join(
            [
                f"Recipient: {lead.first_name} {lead.last_name}, {lead.title} at {company}",
                "Findings:",
                *[f"- [{f.kind}] {f.claim} ({f.source_url})" for f in facts.findings[:15]],
            ]
        )

    def heuristic(self, ctx: RunContext, facts: PersonalFacts) -> FirstLine:
        return heuristic_line(facts.findings)

    def decide(self, ctx: RunContext, facts: PersonalFacts) -> FirstLine:
        return ctx.brain.decide_checked(facts, check=lambda d: grounding_problem(d.variables(), facts.findings))

    def act(self, ctx: RunContext, facts: PersonalFacts, decision: FirstLine) -> Personalised:
        enrollment = ctx.lock(facts.enrollment)
        line = decision if grounding_problem(decision.variables(), facts.findings) is None else FirstLine()
        out = Personalised(enrollment_id=enrollment.pk, first_line=line.line.strip(), cites=line.cites)
        if enrollment.status not in (Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED):
            return out
        variables = {**enrollment.variables, **line.variables()}
        out.changed = bool(ctx.update(enrollment, action="enrollment.personalised", variables=variables))
        ctx.handoff("send_time_optimization", {"enrollment_id": enrollment.pk})
        return out
