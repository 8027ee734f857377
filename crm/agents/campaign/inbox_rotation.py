"""inbox_rotation: the sending mailboxes' daily capacity, and their warm-up ramp.

The sender takes each send from ``crm.services.mailboxes.DaySends`` (``reserve_send`` for one): the
least used unpaused mailbox of the campaign with room under today's cap, counted on a
per-mailbox-per-day row locked until the send's transaction commits (so concurrent workers never
both take the last slot). This agent runs once a day and moves each
warming mailbox one ramp day on (5 sends on day 1, 5 more each day, up to its cap; warmed up after
``RAMP_DAYS``), and reports what each mailbox may send today.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Mailbox, MailboxDay
from crm.services.mailboxes import advance_warmup, effective_cap

RAMP_DAYS = 14


class Mailboxes(Facts):
    mailboxes: list[Mailbox]


class Capacity(BaseModel):
    mailbox_id: int
    cap: int
    sent: int
    paused: bool
    warmup_stage: int


class Rotation(BaseModel):
    ramped: list[int] = Field(default_factory=list)
    capacity: list[Capacity] = Field(default_factory=list)


@register
class InboxRotation(Agent[Empty, Rotation]):
    name, category, trigger, queue = "inbox_rotation", "campaign", "schedule", "crm"
    Facts, Output = Mailboxes, Rotation
    schedule = "15 4 * * *"  # before the business day's first sends

    def load(self, ctx: RunContext, data: Empty) -> Mailboxes:
        return Mailboxes(mailboxes=list(Mailbox.objects.order_by("pk")))

    def act(self, ctx: RunContext, facts: Mailboxes) -> Rotation:
        out = Rotation()
        day = ctx.now().date()
        for mailbox in facts.mailboxes:
            stage = mailbox.warmup_stage
            if not mailbox.paused and advance_warmup(mailbox=mailbox, day=day, ramp_days=RAMP_DAYS):
                out.ramped.append(mailbox.pk)
                ctx.update(mailbox, action="mailbox.warmup", note={"from": stage, "to": mailbox.warmup_stage})
        # Today's counts in one read (a row per mailbox that sent or ramped today), after the ramp.
        sent = dict(MailboxDay.objects.filter(day=day).values_list("mailbox_id", "sent"))
        for mailbox in facts.mailboxes:
            out.capacity.append(
                Capacity(
                    mailbox_id=mailbox.pk,
                    cap=0 if mailbox.paused else effective_cap(mailbox),
                    sent=sent.get(mailbox.pk, 0),
                    paused=mailbox.paused,
                    warmup_stage=mailbox.warmup_stage,
                )
            )
        return out
