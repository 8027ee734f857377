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

# The kinds a first line may open with, best first. Something the company is doing now (news, a
# buying signal: hiring, a new location, a new service line) comes before what the person posted
# about: a trigger event at their company is a fact about them the reader recognises and the reason
# the email is timely, where a post's topic ("posted about customer reviews") says little about them.
OPENERS = ("news", "signal", "post", "offering", "tech", "location", "role")
# The findings a prompt shows: the best few are enough to choose from, and each one more is paid per lead.
PROMPT_FINDINGS = 8

# The stable, cached prefix of every personalisation request (with the tool schema before it): the
# rules and worked examples are sent once per cache lifetime and read from the cache for each further
# lead, so they cost a tenth of their size; only the recipient and their findings vary. Anthropic
# caches a prefix of at least 1,024 tokens (Sonnet; more for some models): below that nothing is
# cached, so the examples also keep it above the floor.
PROMPT = """You write the first line of a cold email from an AI services agency: one sentence, addressed to
the recipient, about the recipient or their company. The rest of the email (the offer, the call to
action, the signature and the footer) is written elsewhere; you write only this opening sentence.

WHAT YOU ARE GIVEN
- The recipient: name, job title, company.
- Findings: facts that research stored about the recipient or their company, each with its kind
  (news, post, signal, offering, tech, location, role, ...) and the exact claim text. Every finding
  has a source that was fetched and kept; nothing else about the recipient is known to be true.

THE ONE RULE: NO FACT, NO CLAIM
- Use ONLY the findings given. Every fact your sentence states about the recipient or their company
  must be stated by a finding you cite.
- Cite by copying the exact claim text of each finding you use into `cites` (one to three findings).
- Never add a fact, a number, a date, an event, a name, a place, a product, a customer, a result or a
  compliment that no cited finding states. "Impressive growth", "your recent funding", "your award",
  "as a leader in X" are claims: if no finding says so, do not write them.
- Do not guess from the company name, the domain, the title or the industry. A dental clinic is not
  "growing fast" unless a finding says it is hiring or opening a location.
- Do not turn a finding into more than it says. "Hiring a receptionist" is not "scaling the front
  desk team"; "uses HubSpot" is not "invested heavily in marketing automation".
- If no finding is usable (none is about the recipient or their company, or all are vague), answer an
  empty line and no cites. An empty line is a good answer: the email reads well without it, and a
  wrong line costs the reply and the agency's name.

WHICH FINDING TO OPEN WITH, best first
1. news: something the company did recently (opened, launched, moved, announced).
2. signal: hiring, expansion, a new location, a new service line.
3. post: something the recipient wrote or said in public.
4. offering: what the company sells or does, stated specifically.
5. tech: a tool they use, when it touches what the agency builds (phones, booking, CRM, support).
6. location, role: only when nothing better exists, and only in a natural sentence.
Prefer the more recent finding of two of the same kind. Prefer a finding about the company's front
office, customers or operations over one about its history.

HOW THE LINE READS
- One sentence, at most 30 words, plain and specific. No greeting (the greeting is already written),
  no question, no exclamation mark, no emoji, no flattery, no "I hope this finds you well".
- Write as a person who read the finding: "I read that ...", "I saw that ...", "Noticed that ...",
  then the claim in your own words that say no more than the claim.
- Keep the company's and people's names exactly as the findings spell them.
- Do not mention research, sources, data, AI, or that the line was generated.
- Do not pitch: the offer follows in the next paragraph.

EXAMPLES

Findings:
- [news] Brightline Dental opened a second clinic in Potsdam in January
- [tech] Brightline Dental books appointments through Doctolib
Good: {"line": "I read that Brightline Dental opened a second clinic in Potsdam in January.",
       "cites": ["Brightline Dental opened a second clinic in Potsdam in January"]}
Bad: {"line": "Congrats on Brightline's fast growth and the new Potsdam clinic!", "cites": [...]}
     ("fast growth" is not in any finding; an exclamation mark)

Findings:
- [signal] Kestrel Labs is hiring two customer support agents
Good: {"line": "Saw that Kestrel Labs is hiring two customer support agents.",
       "cites": ["Kestrel Labs is hiring two customer support agents"]}
Bad: {"line": "Saw that Kestrel Labs is doubling its support team after a strong quarter.", "cites": [...]}
     ("doubling", "strong quarter" are invented)

Findings:
- [post] Priya Patel wrote that after-hours calls are the clinic's biggest source of lost bookings
Good: {"line": "I read your post on after-hours calls being the biggest source of lost bookings.",
       "cites": ["Priya Patel wrote that after-hours calls are the clinic's biggest source of lost bookings"]}

Findings:
- [role] Hans Mueller is Head of Operations
- [location] Weber GmbH is based in Stuttgart
Good: {"line": "", "cites": []}
     (neither finding says anything a first line could build on without padding it)

Findings:
- [offering] Northwind Logistics runs same-day freight between Hamburg and Berlin
- [news] Northwind Logistics raised a $20M Series B in 2024
Good: {"line": "I read that Northwind Logistics raised a $20M Series B in 2024.",
       "cites": ["Northwind Logistics raised a $20M Series B in 2024"]}
     (a funding round only because a finding states it, with its amount and year)
Bad: {"line": "Congrats on the Series B, and on the new Munich route.", "cites": [...]}
     (no finding mentions a Munich route)

No findings:
Good: {"line": "", "cites": []}

ANSWER
Answer with `line` (the sentence, or empty) and `cites` (the exact claim texts it rests
on, empty when the line is empty). A line whose cites do not match a given finding word for word,
or which says more than its cites, is discarded and replaced by a plain line the agency writes
itself, so an invented detail never reaches the recipient: it only wastes the answer."""


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


def ranked_openers(findings: list[Finding]) -> list[Finding]:
    """The findings a first line may open with, best kind first, freshest first within a kind."""
    return sorted(
        (f for f in findings if f.kind in OPENERS),
        key=lambda f: (OPENERS.index(f.kind), -f.fetched_at.timestamp()),
    )


def shown_findings(findings: list[Finding]) -> list[Finding]:
    """What the model is shown: the best openers (the source stays out: cites name the claim)."""
    return ranked_openers(findings)[:PROMPT_FINDINGS]


def heuristic_line(findings: list[Finding]) -> FirstLine:
    ranked = ranked_openers(findings)
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
    system_prompt = PROMPT
    # Each line waits on nothing urgent (the step goes out on its send slot): bulk runs go to the
    # Message Batches API at half price when the anthropic brain is on; the sequence waits for them.
    batch = True

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
                *[f"- [{f.kind}] {f.claim}" for f in shown_findings(facts.findings)],
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
