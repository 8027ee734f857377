"""campaign_analytics: sent/open/reply/positive/meeting rates per campaign, step and variant, daily.

Everything is counted from the Message rows (crm.services.outreach_stats), three grouped queries for
all campaigns; one CampaignStats row per campaign and business day holds the reading. A campaign
that sent nothing has no reading. A reading that changed goes on to campaign_optimizer once it rests
on ``OPTIMIZE_AFTER`` sends (fewer say little about copy or targeting).

Each reading also says how many sent first lines cite a stored, sourced fact
(crm.services.grounding_stats): ``first_lines``, ``first_lines_cited`` and their share in the totals,
and the share over every campaign in the output.

Open rates are a weak signal since Apple Mail Privacy Protection (2021) pre-fetches the tracking
pixel; the optimizer weighs replies first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Campaign, CampaignStats
from crm.services.grounding_stats import FirstLines, first_lines_by_campaign
from crm.services.outreach_stats import outbound_sends, tally_by

OPTIMIZE_AFTER = 100


class Reading(BaseModel):
    campaign_id: int
    totals: dict[str, Any]
    by_step: dict[str, dict[str, Any]] = Field(default_factory=dict)
    by_variant: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Readings(Facts):
    day: str
    readings: list[Reading] = Field(default_factory=list)


class Analysed(BaseModel):
    day: str
    campaigns: int = 0
    changed: list[int] = Field(default_factory=list)
    first_lines: dict[str, Any] = Field(default_factory=dict, description="sent first lines citing a fact")


def campaign_readings() -> list[Reading]:
    """Every campaign's totals, per step (by order) and per variant ("order/label"), from its messages."""
    sends = outbound_sends().filter(enrollment__isnull=False)
    camp = "enrollment__campaign_id"
    totals = tally_by(sends, (camp,))
    steps = tally_by(sends.filter(step__isnull=False), (camp, "step__order"))
    variants = tally_by(sends.filter(variant__isnull=False), (camp, "step__order", "variant__label"))
    readings = {pk: Reading(campaign_id=pk, totals=t.as_dict()) for (pk,), t in totals.items()}
    for (pk, order), t in steps.items():
        readings[pk].by_step[str(order)] = t.as_dict()
    for (pk, order, label), t in variants.items():
        readings[pk].by_variant[f"{order}/{label}"] = t.as_dict()
    lines = first_lines_by_campaign()
    for pk, reading in readings.items():
        reading.totals |= lines.get(pk, FirstLines()).as_dict()
    return [readings[pk] for pk in sorted(readings)]


@register
class CampaignAnalytics(Agent[Empty, Analysed]):
    name = "campaign_analytics"
    category = "campaign"
    trigger = "schedule"
    queue = "crm"
    schedule = "0 6 * * *"
    Input, Facts, Output = Empty, Readings, Analysed
    next = ("campaign_optimizer",)

    def load(self, ctx: RunContext, data: Empty) -> Readings:
        return Readings(day=ctx.now().date().isoformat(), readings=campaign_readings())

    def act(self, ctx: RunContext, facts: Readings) -> Analysed:
        overall = FirstLines(
            sent=sum(r.totals.get("first_lines", 0) for r in facts.readings),
            cited=sum(r.totals.get("first_lines_cited", 0) for r in facts.readings),
        )
        out = Analysed(day=facts.day, first_lines=overall.as_dict())
        for reading in facts.readings:
            campaign = Campaign.objects.filter(pk=reading.campaign_id).first()
            if campaign is None:
                continue
            out.campaigns += 1
            stats, created = CampaignStats.objects.get_or_create(campaign=campaign, day=facts.day)
            changed = ctx.update(
                stats,
                action="campaign.stats",
                totals=reading.totals,
                by_step=reading.by_step,
                by_variant=reading.by_variant,
            )
            if not (created or changed):
                continue
            out.changed.append(campaign.pk)
            if reading.totals["sent"] >= OPTIMIZE_AFTER:
                ctx.handoff("campaign_optimizer", {"campaign_id": campaign.pk, "day": facts.day})
        return out
