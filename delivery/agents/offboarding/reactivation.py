"""reactivation: win-back for former clients and lost deals, after a cool-off, never for the suppressed.

Weekly, Monday morning.
Facts: the people we may write to again: the primary contacts of churned or offboarded clients
whose offboarding's reactivation date has passed, and the buyers of declined proposals whose
cool-off (``lost_deal_cool_off_days`` after the decline) is over. Never anyone the campaign rules
refuse (suppressed, do-not-contact, bounced, unsubscribed), a company that is a client again, a
client without a reactivation date (no cool-off is known, so it has not passed), or anyone who had
a win-back since their cool-off began: once per person per cool-off. Also each audience's win-back
campaign of the year, and what former clients and lost buyers said (exit survey themes, decline
reasons) to shape the copy.
Decides (LLM; the heuristic offline): the win-back sequence of an audience whose campaign has no
steps yet, using only the identity variables and passing the spam check (checked, else the
heuristic's).
Does: creates or reuses the audience's campaign ("Win-back: former clients (2027)") with the
unpaused mailboxes and its checked steps, enrolls each person (a lost lead goes back to qualified,
as its status machine allows) and hands off campaign_manager, which launches it; the first emails
still wait for an operator's approval (sequence_scheduler).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from agents.base import Empty, Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.agents.campaign._compose import IDENTITY_VARIABLES, unresolved
from crm.agents.campaign.spam_check import check_step
from crm.models import AgencyProfile, Campaign, CampaignStep, Enrollment, Lead, Mailbox
from crm.services.agency import profile
from crm.services.campaigns import EnrollmentRefused, enroll, enrollment_refusal
from crm.services.leads import lead_set_status
from delivery.agents.offboarding.answers import THEMES
from delivery.models import Offboarding, SurveyResponse
from delivery.policy import LifecyclePolicy, lifecycle_policy
from sales.models import Client, Proposal

PROMPT = """You write a short win-back email sequence (two steps) for an AI services agency, to people
who were clients or almost were, months ago. Plain text, personal, no pressure, under 120 words a
step. Use only these variables: {{first_name}}, {{company}}, {{sender_name}}, {{agency}}. Make no
claim about the recipient, and none about the agency beyond the services given. Address the common
reasons given, gently. The second step is a short bump after a few business days."""

WIN_BACK = "Win-back:"
Audience = Literal["former_clients", "lost_deals"]
AUDIENCE_NAMES: dict[str, str] = {"former_clients": "former clients", "lost_deals": "lost deals"}
MAX_PEOPLE = 500
GONE = (Client.Status.CHURNED, Client.Status.OFFBOARDED)


class Candidate(BaseModel):
    model_config = {"arbitrary_types_allowed": True}

    lead: Lead
    audience: Audience
    cool_off_began: dt.datetime
    why: str


class AudienceBrief(BaseModel):
    """One question to the brain: the copy for an audience."""

    audience: Audience
    agency_name: str
    services: list[str]
    themes: list[str]  # what these people said, most common first


class WinBackFacts(Facts):
    now: dt.datetime
    candidates: list[Candidate]
    skipped: list[str]
    campaigns: dict[str, Campaign]
    briefs: list[AudienceBrief]
    agency: AgencyProfile
    policy: LifecyclePolicy


class StepCopy(BaseModel):
    subject: str
    body: str
    delay_business_days: int = Field(default=0, ge=0, le=30)


class WinBackCopy(BaseModel):
    steps: list[StepCopy]


class WinBackPlan(BaseModel):
    copies: dict[str, WinBackCopy] = Field(default_factory=dict)


class Reactivated(BaseModel):
    enrolled: dict[str, list[int]] = Field(default_factory=dict)
    campaigns: dict[str, int] = Field(default_factory=dict)
    refused: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


def campaign_name(audience: str, year: int) -> str:
    return f"{WIN_BACK} {AUDIENCE_NAMES[audience]} ({year})"


def copy_problem(copy: WinBackCopy, agency: AgencyProfile) -> str | None:
    """Why a win-back sequence may not be used (None: it may)."""
    if not 1 <= len(copy.steps) <= 3:
        return f"{len(copy.steps)} steps (a win-back is one to three)"
    for n, step in enumerate(copy.steps):
        unknown = set(unresolved(step.subject + step.body)) - IDENTITY_VARIABLES
        if unknown:
            return f"step {n} uses variables no sender fills: {', '.join(sorted(unknown))}"
        verdict = check_step(CampaignStep(id=0, subject_template=step.subject, body_template=step.body), agency)
        if not verdict.passed:
            return f"step {n} fails the spam check: {'; '.join(verdict.findings)}"
    return None


def win_back_since(lead: Lead, since: dt.datetime) -> bool:
    return Enrollment.objects.filter(lead=lead, campaign__name__startswith=WIN_BACK, created_at__gte=since).exists()


@register
class Reactivation(LLMAgent[Empty, Reactivated, WinBackCopy]):
    name = "reactivation"
    category = "offboarding"
    trigger = "schedule"
    Facts = WinBackFacts
    Output = Reactivated
    Decision = WinBackCopy
    system_prompt = PROMPT
    schedule = "0 9 * * 1"  # weekly, Monday morning
    next = ("campaign_manager",)

    def load(self, ctx: RunContext, data: Empty) -> WinBackFacts:
        now, policy, agency = ctx.now(), lifecycle_policy(), profile()
        candidates, skipped = self._former_clients(now), []
        candidates += self._lost_deals(now, policy)
        allowed: list[Candidate] = []
        seen: set[int] = set()
        for candidate in candidates:
            lead = candidate.lead
            if lead.pk in seen:
                continue
            seen.add(lead.pk)
            refusal = enrollment_refusal(lead=lead)
            if refusal:
                skipped.append(f"lead {lead.pk}: {refusal}")
            elif win_back_since(lead, candidate.cool_off_began):
                skipped.append(f"lead {lead.pk}: had a win-back since its cool-off began")
            else:
                allowed.append(candidate)
        year = now.year
        campaigns = {
            audience: found
            for audience in AUDIENCE_NAMES
            if (found := Campaign.objects.filter(name=campaign_name(audience, year)).first()) is not None
        }
        needing = sorted(
            {c.audience for c in allowed if c.audience not in campaigns or not campaigns[c.audience].steps.exists()}
        )
        briefs = [
            AudienceBrief(
                audience=audience,
                agency_name=agency.name,
                services=[str(s) for s in agency.services or []],
                themes=self._themes(audience),
            )
            for audience in needing
        ]
        return WinBackFacts(
            now=now, candidates=allowed[:MAX_PEOPLE], skipped=skipped, campaigns=campaigns, briefs=briefs,
            agency=agency, policy=policy,
        )  # fmt: skip

    @staticmethod
    def _former_clients(now: dt.datetime) -> list[Candidate]:
        found = []
        for client in Client.objects.filter(status__in=GONE).select_related("primary_contact__company"):
            latest = Offboarding.objects.filter(client=client).order_by("-created_at", "-pk").first()
            if client.primary_contact is None or latest is None or latest.reactivation_after is None:
                continue  # no cool-off on record: it cannot have passed
            if latest.reactivation_after > now.date():
                continue
            found.append(
                Candidate(
                    lead=client.primary_contact,
                    audience="former_clients",
                    cool_off_began=latest.created_at,
                    why=f"left {latest.created_at:%Y-%m-%d}; cool-off until {latest.reactivation_after}",
                )
            )
        return found

    @staticmethod
    def _lost_deals(now: dt.datetime, policy: LifecyclePolicy) -> list[Candidate]:
        ended = now - dt.timedelta(days=policy.lost_deal_cool_off_days)
        declined = (
            Proposal.objects.filter(status=Proposal.Status.DECLINED, lead__isnull=False)
            .exclude(lead__company__client__isnull=False)  # a client (now or before) is not a lost deal
            .select_related("lead__company")
            .order_by("-updated_at")
        )
        latest: dict[int, Proposal] = {}
        for proposal in declined:  # newest first: a person's latest decline starts their cool-off
            latest.setdefault(proposal.lead_id or 0, proposal)
        return [
            Candidate(
                lead=p.lead,
                audience="lost_deals",
                cool_off_began=p.updated_at,
                why=f"declined {p.updated_at:%Y-%m-%d}: {p.decline_reason or 'no reason given'}",
            )
            for p in latest.values()
            if p.lead is not None and p.updated_at <= ended
        ]

    @staticmethod
    def _themes(audience: str) -> list[str]:
        if audience == "former_clients":
            said = [
                " ".join(str(r) for r in s.answers.get("reasons", []))
                for s in SurveyResponse.objects.filter(kind=SurveyResponse.Kind.EXIT, responded_at__isnull=False)
            ]
        else:
            said = list(
                Proposal.objects.filter(status=Proposal.Status.DECLINED).values_list("decline_reason", flat=True)
            )
        counts = Counter(theme for text in said for theme, pattern in THEMES.items() if pattern.search(text or ""))
        return [theme for theme, _ in counts.most_common(3)]

    def decide(self, ctx: RunContext, facts: WinBackFacts) -> WinBackPlan:
        plan = WinBackPlan()
        for brief in facts.briefs:
            plan.copies[brief.audience] = ctx.brain.decide_checked(
                brief, check=lambda copy: copy_problem(copy, facts.agency)
            )
        return plan

    def prompt(self, ctx: RunContext, brief: AudienceBrief) -> str:
        return "\n".join(
            [
                f"Audience: {AUDIENCE_NAMES[brief.audience]}",
                f"Agency: {brief.agency_name}",
                f"Services: {', '.join(brief.services) or 'AI automation'}",
                f"Common reasons they gave: {', '.join(brief.themes) or 'none recorded'}",
            ]
        )

    def heuristic(self, ctx: RunContext, brief: AudienceBrief) -> WinBackCopy:
        services = ", ".join(brief.services[:3])
        offer = f"In case it is useful: we still help teams with {services}." if services else ""
        if brief.audience == "former_clients":
            first = WinBackCopy(
                steps=[
                    StepCopy(
                        subject="{{company}} and {{agency}}: a quick catch-up?",
                        body="Hi {{first_name}},\n\nIt has been a few months since we worked together, and I wanted "
                        "to check in: how are things running at {{company}}?\n\n"
                        + (f"{offer}\n\n" if offer else "")
                        + _theme_line(brief.themes)
                        + "If anything is on your list again, I would be glad to hear what you need now. "
                        "A short call, no commitment.\n\nBest,\n{{sender_name}}",
                    )
                ]
            )
        else:
            first = WinBackCopy(
                steps=[
                    StepCopy(
                        subject="{{company}}: picking up where we left off?",
                        body="Hi {{first_name}},\n\nA while ago we talked about working together, and the timing "
                        "was not right then. Has anything changed on your side?\n\n"
                        + (f"{offer}\n\n" if offer else "")
                        + _theme_line(brief.themes)
                        + "Happy to send a short update or arrange a call.\n\nBest,\n{{sender_name}}",
                    )
                ]
            )
        bump = StepCopy(
            subject="Re: {{company}}",
            body="Hi {{first_name}},\n\nJust bringing this back to the top of your inbox. If now is not the time, "
            "no problem at all: a one-word reply and I will not follow up.\n\n{{sender_name}}",
            delay_business_days=5,
        )
        return WinBackCopy(steps=[*first.steps, bump])

    def act(self, ctx: RunContext, facts: WinBackFacts, plan: WinBackPlan) -> Reactivated:
        out = Reactivated(skipped=list(facts.skipped))
        for audience in AUDIENCE_NAMES:
            people = [c for c in facts.candidates if c.audience == audience]
            if not people:
                continue
            campaign = self._campaign(ctx, facts, plan, audience)
            out.campaigns[audience] = campaign.pk
            for candidate in people:
                lead = ctx.lock(candidate.lead)
                if lead.status == Lead.Status.LOST and lead.STATUS_MACHINE.allowed(lead.status, Lead.Status.QUALIFIED):
                    lead_set_status(lead=lead, status=Lead.Status.QUALIFIED, reason="win-back after the cool-off")
                try:
                    enrollment = enroll(
                        lead=lead,
                        campaign=campaign,
                        variables={"win_back": {"audience": audience, "why": candidate.why}},
                        start_at=facts.now,
                    )
                except EnrollmentRefused as exc:
                    out.refused.append(f"lead {lead.pk}: {' '.join(exc.messages)}")
                    continue
                out.enrolled.setdefault(audience, []).append(enrollment.lead_id)
        if out.enrolled:
            ctx.handoff("campaign_manager", {})
        return out

    def _campaign(self, ctx: RunContext, facts: WinBackFacts, plan: WinBackPlan, audience: str) -> Campaign:
        campaign = facts.campaigns.get(audience)
        if campaign is None:
            campaign = Campaign.objects.create(name=campaign_name(audience, facts.now.year), daily_limit=25)
            campaign.mailboxes.set(Mailbox.objects.filter(paused=False))
            ctx.update(campaign, action="campaign.created", note={"win_back": audience})
        if not campaign.steps.exists() and audience in plan.copies:
            for order, step in enumerate(plan.copies[audience].steps):
                created = CampaignStep.objects.create(
                    campaign=campaign,
                    order=order,
                    delay_business_days=step.delay_business_days,
                    subject_template=step.subject.strip(),
                    body_template=step.body.strip(),
                )
                verdict = check_step(created, facts.agency)
                created.spam_check = {
                    "passed": verdict.passed, "score": verdict.score, "findings": verdict.findings,
                    "checked_at": facts.now.isoformat(),
                }  # fmt: skip
                created.save(update_fields=["spam_check"])
        return campaign


def _theme_line(themes: list[str]) -> str:
    """A sentence for the most common reason people gave, when there is one worth answering."""
    lines = {
        "budget": "If budget was what held things back, a smaller first phase is often a good way to start.\n\n",
        "priorities": "Priorities shift; if this one is back on the table, it is easy to pick up again.\n\n",
        "in-house": "If your team has taken some of it in-house, we are also happy to support them.\n\n",
    }
    return next((lines[t] for t in themes if t in lines), "")
