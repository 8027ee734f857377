"""ab_testing: gives a checked step two variants, then reads the test once, at its planned size.

Creating: the control (A) is the step as written; the challenger (B) changes one thing, the subject
line, so a difference can be put down to it. A long subject becomes its first words (short subjects
of 2-4 words get the most replies in cold email: Lavender's analysis of millions of sales emails and
Boomerang's study of 40M messages both show it); a short one becomes a plain question.

Testing (crm.services.ab_stats): a fixed-horizon two-proportion z-test on replies, planned before the
test from constants (``BASE_REPLY_RATE``, ``MIN_LIFT``): never re-planned from the data, and each arm
is read on its first ``planned_n`` sends only, once the last of them had ``REPLY_WAIT`` to be
answered. Reading later, on more sends, would be peeking. A winner is written only when significant.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models.functions import Coalesce
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Campaign, CampaignStep, Message, Variant
from crm.services.ab_stats import Arm, decide, required_sample_size
from crm.services.outreach_stats import outbound_sends

# A typical cold-email reply rate (Instantly's 2024 benchmark: ~5%) and the smallest lift worth
# finding (+3 points): about 1,000 sends per arm.
BASE_REPLY_RATE = 0.05
MIN_LIFT = 0.03
PLANNED_N = required_sample_size(BASE_REPLY_RATE, MIN_LIFT)
REPLY_WAIT = dt.timedelta(days=7)  # most replies come within a few days of the send
SHORT_SUBJECT_WORDS = 4
TESTABLE = (Campaign.Status.DRAFT, Campaign.Status.REVIEW, Campaign.Status.ACTIVE, Campaign.Status.PAUSED)


class StepRef(BaseModel):
    # A handoff names the step (or the campaign: each of its steps); beat tests every open test.
    step_id: int | None = None
    campaign_id: int | None = None


class ArmReading(BaseModel):
    variant_id: int
    label: str
    sent: int
    replies: int


class OpenTest(BaseModel):
    step_id: int
    arms: list[ArmReading]
    readable: bool  # every arm has its planned sends and they had time to be answered


class Plan(Facts):
    create_for: list[CampaignStep] = Field(default_factory=list)
    tests: list[OpenTest] = Field(default_factory=list)


class Tested(BaseModel):
    planned_n: int = PLANNED_N
    created: list[str] = Field(default_factory=list)
    winners: dict[str, str] = Field(default_factory=dict)  # step id -> label
    verdicts: dict[str, str] = Field(default_factory=dict)  # step id -> why (or why not yet)


_TEMPLATE_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_TOKEN = re.compile(r"\{\{\s*\w+\s*\}\}|\S+")  # a template variable counts as one word
_DANGLING = frozenset({"a", "about", "an", "and", "at", "for", "in", "of", "on", "the", "to", "with"})


def challenger_subject(subject: str) -> str:
    """One change to the control's subject: shorter when long, a question when already short."""
    words = _TOKEN.findall(subject)
    if len(words) > SHORT_SUBJECT_WORDS:
        short = words[:SHORT_SUBJECT_WORDS]
        while len(short) > 1 and short[-1].lower().strip(",.:;-") in _DANGLING:
            short.pop()
        return " ".join(short).rstrip(",.:;-")
    topic = _TEMPLATE_VAR.search(subject)
    return f"question about {{{{ {topic.group(1)} }}}}?" if topic else f"{subject.rstrip('?.!')}?"


def read_arm(variant: Variant, *, planned_n: int, now: dt.datetime) -> tuple[ArmReading, bool]:
    """The arm on its first ``planned_n`` sends, and whether those are old enough to be read."""
    first = list(
        outbound_sends()
        .filter(variant=variant)
        .order_by(Coalesce("sent_at", "created_at").asc(), "pk")
        .values_list("status", "sent_at", "created_at")[:planned_n]
    )
    replies = sum(status == Message.Status.REPLIED for status, _, _ in first)
    ripe = len(first) >= planned_n and (first[-1][1] or first[-1][2]) <= now - REPLY_WAIT
    return ArmReading(variant_id=variant.pk, label=variant.label, sent=len(first), replies=replies), ripe


@register
class AbTesting(Agent[StepRef, Tested]):
    name = "ab_testing"
    category = "campaign"
    trigger = "handoff"
    queue = "crm"
    schedule = "0 7 * * *"  # daily: reads the tests that reached their size
    Input, Facts, Output = StepRef, Plan, Tested

    def load(self, ctx: RunContext, data: StepRef) -> Plan:
        steps = CampaignStep.objects.filter(campaign__status__in=TESTABLE).exclude(variants__is_winner=True)
        named = data.step_id is not None or data.campaign_id is not None
        if data.step_id is not None:
            steps = CampaignStep.objects.filter(pk=data.step_id)
        elif data.campaign_id is not None:
            steps = CampaignStep.objects.filter(campaign_id=data.campaign_id)
        plan = Plan()
        now = ctx.now()
        for step in steps.select_related("campaign").prefetch_related("variants").order_by("pk")[:500]:
            variants = sorted(step.variants.all(), key=lambda v: v.label)
            if not variants and named and step.spam_check.get("passed") is not False:
                plan.create_for.append(step)
            if len(variants) < 2 or any(v.is_winner for v in variants):
                continue
            readings = [read_arm(v, planned_n=PLANNED_N, now=now) for v in variants]
            plan.tests.append(
                OpenTest(step_id=step.pk, arms=[r for r, _ in readings], readable=all(ok for _, ok in readings))
            )
        return plan

    def act(self, ctx: RunContext, facts: Plan) -> Tested:
        out = Tested()
        for step in facts.create_for:
            step = ctx.lock(step)
            if not step.variants.exists():
                for label, subject in (("A", step.subject_template), ("B", challenger_subject(step.subject_template))):
                    Variant.objects.create(step=step, label=label, subject=subject[:255], body=step.body_template)
                    out.created.append(f"{step.order}/{label}")
        for test in facts.tests:
            key = str(test.step_id)
            if not test.readable:
                short = ", ".join(f"{a.label} {a.sent}" for a in test.arms)
                out.verdicts[key] = f"keep testing: {short} of {PLANNED_N} planned sends (or answers pending)"
                continue
            arms = [Arm(a.label, a.sent, a.replies) for a in test.arms]
            verdict = decide(arms, planned_n=PLANNED_N)
            out.verdicts[key] = verdict.reason
            if verdict.winner is None:
                continue
            step = ctx.lock(CampaignStep.objects.get(pk=test.step_id))
            if step.variants.filter(is_winner=True).exists():
                continue
            winner = step.variants.get(label=verdict.winner)
            ctx.update(winner, action="variant.won", note={"reason": verdict.reason}, is_winner=True)
            out.winners[key] = verdict.winner
        return out
