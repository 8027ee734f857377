"""campaign_manager: one campaign per ICP and persona, filled with qualified leads, launched and paused.

Every hour: qualified leads not in any campaign are grouped by their ICP and persona; a group
without a running campaign gets one (a draft with the unpaused mailboxes; copywriting writes its
sequence). A draft whose steps all passed the spam check is launched. Qualified leads are enrolled
up to the campaign's daily limit of new enrollments, each handed to personalization. An active
campaign whose copy fails the spam check, or that has no unpaused mailbox left, is paused with the
reason; when that reason is gone, it resumes. The first emails of a launched campaign still wait
for one operator approval (sequence_scheduler).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Campaign, Enrollment, IdealCustomerProfile, Lead, Mailbox, Persona
from crm.services.campaigns import EnrollmentRefused, campaign_set_status, enroll

RUNNING = (Campaign.Status.DRAFT, Campaign.Status.REVIEW, Campaign.Status.ACTIVE, Campaign.Status.PAUSED)
PAUSE_COPY = "copy failed the spam check"
PAUSE_MAILBOX = "no unpaused sending mailbox"
MANAGER_PAUSES = (PAUSE_COPY, PAUSE_MAILBOX)
MAX_LEADS = 2000


class World(Facts):
    now: dt.datetime
    groups: dict[tuple[int, int | None], list[int]]
    icps: dict[int, IdealCustomerProfile]
    personas: dict[int, Persona]
    campaigns: list[Campaign]
    mailboxes: list[Mailbox]


class Managed(BaseModel):
    created: list[int] = Field(default_factory=list)
    launched: list[int] = Field(default_factory=list)
    paused: list[int] = Field(default_factory=list)
    resumed: list[int] = Field(default_factory=list)
    enrolled: int = 0
    refused: int = 0


def copy_state(campaign: Campaign) -> str:
    """'missing', 'unchecked', 'failed' or 'passed': what the spam check said about every step."""
    steps = list(campaign.steps.all())
    if not steps:
        return "missing"
    checks = [s.spam_check or {} for s in steps]
    if any("passed" not in c for c in checks):
        return "unchecked"
    return "passed" if all(c["passed"] for c in checks) else "failed"


def campaign_name(icp: IdealCustomerProfile, persona: Persona | None) -> str:
    base = f"{icp.name} / {persona.name if persona else 'all roles'}"[:230]
    name, n = base, 1
    while Campaign.objects.filter(name=name).exists():
        n += 1
        name = f"{base} ({n})"
    return name


@register
class CampaignManager(Agent[Empty, Managed]):
    name, category, trigger, queue = "campaign_manager", "campaign", "schedule", "crm"
    Facts, Output = World, Managed
    schedule = "0 * * * *"
    next = ("copywriting", "personalization")

    def load(self, ctx: RunContext, data: Empty) -> World:
        leads = (
            Lead.objects.filter(status=Lead.Status.QUALIFIED, icp__active=True, enrollments__isnull=True)
            .order_by("-score", "pk")
            .values_list("pk", "icp_id", "persona_id")[:MAX_LEADS]
        )
        groups: dict[tuple[int, int | None], list[int]] = {}
        for pk, icp_id, persona_id in leads:
            groups.setdefault((icp_id, persona_id), []).append(pk)
        icp_ids = {k[0] for k in groups}
        persona_ids = {k[1] for k in groups if k[1] is not None}
        return World(
            now=ctx.now(),
            groups=groups,
            icps={i.pk: i for i in IdealCustomerProfile.objects.filter(pk__in=icp_ids)},
            personas={p.pk: p for p in Persona.objects.filter(pk__in=persona_ids)},
            campaigns=list(Campaign.objects.filter(status__in=RUNNING).prefetch_related("mailboxes").order_by("pk")),
            mailboxes=list(Mailbox.objects.filter(paused=False).order_by("pk")),
        )

    def act(self, ctx: RunContext, facts: World) -> Managed:
        out = Managed()
        by_audience = {(c.icp_id, c.persona_id): c for c in facts.campaigns if c.icp_id is not None}
        for (icp_id, persona_id), lead_ids in facts.groups.items():
            campaign = by_audience.get((icp_id, persona_id))
            if campaign is None:
                campaign = self._create(ctx, facts, icp_id, persona_id)
                by_audience[(icp_id, persona_id)] = campaign
                out.created.append(campaign.pk)
            self._enroll(ctx, facts, campaign, lead_ids, out)
        for campaign in facts.campaigns:
            self._steer(ctx, campaign, out)
        return out

    def _create(self, ctx: RunContext, facts: World, icp_id: int, persona_id: int | None) -> Campaign:
        icp, persona = facts.icps[icp_id], facts.personas.get(persona_id) if persona_id else None
        campaign = Campaign.objects.create(name=campaign_name(icp, persona), icp=icp, persona=persona)
        campaign.mailboxes.set(facts.mailboxes)
        ctx.update(campaign, action="campaign.created", note={"icp": icp.pk, "persona": persona_id})
        ctx.handoff("copywriting", {"campaign_id": campaign.pk})
        return campaign

    def _enroll(self, ctx: RunContext, facts: World, campaign: Campaign, lead_ids: list[int], out: Managed) -> None:
        day_start = facts.now.replace(hour=0, minute=0, second=0, microsecond=0)
        today = Enrollment.objects.filter(campaign=campaign, created_at__gte=day_start).count()
        room = max(campaign.daily_limit - today, 0)
        for lead in Lead.objects.filter(pk__in=lead_ids[: room * 2]).order_by("-score", "pk"):
            if room <= 0:
                break
            if Enrollment.objects.filter(lead=lead).exists():
                continue  # enrolled since we looked
            try:
                enrollment = enroll(lead=lead, campaign=campaign, start_at=facts.now)
            except EnrollmentRefused:
                out.refused += 1
                continue
            room -= 1
            out.enrolled += 1
            ctx.handoff("personalization", {"enrollment_id": enrollment.pk})

    def _steer(self, ctx: RunContext, campaign: Campaign, out: Managed) -> None:
        state = copy_state(campaign)
        has_mailbox = any(not m.paused for m in campaign.mailboxes.all())
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.REVIEW) and state == "passed" and has_mailbox:
            if campaign.status == Campaign.Status.DRAFT:
                campaign_set_status(campaign=campaign, status=Campaign.Status.REVIEW)
            campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
            out.launched.append(campaign.pk)
        elif campaign.status == Campaign.Status.ACTIVE and (state == "failed" or not has_mailbox):
            reason = PAUSE_COPY if state == "failed" else PAUSE_MAILBOX
            campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, reason=reason)
            out.paused.append(campaign.pk)
        elif (
            campaign.status == Campaign.Status.PAUSED
            and campaign.paused_reason in MANAGER_PAUSES
            and state == "passed"
            and has_mailbox
        ):
            campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
            out.resumed.append(campaign.pk)
