"""onboarding_stuck_detector: every morning, which onboardings stopped moving, and what to do.

Facts: each open onboarding with its open items and its client's contact, and the progress made
outside our agents: the client's tasks in their workspace (ProjectTool role, ``list_tasks``) and
the kickoff meeting (held, or missed); the nudges sent since the onboarding last moved.
Decides (rules, per onboarding): progress seen is ticked (the accesses task done: every requested
access is recorded granted), which un-sticks it and starts the count again. Otherwise, after
``stuck_after_business_days`` business days without progress: a nudge to the contact listing what
is open (Onboarding.nudges_sent); another after ``nudge_every_business_days``; after
``nudges_before_escalation`` nudges, an escalation to a human on a later business day (never a
nudge and an escalation the same day). A contact we may not write to is escalated at once.
Workspace tasks we never created are not ours to tick: they are counted and left alone.
A kickoff that will not happen (the client cancelled it, or the calendar refused the booking) is
booked again at the next free slot, up to ``MAX_KICKOFFS`` in one onboarding; past that,
the nudges and the escalation take it over.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Max
from pydantic import BaseModel, ConfigDict, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Escalation
from agents.registry import register
from crm.models import AgencyProfile, Lead, Message
from crm.services.agency import profile
from crm.services.outbound import may_email, queue_email
from delivery.agents.onboarding.common import (
    ACCESSES,
    ASSETS,
    CLIENT_ITEMS,
    KICKOFF_BOOKED,
    KICKOFF_HELD,
    OPEN,
    WORKSPACE,
    business_days_between,
    tick,
)
from delivery.agents.onboarding.kickoff import book_kickoff, first_slot, kickoffs_of
from delivery.models import ClientAccess, Onboarding
from delivery.policy import LifecyclePolicy, lifecycle_policy
from delivery.services.accesses import grant_access
from delivery.services.onboarding import mark_onboarding_stuck, record_onboarding_nudge
from integrations.http.errors import ProviderError
from integrations.values import Slot
from sales.models import Meeting

MAX_ONBOARDINGS = 200
# Kickoffs booked in one onboarding before the agency stops rebooking and a human talks to the client.
MAX_KICKOFFS = 3
Step = Literal["progress", "nudge", "escalate", "wait"]
# What each open item asks of the client, in a nudge.
ASKS: dict[str, str] = {
    ACCESSES: "the accesses from our access request email (tick the task in your workspace when done)",
    ASSETS: "brand guidelines and a sample of your data in the shared folder",
    KICKOFF_BOOKED: "a time for our kickoff call: reply with two or three that suit you",
    KICKOFF_HELD: "our kickoff call: if the booked time no longer works, reply and we will move it",
}


class Watch(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    onboarding: Onboarding
    contact: Lead | None
    open_items: list[str]
    progressed: list[str] = Field(default_factory=list)  # open items the facts show done now
    idle_days: int = 0
    nudges: int = 0  # sent since the onboarding last moved
    last_nudge_on: dt.date | None = None
    escalated: bool = False
    foreign_tasks: int = 0
    kickoff_slot: Slot | None = None  # set when the kickoff must be booked again, at this slot
    note: str = ""


class Watchlist(Facts):
    today: dt.date
    watches: list[Watch]
    policy: LifecyclePolicy
    agency: AgencyProfile

    @property
    def sender_name(self) -> str:
        return self.agency.sender_name


class Watched(BaseModel):
    progressed: dict[int, list[str]] = Field(default_factory=dict)
    nudged: list[int] = Field(default_factory=list)
    escalated: list[int] = Field(default_factory=list)
    kickoffs_rebooked: dict[int, int] = Field(default_factory=dict)  # onboarding -> its new kickoff meeting
    waiting: int = 0
    notes: list[str] = Field(default_factory=list)


def next_step(watch: Watch, *, policy: LifecyclePolicy, today: dt.date, country: str = "") -> Step:
    """What one onboarding needs today (the agency's playbook, in order)."""
    if watch.progressed:
        return "progress"
    if watch.idle_days < policy.stuck_after_business_days or watch.escalated:
        return "wait"
    if watch.last_nudge_on == today:
        return "wait"  # a nudge went out today: nothing more the same day
    since_nudge = business_days_between(watch.last_nudge_on, today, country=country) if watch.last_nudge_on else 0
    if watch.nudges and since_nudge < policy.nudge_every_business_days:
        return "wait"
    if watch.nudges >= policy.nudges_before_escalation or not may_email(watch.contact):
        return "escalate"
    return "nudge"


def episode(onboarding: Onboarding) -> str:
    """The current stall, named by when the onboarding last moved (progress starts a new one)."""
    return f"{onboarding.last_progress_at:%Y%m%d%H%M}"


def nudge_prefix(onboarding: Onboarding) -> str:
    return f"onboarding:{onboarding.pk}:nudge:{episode(onboarding)}:"


def escalation_key(onboarding: Onboarding) -> str:
    return f"onboarding:{onboarding.pk}:stuck:{episode(onboarding)}"


@register
class OnboardingStuckDetector(Agent[Empty, Watched]):
    name, category, trigger, queue = "onboarding_stuck_detector", "onboarding", "schedule", "delivery"
    Facts, Output = Watchlist, Watched
    schedule = "0 7 * * *"  # daily, before the agency's day starts

    def load(self, ctx: RunContext, data: Empty) -> Watchlist:
        today = ctx.now().date()
        onboardings = list(
            Onboarding.objects.filter(status__in=OPEN)
            .select_related("client__company", "client__primary_contact")
            .prefetch_related("tasks")
            .order_by("last_progress_at", "pk")[:MAX_ONBOARDINGS]
        )
        return Watchlist(
            today=today,
            watches=[self._watch(ctx, o, today) for o in onboardings],
            policy=lifecycle_policy(),
            agency=profile(),
        )

    def _watch(self, ctx: RunContext, onboarding: Onboarding, today: dt.date) -> Watch:
        tasks = list(onboarding.tasks.all())
        open_items = [t.item for t in tasks if t.done_at is None]
        watch = Watch(onboarding=onboarding, contact=onboarding.client.primary_contact, open_items=open_items)
        country = onboarding.client.company.country
        watch.idle_days = business_days_between(onboarding.last_progress_at.date(), today, country=country)
        nudges = Message.objects.filter(idempotency_key__startswith=nudge_prefix(onboarding))
        watch.nudges = nudges.count()
        last = nudges.aggregate(last=Max("created_at"))["last"]
        watch.last_nudge_on = last.date() if last else None
        watch.escalated = Escalation.objects.filter(dedupe_key=escalation_key(onboarding)).exists()
        by_item = {t.item: t for t in tasks}
        workspace = by_item.get(WORKSPACE)
        waiting_on_client = [i for i in CLIENT_ITEMS if i in open_items and by_item[i].external_id]
        if workspace is not None and workspace.external_id and waiting_on_client:
            try:
                remote = ctx.roles.project_tool.list_tasks(project_id=workspace.external_id)
            except ProviderError as exc:
                watch.note = f"workspace unreadable ({type(exc).__name__}): client items not checked"
                remote = []
            ours = {by_item[i].external_id: i for i in CLIENT_ITEMS if i in by_item and by_item[i].external_id}
            watch.foreign_tasks = sum(1 for t in remote if t.task_id not in ours)
            watch.progressed += [ours[t.task_id] for t in remote if t.done and ours.get(t.task_id) in open_items]
        if KICKOFF_HELD in open_items:
            held = Meeting.objects.filter(
                client=onboarding.client,
                kind=Meeting.Kind.KICKOFF,
                created_at__gte=onboarding.started_at,
                status__in=[Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP],
            ).exists()
            if held:
                watch.progressed.append(KICKOFF_HELD)
            elif self._kickoff_lost(onboarding) and may_email(watch.contact):
                assert watch.contact is not None
                watch.kickoff_slot = first_slot(ctx, onboarding.client, watch.contact)
        return watch

    @staticmethod
    def _kickoff_lost(onboarding: Onboarding) -> bool:
        """The kickoff will not happen: every one booked was cancelled (an unbooked one waits for
        the client's times; a missed one is no_show_recovery's). Bounded: after MAX_KICKOFFS the
        nudges and a human take over."""
        kickoffs = list(kickoffs_of(onboarding))
        if not kickoffs or len(kickoffs) >= MAX_KICKOFFS:
            return False
        return all(k.status == Meeting.Status.CANCELED for k in kickoffs)

    def act(self, ctx: RunContext, facts: Watchlist) -> Watched:
        out = Watched()
        for watch in facts.watches:
            onboarding = watch.onboarding
            step = next_step(watch, policy=facts.policy, today=facts.today, country=onboarding.client.company.country)
            if watch.note:
                out.notes.append(f"onboarding {onboarding.pk}: {watch.note}")
            if watch.foreign_tasks:
                out.notes.append(
                    f"onboarding {onboarding.pk}: {watch.foreign_tasks} workspace task(s) we did not create, left alone"
                )
            if watch.kickoff_slot is not None and watch.contact is not None:
                meeting = book_kickoff(
                    ctx, client=onboarding.client, onboarding=onboarding, contact=watch.contact,
                    agency=facts.agency, slot=watch.kickoff_slot,
                )  # fmt: skip
                out.kickoffs_rebooked[onboarding.pk] = meeting.pk
            if step == "progress":
                self._progress(ctx, watch, out)
            elif step == "nudge":
                self._nudge(ctx, facts, watch, out)
            elif step == "escalate":
                self._escalate(ctx, facts, watch, out)
            else:
                out.waiting += 1
        return out

    def _progress(self, ctx: RunContext, watch: Watch, out: Watched) -> None:
        onboarding = watch.onboarding
        for item in watch.progressed:
            tick(onboarding.pk, item)
            if item == ACCESSES:
                for access in ClientAccess.objects.filter(
                    client=onboarding.client, status=ClientAccess.Status.REQUESTED
                ):
                    grant_access(access=access, at=ctx.now())
        out.progressed[onboarding.pk] = list(watch.progressed)
        open_escalation = Escalation.objects.filter(
            dedupe_key=escalation_key(onboarding), status=Escalation.Status.OPEN
        ).first()
        if open_escalation is not None:  # it moved again: nobody needs to chase it any more
            ctx.update(
                open_escalation,
                action="escalation.resolved",
                status=Escalation.Status.RESOLVED,
                decided_at=ctx.now(),
                decision_note=f"progress resumed: {', '.join(watch.progressed)}",
            )

    def _nudge(self, ctx: RunContext, facts: Watchlist, watch: Watch, out: Watched) -> None:
        onboarding = watch.onboarding
        assert watch.contact is not None
        number = watch.nudges + 1
        message = queue_email(
            ctx,
            key=f"{nudge_prefix(onboarding)}{number}",
            lead=watch.contact,
            subject=f"{onboarding.client.company.name}: a few open items before we can start",
            body=_nudge_text(watch, facts.sender_name),
            intent="onboarding_nudge",
        )
        if message is None:
            self._escalate(ctx, facts, watch, out)
            return
        if onboarding.status != Onboarding.Status.STUCK:
            mark_onboarding_stuck(onboarding=onboarding)
        record_onboarding_nudge(onboarding=onboarding)
        out.nudged.append(onboarding.pk)

    def _escalate(self, ctx: RunContext, facts: Watchlist, watch: Watch, out: Watched) -> None:
        onboarding = watch.onboarding
        if onboarding.status != Onboarding.Status.STUCK:
            mark_onboarding_stuck(onboarding=onboarding)
        why = f"after {watch.nudges} nudge(s)" if watch.nudges else "and its contact cannot be emailed"
        ctx.escalate(
            Escalation.Kind.ERROR,
            f"onboarding of {onboarding.client} has not moved for {watch.idle_days} business days {why}; "
            f"open: {', '.join(watch.open_items)}",
            payload={"onboarding_id": onboarding.pk, "open_items": watch.open_items, "nudges": watch.nudges},
            dedupe_key=escalation_key(onboarding),
            group="manager",
            subject=onboarding,
        )
        out.escalated.append(onboarding.pk)


def _nudge_text(watch: Watch, sender_name: str) -> str:
    contact = watch.contact
    first = contact.first_name if contact is not None and contact.first_name else "there"
    asks = [ASKS[i] for i in watch.open_items if i in ASKS]
    lines = [f"Hi {first},", "", "A quick check-in on getting started. We are waiting on:"]
    lines += [f"- {ask}" for ask in asks] or ["- a short reply so we know how you would like to continue"]
    lines += ["", "If something is in the way, reply and tell us: we can help or adjust the plan.", "", sender_name]
    return "\n".join(lines)
