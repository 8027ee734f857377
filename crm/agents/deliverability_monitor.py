"""deliverability_monitor: bounce and complaint rates per mailbox and per campaign; pauses above the lines.

The lines are the ones the mailbox providers enforce: Gmail's bulk-sender guidelines (Feb 2024) ask
for a spam-complaint rate below 0.3% and the cold-email tools (Instantly, Smartlead) pause a sender
whose bounce rate passes 3%. Rates come from the Message rows of the last ``WINDOW`` and are judged
only on ``MIN_SENDS`` sends and ``MIN_EVENTS`` bounces/complaints: one complaint in 100 sends is 1%,
yet a sender at a true 0.3% shows one in 26% of such samples (two in under 4%).

A breach pauses the mailbox (crm.services.mailboxes) or the campaign and tells an operator once (one
open escalation per subject and breach). Recovery is the operator's: they fix the cause, resume and
close the escalation; sends before that close are not judged again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Escalation
from agents.registry import register
from crm.models import Campaign, Mailbox, Message
from crm.services.campaigns import campaign_set_status
from crm.services.mailboxes import mailbox_pause
from crm.services.outreach_stats import Tally, outbound_sends, tally_by

WINDOW = dt.timedelta(days=7)
MIN_SENDS = 100
MIN_EVENTS = 2
MAX_BOUNCE_RATE = 0.03
MAX_COMPLAINT_RATE = 0.003


class Subject(BaseModel):
    kind: str  # "mailbox" | "campaign"
    pk: int
    tally: dict[str, int | float | None]
    breach: str = ""  # "bounce" | "complaint" | "" (within the lines, or too few sends to say)


class Readings(Facts):
    subjects: list[Subject] = Field(default_factory=list)


class Monitored(BaseModel):
    judged: int = 0
    too_few_sends: int = 0
    paused: list[str] = Field(default_factory=list)


def breach(tally: Tally, *, max_bounce: float = MAX_BOUNCE_RATE) -> str:
    """Which line a sample crosses ("bounce", "complaint") or ""; "" too when the sample is too small."""
    if tally.sent < MIN_SENDS:
        return ""
    if tally.bounced >= MIN_EVENTS and tally.bounced / tally.sent > max_bounce:
        return "bounce"
    if tally.complaints >= MIN_EVENTS and tally.complaints / tally.sent > MAX_COMPLAINT_RATE:
        return "complaint"
    return ""


def _dedupe_key(kind: str, pk: int, what: str) -> str:
    return f"deliverability:{kind}:{pk}:{what}"


def _judged_since(now: dt.datetime) -> dict[tuple[str, int], dt.datetime]:
    """Each subject an operator decided on within the window, with their last decision: its sends
    before then were judged already (the window starts there for it)."""
    since: dict[tuple[str, int], dt.datetime] = {}
    decided = Escalation.objects.filter(
        dedupe_key__startswith="deliverability:", decided_at__isnull=False, decided_at__gt=now - WINDOW
    ).values_list("dedupe_key", "decided_at")
    for key, at in decided:
        parts = key.split(":")  # deliverability:<kind>:<pk>:<breach>
        if at is None or len(parts) < 3 or not parts[2].isdigit():
            continue
        subject = (parts[1], int(parts[2]))
        since[subject] = max(at, since.get(subject, at))
    return since


def _tallies(sends: QuerySet[Message], field: str, pks: list[int], decided: dict[int, dt.datetime]) -> dict[int, Tally]:
    """Every subject's tally over the window: the subjects with the whole window in one grouped query
    (an hourly look costs the same with a hundred mailboxes as with two), those an operator decided
    on each from their decision."""
    whole = tally_by(sends.filter(**{f"{field}__in": [pk for pk in pks if pk not in decided]}), (field,))
    tallies = {pk: whole.get((pk,), Tally()) for pk in pks if pk not in decided}
    for pk, at in decided.items():
        if pk in pks:
            tallies[pk] = tally_by(outbound_sends(since=at).filter(**{field: pk}), ()).get((), Tally())
    return tallies


@register
class DeliverabilityMonitor(Agent[Empty, Monitored]):
    name = "deliverability_monitor"
    category = "campaign"
    trigger = "schedule"
    queue = "crm"
    schedule = 3600
    idle_finds_nothing = True
    Input, Facts, Output = Empty, Readings, Monitored

    def load(self, ctx: RunContext, data: Empty) -> Readings:
        now = ctx.now()
        decided = _judged_since(now)
        sends = outbound_sends(since=now - WINDOW)
        mailboxes = list(Mailbox.objects.filter(paused=False).order_by("pk").values_list("pk", flat=True))
        by_mailbox = _tallies(
            sends, "mailbox_id", mailboxes, {pk: at for (k, pk), at in decided.items() if k == "mailbox"}
        )
        subjects = [
            Subject(kind="mailbox", pk=pk, tally=by_mailbox[pk].as_dict(), breach=breach(by_mailbox[pk]))
            for pk in mailboxes
        ]
        campaigns = list(Campaign.objects.filter(status=Campaign.Status.ACTIVE).only("pk", "stop_rules").order_by("pk"))
        by_campaign = _tallies(
            sends,
            "enrollment__campaign_id",
            [c.pk for c in campaigns],
            {pk: at for (k, pk), at in decided.items() if k == "campaign"},
        )
        for campaign in campaigns:
            rules = campaign.stop_rules if isinstance(campaign.stop_rules, dict) else {}
            max_bounce = float(rules.get("max_bounce_rate", MAX_BOUNCE_RATE))
            tally = by_campaign[campaign.pk]
            subjects.append(
                Subject(
                    kind="campaign", pk=campaign.pk, tally=tally.as_dict(), breach=breach(tally, max_bounce=max_bounce)
                )
            )
        return Readings(subjects=subjects)

    def act(self, ctx: RunContext, facts: Readings) -> Monitored:
        out = Monitored()
        for s in facts.subjects:
            sent = int(s.tally["sent"] or 0)
            if sent < MIN_SENDS:
                out.too_few_sends += 1
                continue
            out.judged += 1
            if s.kind == "mailbox":
                self._mailbox(ctx, s, out)
            elif s.breach:
                self._campaign(ctx, s, out)
        return out

    def _mailbox(self, ctx: RunContext, s: Subject, out: Monitored) -> None:
        mailbox = ctx.lock(Mailbox.objects.get(pk=s.pk))
        rates: dict[str, Any] = {
            "bounce_rate": Decimal(str(s.tally["bounced_rate"] or 0)).quantize(Decimal("0.0001")),
            "complaint_rate": Decimal(str(s.tally["complaints_rate"] or 0)).quantize(Decimal("0.0001")),
        }
        ctx.update(mailbox, action="mailbox.rates", **rates)
        if not s.breach:
            return
        reason = f"{s.breach} rate above the line over {s.tally['sent']} sends ({s.tally})"
        if mailbox_pause(mailbox=mailbox, reason=f"deliverability: {s.breach} rate over the line"):
            out.paused.append(f"mailbox {mailbox.email}: {s.breach}")
            self._tell(ctx, s, f"Mailbox {mailbox.email} paused: {reason}", mailbox)

    def _campaign(self, ctx: RunContext, s: Subject, out: Monitored) -> None:
        campaign = ctx.lock(Campaign.objects.get(pk=s.pk))
        if campaign.status != Campaign.Status.ACTIVE:
            return
        campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, reason=f"deliverability: {s.breach}")
        out.paused.append(f"campaign {campaign.name}: {s.breach}")
        self._tell(ctx, s, f"Campaign {campaign.name} paused: {s.breach} rate above the line ({s.tally})", campaign)

    @staticmethod
    def _tell(ctx: RunContext, s: Subject, reason: str, subject: Mailbox | Campaign) -> None:
        ctx.escalate(
            Escalation.Kind.POLICY,
            reason,
            payload={"kind": s.kind, "id": s.pk, "breach": s.breach, "tally": s.tally},
            wait=False,
            dedupe_key=_dedupe_key(s.kind, s.pk, s.breach),
            subject=subject,
        )
