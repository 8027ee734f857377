"""campaign_optimizer: proposes copy and targeting changes from a campaign's reading; an operator approves.

The heuristic reads the funnel top-down and names the first weak stage per step, each proposal with
the numbers it rests on (benchmarks for B2B cold email: Instantly's 2024 report, ~5% replies; Gmail
and the cold-email tools treat > 3% bounces as a list problem):
- bounces over ``MAX_BOUNCE`` of sends -> targeting: enroll verified addresses only;
- opens under ``MIN_OPEN`` -> copy: the step's subject line (opens are inflated by Apple's privacy
  pre-fetch, so a low open rate is a strong signal, a high one a weak one);
- replies under ``MIN_REPLY`` with opens fine -> copy: the step's body and first line;
- replies fine but under ``MIN_POSITIVE_SHARE`` of them interested -> targeting: the ICP/persona;
- a variant that won its test -> copy: make it the step's template.
Only steps with ``MIN_STEP_SENDS`` sends are judged. Nothing changes without approval; once
approved, copywriting rewrites (it is planned: the handoff is skipped until it exists).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Campaign, CampaignStats, Variant

MAX_BOUNCE = 0.03
MIN_OPEN = 0.30
MIN_REPLY = 0.02
MIN_POSITIVE_SHARE = 0.30
MIN_STEP_SENDS = 100


class CampaignRef(BaseModel):
    campaign_id: int
    day: str = ""  # the reading to act on; blank: the latest


class Reading(Facts):
    campaign: Campaign
    day: str
    totals: dict[str, Any]
    by_step: dict[str, dict[str, Any]]
    winners: dict[str, str] = Field(default_factory=dict)  # step order -> winning variant's subject


class Change(BaseModel):
    kind: Literal["copy", "targeting"]
    step: int | None = None  # the step's order; None: the whole campaign
    what: str = Field(min_length=1, max_length=500)
    evidence: str = Field(min_length=1, max_length=300)  # the numbers it rests on


class Proposal(BaseModel):
    changes: list[Change] = Field(default_factory=list, max_length=10)


class Proposed(BaseModel):
    campaign_id: int
    changes: list[Change] = Field(default_factory=list)
    approved: bool = False


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%" if value is not None else "n/a"


def propose(*, totals: dict[str, Any], by_step: dict[str, dict[str, Any]], winners: dict[str, str]) -> Proposal:
    """The rules' changes for one reading (see the module docstring)."""
    changes: list[Change] = []
    if totals.get("sent", 0) >= MIN_STEP_SENDS and (totals.get("bounced_rate") or 0) > MAX_BOUNCE:
        changes.append(
            Change(
                kind="targeting",
                what="Enroll only leads whose address verified as valid; drop catch-all and unknown addresses.",
                evidence=f"bounce rate {_pct(totals['bounced_rate'])} over {totals['sent']} sends",
            )
        )
    for order, t in sorted(by_step.items(), key=lambda kv: int(kv[0])):
        sent = t.get("sent", 0)
        if sent < MIN_STEP_SENDS:
            continue
        opened, replied, positive = t.get("opened_rate") or 0, t.get("replied_rate") or 0, t.get("positive", 0)
        where = f"step {order}: {sent} sends"
        if opened < MIN_OPEN:
            what = "Rewrite the subject line: shorter (2-4 words), plain, no sales words."
            changes.append(Change(kind="copy", step=int(order), what=what, evidence=f"{where}, opens {_pct(opened)}"))
        elif replied < MIN_REPLY:
            what = "Rewrite the body: open with a true, specific fact about the lead and end with one easy question."
            changes.append(
                Change(kind="copy", step=int(order), what=what, evidence=f"{where}, replies {_pct(replied)}")
            )
        elif t.get("replied", 0) >= 5 and positive / t["replied"] < MIN_POSITIVE_SHARE:
            changes.append(
                Change(
                    kind="targeting",
                    step=int(order),
                    what="Tighten the ICP/persona: people answer but few are interested.",
                    evidence=f"{where}, {positive} of {t['replied']} replies interested",
                )
            )
    for order, subject in sorted(winners.items()):
        changes.append(
            Change(
                kind="copy",
                step=int(order),
                what=f"Make the winning variant the step's template: {subject[:200]}",
                evidence=f"step {order}: the variant won its A/B test",
            )
        )
    return Proposal(changes=changes[:10])


