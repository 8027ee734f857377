"""copywriting: a new campaign's sequence, the steps with subject and body templates.

Templates use only the variables the sender can fill (``{{ first_name }}``, ``{{ company }}``,
``{{ first_line }}``: personalisation's cited line, ...); facts about a recipient come only through
``{{ first_line }}``, never from the copy. The heuristic writes a four-step sequence from the
agency's offer and the ICP's and persona's pains; a model's sequence that uses unknown variables,
states numbers about the recipient or skips the personal line is replaced by it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._compose import KNOWN_VARIABLES, unresolved
from crm.models import AgencyProfile, Campaign, CampaignStep
from crm.services.agency import profile

# A number, money or percentage in cold copy is a claim about someone: the copy has none.
_FIGURE = re.compile(r"\$\s?\d|\d+\s?%|\b\d{2,}\b")


class CampaignRef(BaseModel):
    campaign_id: int


class CopyFacts(Facts):
    campaign: Campaign
    agency: AgencyProfile
    pains: list[str]
    has_steps: bool


class StepCopy(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=20, max_length=4000)
    delay_business_days: int = Field(ge=0, le=14)


class Sequence(BaseModel):
    steps: list[StepCopy] = Field(min_length=1, max_length=5)


class Written(BaseModel):
    campaign_id: int
    steps: int
    created: bool


def sequence_problem(seq: Sequence) -> str | None:
    for n, step in enumerate(seq.steps, start=1):
        text = f"{step.subject}\n{step.body}"
        unknown = sorted(set(unresolved(text)) - KNOWN_VARIABLES)
        if unknown:
            return f"step {n} uses variables no sender can fill: {unknown}"
        if _FIGURE.search(text):
            return f"step {n} states a figure: facts about a recipient come only through {{{{ first_line }}}}"
    if "first_line" not in unresolved(seq.steps[0].body):
        return "the first email has no {{ first_line }}"
    if seq.steps[0].delay_business_days != 0:
        return "the first email must not wait"
    return None


def heuristic_sequence(agency: AgencyProfile, pains: list[str]) -> Sequence:
    pain = (pains[0] if pains else "repetitive work that eats your team's week").rstrip(".").lower()
    other = (pains[1] if len(pains) > 1 else pain).rstrip(".").lower()
    services = ", ".join(str(s) for s in (agency.services or [])[:2]) or "automation"
    offer = agency.offer.strip().split(".")[0].strip() if agency.offer.strip() else f"we build {services}"
    return Sequence(
        steps=[
            StepCopy(
                subject="{{ company }} and " + pain[:60],
                body=(
                    "Hi {{ first_name }},\n\n{{ first_line }}\n\n"
                    f"Teams like yours often lose hours to {pain}. {offer}.\n\n"
                    "Would a short call next week be useful?\n\n{{ sender_name }}"
                ),
                delay_business_days=0,
            ),
            StepCopy(
                subject="Re: {{ company }} and " + pain[:60],
                body=(
                    "Hi {{ first_name }},\n\nA quick follow-up: we usually start with one workflow, "
                    f"often {other}, and show the result within a few weeks.\n\n"
                    "Worth a look for {{ company }}?\n\n{{ sender_name }}"
                ),
                delay_business_days=3,
            ),
            # A third touch from another angle before the last one: a new reason to answer, not a
            # "bumping this" (follow-ups past the second still add replies, fewer each time; four
            # touches is the common cold sequence, and the breakup email comes last). It comes back
            # to the researched line: what is happening at their company is why the idea is timely.
            StepCopy(
                subject="One idea for {{ company }}",
                body=(
                    "Hi {{ first_name }},\n\n{{ first_line }}\n\nOne idea in case it helps: when a team takes "
                    f"{pain} off its plate, it is usually the first workflow we automate, and the "
                    "people who did it by hand get their afternoons back.\n\n"
                    "Happy to show you what that looked like elsewhere in a short call.\n\n{{ sender_name }}"
                ),
                delay_business_days=4,
            ),
            StepCopy(
                subject="Should I close the file?",
                body=(
                    "Hi {{ first_name }},\n\nI have not heard back, so I will assume the timing is not right. "
                    f"If {pain} comes up again, just reply to this email.\n\n{{{{ sender_name }}}}"
                ),
                delay_business_days=5,
            ),
        ]
    )


@register
class Copywriting(LLMAgent[CampaignRef, Written, Sequence]):
    name, category, trigger = "copywriting", "campaign", "handoff"
    Input, Facts, Output, Decision = CampaignRef, CopyFacts, Written, Sequence
    next = ("spam_check",)
    max_tokens = 1500
    system_prompt = (
        "You write a short cold email sequence (2-4 steps) for a B2B agency. Plain text, no links, no images, "
        "no hype words. Use only these variables: {{ first_name }}, {{ last_name }}, {{ company }}, {{ title }}, "
        "{{ sender_name }}, {{ sender_title }}, {{ agency }}, {{ first_line }}. Never state a fact, number or "
        "event about the recipient or their company: {{ first_line }} (a researched, cited sentence) is the "
        "only personal fact, and the first email opens with it. The first step waits 0 business days."
    )

    def load(self, ctx: RunContext, data: CampaignRef) -> CopyFacts:
        campaign = Campaign.objects.select_related("icp", "persona").get(pk=data.campaign_id)
        pains = [str(p) for p in (campaign.persona.pains if campaign.persona else [])]
        pains += [str(p) for p in (campaign.icp.pains if campaign.icp else []) if str(p) not in pains]
        return CopyFacts(campaign=campaign, agency=profile(), pains=pains, has_steps=campaign.steps.exists())

    def prompt(self, ctx: RunContext, facts: CopyFacts) -> str:
        c = facts.campaign
        return "\n".join(
            [
                f"Agency: {facts.agency.name}. Offer: {facts.agency.offer}",
                f"Services: {facts.agency.services}",
                f"Audience: {c.icp.name if c.icp else 'unspecified'} / {c.persona.name if c.persona else 'any role'}",
                "Pains:",
                *[f"- {p}" for p in facts.pains[:8]],
            ]
        )

    def heuristic(self, ctx: RunContext, facts: CopyFacts) -> Sequence:
        return heuristic_sequence(facts.agency, facts.pains)

    def decide(self, ctx: RunContext, facts: CopyFacts) -> Sequence:
        return ctx.brain.decide_checked(facts, check=sequence_problem)

    def act(self, ctx: RunContext, facts: CopyFacts, decision: Sequence) -> Written:
        campaign = ctx.lock(facts.campaign)
        if campaign.steps.exists():  # written already (a duplicate run): the copy stands
            return Written(campaign_id=campaign.pk, steps=campaign.steps.count(), created=False)
        for order, step in enumerate(decision.steps):
            CampaignStep.objects.create(
                campaign=campaign,
                order=order,
                delay_business_days=step.delay_business_days,
                subject_template=step.subject.strip(),
                body_template=step.body.strip(),
            )
        ctx.update(campaign, action="campaign.copy_written", note={"steps": len(decision.steps)})
        ctx.handoff("spam_check", {"campaign_id": campaign.pk})
        return Written(campaign_id=campaign.pk, steps=len(decision.steps), created=True)
