"""spam_check: each step of a campaign checked before it is sent, the findings on the step.

Rules, scored the way filters score: spam-trigger words, shouting and exclamation marks, links and
images against the words around them, template variables no sender can fill, and CAN-SPAM: the
rendered email (with the footer the sender adds) must carry an unsubscribe link and the agency's
postal address. A step passes below ``PASS_BELOW`` points with no blocking finding.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._compose import KNOWN_VARIABLES, render_text, unresolved, with_footer
from crm.models import AgencyProfile, Campaign, CampaignStep
from crm.services.agency import profile

SPAM_WORDS = (
    "free", "guarantee", "guaranteed", "risk-free", "no obligation", "act now", "limited time", "urgent",
    "winner", "cash", "$$$", "100%", "click here", "buy now", "order now", "special promotion", "earn money",
    "double your", "once in a lifetime", "no cost", "best price", "dear friend", "miracle", "amazing deal",
)  # fmt: skip
LINK = re.compile(r"https?://\S+", re.I)
IMAGE = re.compile(r"<img\b|!\[[^\]]*\]\(", re.I)
WORD = re.compile(r"[A-Za-z]{2,}")
PASS_BELOW = 5
MAX_LINKS = 2
SAMPLE = {"first_name": "Ada", "last_name": "Lovelace", "company": "Example Co", "title": "Owner", "first_line": ""}
SAMPLE_LINK = "https://unsubscribe.example/x"


class CampaignRef(BaseModel):
    campaign_id: int


class CampaignFacts(Facts):
    campaign: Campaign
    steps: list[CampaignStep]
    agency: AgencyProfile


class StepVerdict(BaseModel):
    step_id: int
    passed: bool
    score: int
    findings: list[str] = Field(default_factory=list)


class Checked(BaseModel):
    campaign_id: int
    passed: bool
    steps: list[StepVerdict]


def check_step(step: CampaignStep, agency: AgencyProfile) -> StepVerdict:
    """The findings for one step: (points, text, blocking) folded into a verdict."""
    found: list[tuple[int, str, bool]] = []
    text = f"{step.subject_template}\n{step.body_template}"
    lower = text.lower()
    for word in SPAM_WORDS:
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lower):
            found.append((2, f"spam-trigger phrase {word!r}", False))
    if step.subject_template.isupper() or re.search(r"\b[A-Z]{4,}\b", step.subject_template):
        found.append((3, "shouting in the subject", False))
    if text.count("!") > 1:
        found.append((1 * text.count("!"), f"{text.count('!')} exclamation marks", False))
    words, links, images = len(WORD.findall(text)), len(LINK.findall(text)), len(IMAGE.findall(text))
    if links > MAX_LINKS:
        found.append((3, f"{links} links (at most {MAX_LINKS} in a cold email)", False))
    if links and words < 40 * links:
        found.append((2, f"{links} link(s) for {words} words: too little text around them", False))
    if images:
        found.append((5, f"{images} image(s): cold email is plain text", True))
    unknown = sorted(set(unresolved(text)) - KNOWN_VARIABLES)
    if unknown:
        found.append((10, f"template variables no sender can fill: {', '.join(unknown)}", True))
    values = {**SAMPLE, "sender_name": agency.sender_name, "sender_title": agency.sender_title, "agency": agency.name}
    rendered = with_footer(render_text(step.body_template, values), agency, SAMPLE_LINK)
    if not agency.postal_address.strip() or agency.postal_address.strip() not in rendered:
        found.append((10, "no postal address in the footer (CAN-SPAM)", True))
    if SAMPLE_LINK not in rendered or "unsubscribe" not in rendered.lower():
        found.append((10, "no unsubscribe link in the footer (CAN-SPAM)", True))
    score = sum(points for points, _, _ in found)
    passed = score < PASS_BELOW and not any(blocking for _, _, blocking in found)
    return StepVerdict(step_id=step.pk, passed=passed, score=score, findings=[t for _, t, _ in found])


@register
class SpamCheck(Agent[CampaignRef, Checked]):
    name, category, trigger, queue = "spam_check", "campaign", "handoff", "crm"
    Input, Facts, Output = CampaignRef, CampaignFacts, Checked
    next = ("ab_testing",)

    def load(self, ctx: RunContext, data: CampaignRef) -> CampaignFacts:
        campaign = Campaign.objects.get(pk=data.campaign_id)
        return CampaignFacts(campaign=campaign, steps=list(campaign.steps.order_by("order")), agency=profile())

    def act(self, ctx: RunContext, facts: CampaignFacts) -> Checked:
        verdicts: list[StepVerdict] = []
        for step in facts.steps:
            verdict = check_step(step, facts.agency)
            verdicts.append(verdict)
            locked = ctx.lock(step)
            current: dict[str, Any] = locked.spam_check or {}
            stored = {"passed": verdict.passed, "score": verdict.score, "findings": verdict.findings}
            if {k: current.get(k) for k in stored} != stored:
                ctx.update(
                    locked, action="step.spam_checked", spam_check={**stored, "checked_at": ctx.now().isoformat()}
                )
        passed = bool(verdicts) and all(v.passed for v in verdicts)
        if passed:
            ctx.handoff("ab_testing", {"campaign_id": facts.campaign.pk})
        return Checked(campaign_id=facts.campaign.pk, passed=passed, steps=verdicts)