def _digest(changes: list[Change]) -> str:
    blob = json.dumps([c.model_dump() for c in changes], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@register
class CampaignOptimizer(LLMAgent[CampaignRef, Proposed, Proposal]):
    name = "campaign_optimizer"
    category = "campaign"
    trigger = "handoff"
    Input, Facts, Output, Decision = CampaignRef, Reading, Proposed, Proposal
    next = ("copywriting",)
    max_tokens = 900
    system_prompt = (
        "You improve a B2B cold-email campaign. You get its funnel per step (sends, opens, replies, interested "
        "replies, meetings, bounces) and the rules' proposals. Propose at most 10 changes, each of kind 'copy' "
        "(subject or body of a step) or 'targeting' (who is enrolled), each with the numbers it rests on as "
        "evidence. Weigh replies over opens (privacy pre-fetch inflates opens). Do not invent numbers."
    )

    def load(self, ctx: RunContext, data: CampaignRef) -> Reading:
        campaign = Campaign.objects.get(pk=data.campaign_id)
        stats = CampaignStats.objects.filter(campaign=campaign)
        stats = stats.filter(day=data.day) if data.day else stats
        reading = stats.order_by("-day").first()
        if reading is None or not reading.totals.get("sent"):
            raise SkipRun(f"campaign {campaign.pk} has no reading with sends to optimise from")
        winners = {
            str(v.step.order): v.subject
            for v in Variant.objects.filter(step__campaign=campaign, is_winner=True).select_related("step")
        }
        return Reading(
            campaign=campaign,
            day=reading.day.isoformat(),
            totals=reading.totals,
            by_step=reading.by_step,
            winners=winners,
        )

    def prompt(self, ctx: RunContext, facts: Reading) -> str:
        rules = self.heuristic(ctx, facts)
        return "\n".join(
            [
                f"Campaign {facts.campaign.name} on {facts.day}: {json.dumps(facts.totals)}",
                *[f"Step {o}: {json.dumps(t)}" for o, t in sorted(facts.by_step.items())],
                *[f"Step {o} winning variant subject: {s}" for o, s in facts.winners.items()],
                "Rules' proposals:",
                *[f"- [{c.kind}] step {c.step}: {c.what} ({c.evidence})" for c in rules.changes],
            ]
        )

    def heuristic(self, ctx: RunContext, facts: Reading) -> Proposal:
        return propose(totals=facts.totals, by_step=facts.by_step, winners=facts.winners)

    def decide(self, ctx: RunContext, facts: Reading) -> Proposal:
        return ctx.brain.decide_checked(facts, check=lambda d: self._check(facts, d))

    @staticmethod
    def _check(facts: Reading, decision: Proposal) -> str | None:
        unknown = [c.step for c in decision.changes if c.step is not None and str(c.step) not in facts.by_step]
        return f"changes name steps the campaign has no reading for: {unknown}" if unknown else None

    def act(self, ctx: RunContext, facts: Reading, decision: Proposal) -> Proposed:
        out = Proposed(campaign_id=facts.campaign.pk, changes=decision.changes)
        if not decision.changes:
            return out
        ctx.require_approval(
            f"campaign:{facts.campaign.pk}:optimize:{_digest(decision.changes)}",
            f"Proposed changes to campaign {facts.campaign.name} from its reading of {facts.day}",
            {"campaign_id": facts.campaign.pk, "day": facts.day, "changes": [c.model_dump() for c in decision.changes]},
        )
        out.approved = True
        ctx.handoff("copywriting", {"campaign_id": facts.campaign.pk})
        return out
