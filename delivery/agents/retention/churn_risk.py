"""churn_risk: how likely a client is to leave, and why; at high risk, a save play and the account owner.

Facts: the health snapshot client_health handed over (its readings with their facts), the scores of
the last 30 days, the client's earlier assessments (where the current at-risk episode began) and
whether the episode's escalation exists. Decides: low / medium / high with readable factors and, at
high risk, the save play for the weakest reading. Writes: the ChurnRiskAssessment (one per
snapshot); the client's status (high: at risk; low: active again); at high risk, once per episode,
an escalation to the account owner and a check-in call offer to the client's contact.

An episode runs from the first high assessment after a low one to the next low one: a client
who stays at risk for weeks gets one escalation and one offer, not one a day.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import PermanentError, SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Lead
from crm.services.outbound import queue_email
from delivery.agents.retention import _health
from delivery.agents.retention._common import ACCOUNT_OWNER, CURRENT, POLICY, contact_of, greeting, signature
from delivery.models import ChurnRiskAssessment, HealthSnapshot
from delivery.services.retention import record_churn_assessment
from sales.models import Client

HIGH, MEDIUM, LOW = ChurnRiskAssessment.Level.HIGH, ChurnRiskAssessment.Level.MEDIUM, ChurnRiskAssessment.Level.LOW
HIGH_SCORE = 40  # at or below: high whatever the trend
HIGH_FALLING = 55  # below this and falling fast (or one reading collapsed): high
MEDIUM_SCORE = 65
FAST_FALL = 15  # points in 30 days
COLLAPSED = 30  # a reading at or below this is a problem of its own
WEAK = 50  # a reading below this is named as a factor
DETRACTOR = 6  # NPS 0-6 (Reichheld)

SAVE_PLAYS = {
    "payments": "Account owner calls about the overdue invoices and offers a payment plan before any work is paused.",
    "delivery": "Executive check-in call this week with a recovery plan for the slipping work, and a service "
    "credit proposal for the delay (needs the account owner's approval).",
    "sentiment": "Executive check-in call to hear their concerns first-hand, then the agreed fixes in writing "
    "within 48 hours.",
    "engagement": "Executive check-in call offer and a short recap of the results delivered so far; re-agree how "
    "often we report and meet.",
}
# One sentence of the offer per weakest reading: what we say we know, from the snapshot's facts.
OFFER_LINES = {
    "payments": "There are also a couple of open invoices I would like to sort out in a way that works for you.",
    "delivery": "I know some of the work has run later than we planned, and I want to walk you through how we "
    "get it back on track.",
    "sentiment": "Your feedback matters to us, and I would rather hear it from you directly.",
    "engagement": "It has been a while since we last spoke, and I want to make sure we are still working on what "
    "matters most to you.",
}


class Assess(BaseModel):
    client_id: int
    snapshot_id: int


class RiskFacts(Facts):
    client: Client
    snapshot: HealthSnapshot
    readings: dict[str, _health.Reading]
    best_30d: int | None = None
    contact: Lead | None = None
    episode_began: dt.date | None = None  # the first high of the open episode, if one is open


class Verdict(BaseModel):
    level: str
    factors: list[str]
    weakest: str = ""
    save_play: str = ""


class Assessed(BaseModel):
    assessment_id: int
    level: str
    factors: list[str] = Field(default_factory=list)
    save_play: str = ""
    status: str = ""
    escalated: bool = False
    offer_message_id: int | None = None
    note: str = ""


def assess(*, score: int, readings: dict[str, _health.Reading], best_30d: int | None) -> Verdict:
    """The level and its reasons, from the snapshot and its 30-day trend."""
    fall = max(0, (best_30d or score) - score)
    weak = sorted((r.value, name) for name, r in readings.items() if r.value < WEAK)
    nps = readings["sentiment"].data.get("nps") if "sentiment" in readings else None
    detractor = isinstance(nps, int) and nps <= DETRACTOR
    collapsed = any(value <= COLLAPSED for value, _ in weak)
    factors = [f"health {score}/100"]
    if fall:
        factors.append(f"down {fall} points in 30 days (from {best_30d})")
    for value, name in weak:
        factors.append(f"{name} {value}/100: " + "; ".join(readings[name].facts))
    if detractor and not any(name == "sentiment" for _, name in weak):
        factors.append(f"last NPS {nps} (a detractor)")
    if score <= HIGH_SCORE or (score < HIGH_FALLING and (fall >= FAST_FALL or collapsed or detractor)):
        level = HIGH
    elif score < MEDIUM_SCORE or fall >= FAST_FALL - 5 or weak or detractor:
        level = MEDIUM
    else:
        level = LOW
    weakest = weak[0][1] if weak else min(readings, key=lambda n: readings[n].value) if readings else ""
    return Verdict(
        level=level, factors=factors, weakest=weakest, save_play=SAVE_PLAYS.get(weakest, "") if level == HIGH else ""
    )


def episode_key(client_id: int, began: dt.date) -> str:
    return f"churn:client:{client_id}:episode:{began.isoformat()}"


def open_episode_start(client: Client) -> dt.date | None:
    """The day the current at-risk episode began: its first high assessment since the last low one."""
    earlier = ChurnRiskAssessment.objects.filter(client=client).select_related("snapshot")
    last_low = earlier.filter(level=LOW).order_by("-created_at", "-pk").first()
    if last_low is not None:
        earlier = earlier.filter(pk__gt=last_low.pk)
    first_high = earlier.filter(level=HIGH).order_by("created_at", "pk").first()
    if first_high is None:
        return None
    return first_high.snapshot.taken_on if first_high.snapshot else first_high.created_at.date()


@register
class ChurnRisk(Agent[Assess, Assessed]):
    name, category, trigger, queue = "churn_risk", "retention", "handoff", "delivery"
    Input, Facts, Output = Assess, RiskFacts, Assessed

    def load(self, ctx: RunContext, data: Assess) -> RiskFacts:
        snapshot = HealthSnapshot.objects.select_related("client__company", "client__primary_contact").get(
            pk=data.snapshot_id
        )
        if snapshot.client_id != data.client_id:
            raise PermanentError(f"snapshot {snapshot.pk} belongs to client {snapshot.client_id}, not {data.client_id}")
        if ChurnRiskAssessment.objects.filter(snapshot=snapshot).exists():
            raise SkipRun(f"snapshot {snapshot.pk} was assessed already")
        client = snapshot.client
        if client.status not in CURRENT:
            raise SkipRun(f"client {client.pk} is {client.status}: nothing to save")
        try:
            readings = {name: _health.Reading.model_validate(r) for name, r in (snapshot.components or {}).items()}
        except ValueError as exc:
            raise PermanentError(f"snapshot {snapshot.pk} has unreadable components: {exc}") from None
        scores = HealthSnapshot.objects.filter(
            client=client, taken_on__gte=snapshot.taken_on - dt.timedelta(days=30), taken_on__lte=snapshot.taken_on
        ).values_list("score", flat=True)
        return RiskFacts(
            client=client,
            snapshot=snapshot,
            readings=readings,
            best_30d=max(scores, default=None),
            contact=contact_of(client),
            episode_began=open_episode_start(client),
        )

    def act(self, ctx: RunContext, facts: RiskFacts) -> Assessed:
        verdict = assess(score=facts.snapshot.score, readings=facts.readings, best_30d=facts.best_30d)
        client = ctx.lock(facts.client)
        assessment = record_churn_assessment(
            client=client,
            level=verdict.level,
            factors=verdict.factors,
            save_play=verdict.save_play,
            snapshot=facts.snapshot,
        )
        client.refresh_from_db(fields=["status"])
        out = Assessed(
            assessment_id=assessment.pk,
            level=verdict.level,
            factors=verdict.factors,
            save_play=verdict.save_play,
            status=client.status,
        )
        if verdict.level == HIGH:
            self._save(ctx, facts, client, verdict, out)
        return out

    def _save(self, ctx: RunContext, facts: RiskFacts, client: Client, verdict: Verdict, out: Assessed) -> None:
        """Once per episode: tell the account owner, and offer the client a check-in call."""
        key = episode_key(client.pk, facts.episode_began or facts.snapshot.taken_on)
        if Escalation.objects.filter(dedupe_key=key).exists():
            out.note = "the account owner was told about this episode already"
            return
        ctx.escalate(
            POLICY,
            f"{client} is at high risk of churning: {'; '.join(verdict.factors)}. Save play: {verdict.save_play}",
            payload={"client_id": client.pk, "snapshot_id": facts.snapshot.pk, "factors": verdict.factors,
                     "save_play": verdict.save_play, "weakest": verdict.weakest},
            group=ACCOUNT_OWNER,
            wait=False,
            dedupe_key=key,
            subject=client,
        )  # fmt: skip
        out.escalated = True
        if facts.contact is None:
            out.note = "no contact with an address: the account owner makes the offer"
            return
        message = queue_email(
            ctx,
            key=f"{key}:check-in-offer",
            lead=facts.contact,
            subject="Can we set up a check-in call?",
            body=_offer(facts.contact, verdict.weakest),
            intent="save_play",
        )
        if message is None:
            out.note = "the contact may not be contacted: the account owner decides what to do"
        else:
            out.offer_message_id = message.pk


def _offer(contact: Lead, weakest: str) -> str:
    return "\n".join(
        [
            greeting(contact),
            "",
            "I would like to set up a short check-in call with you this week, with our founder on the line, "
            "to hear how things are going from your side and agree on what we should do better.",
            OFFER_LINES.get(weakest, ""),
            "",
            "Would a time this week suit you? Reply with one and I will send an invitation.",
            "",
            signature(),
        ]
    )
