"""sequence_scheduler: sends the campaign emails that are due, once each, and moves sequences on.

Every 5 minutes (business time) it reads the due enrollments with one indexed query
(``enrollment_due``: status, next_send_at) in a bounded batch, and for each, in the act's
transaction: checks the lead's send window (else reschedules), renders the step, refuses a message
with an uncited claim or an unresolved ``{{ variable }}`` (grounding: the enrollment stops with the
reason), takes a mailbox under its daily cap (inbox rotation), writes the queued Message and records
the send in the outbox under ``email:enrollment:{id}:step:{n}``, then schedules the next step or
completes the sequence. The send itself happens after commit; the suppression list is checked by the
outbox guard at that moment, and a blocked send fails its Message and stops the enrollment.

Human gate: until an operator approved ``campaign:{id}:first-batch``, a campaign sends nothing; the
beat run hands each such campaign to a run of its own that asks once, showing the first
``first_batch_size`` messages with their copy, and sends them when approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Min
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import AgentRun, Escalation
from agents.outbox import register_performer
from agents.registry import register
from crm.agents.campaign._compose import Rendered, grounding_problem, render, unresolved, variables_for, with_footer
from crm.agents.campaign._timing import add_business_days, in_window, lead_zone
from crm.agents.campaign.send_time import country_of, slot_for
from crm.models import AgencyProfile, Campaign, CampaignStep, Conversation, Enrollment, Lead, Mailbox, Message, Variant
from crm.selectors import sourced_findings_by_lead
from crm.services.agency import profile
from crm.services.campaigns import enrollment_set_status
from crm.services.findings import Finding
from crm.services.grounding_stats import verdict
from crm.services.leads import lead_set_status
from crm.services.mailboxes import DaySends
from crm.services.unsubscribe import headers_for, link_for
from smarter_team import clock

BATCH = 100
SEND_KIND = "email.send"


def message_key(enrollment_id: int, order: int) -> str:
    return f"email:enrollment:{enrollment_id}:step:{order}"


def first_batch_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:first-batch"


def first_batch_approved(campaign_id: int) -> bool:
    return Escalation.objects.filter(
        kind=Escalation.Kind.APPROVAL,
        dedupe_key=f"approval:{first_batch_key(campaign_id)}",
        status=Escalation.Status.APPROVED,
    ).exists()


# --- the send, performed after commit -------------------------------------------------------------


class OutreachEmail(BaseModel):
    to: str
    from_mailbox: str
    subject: str
    body: str
    headers: dict[str, str] = Field(default_factory=dict)
    message_key: str


@register_performer(SEND_KIND, payload=OutreachEmail, contacts=("to",))
class SendCampaignEmail:
    """One campaign email through the Outreach role (the sandbox; Instantly or Gmail in production),
    with the message's key as the provider's idempotency key: a retry after a lost answer is the
    same send."""

    def perform(self, payload: OutreachEmail, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        sent = get_role("outreach").send_email(
            idempotency_key=payload.message_key,
            from_mailbox=payload.from_mailbox,
            to=payload.to,
            subject=payload.subject,
            body=payload.body,
            headers=payload.headers,
        )
        return {"message_id": sent.message_id, "thread_id": sent.thread_id, "provider": sent.provider}

    def on_done(self, action: Any, result: dict[str, Any]) -> None:
        # The thread and its lead come with the message (their rows are not locked: only the message's).
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__lead")
            .filter(idempotency_key=action.payload["message_key"])
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return
        now = clock.now()
        message.provider_message_id = str(result.get("message_id", ""))[:255]
        message.sent_at = now
        message.headers = {**message.headers, "Message-ID": message.provider_message_id}
        message.transition_to(Message.Status.SENT, also=["provider_message_id", "sent_at", "headers"])
        Conversation.objects.filter(pk=message.conversation_id).update(last_message_at=now)
        lead = message.conversation.lead
        if lead.status == Lead.Status.QUALIFIED:
            lead_set_status(lead=lead, status=Lead.Status.CONTACTED, reason="first campaign email sent")

    def on_failed(self, action: Any, reason: str, *, blocked: bool) -> None:
        message = Message.objects.select_for_update().filter(idempotency_key=action.payload["message_key"]).first()
        if message is None or message.status != Message.Status.QUEUED:
            return
        message.failed_reason = (("blocked: " if blocked else "") + reason)[:255]
        message.transition_to(Message.Status.FAILED, also=["failed_reason"])
        enrollment = message.enrollment
        if enrollment is not None and enrollment.status not in Enrollment.STOPPED_STATES:
            why = f"send {'blocked' if blocked else 'failed'}: {reason}"
            enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.STOPPED, reason=why)


# --- the agent ----------------------------------------------------------------------------------


class SchedulerInput(BaseModel):
    campaign_id: int | None = None


class Due(Facts):
    campaign_id: int | None = None
    now: dt.datetime
    enrollments: list[Enrollment]
    findings: dict[int, list[Finding]]
    agency: AgencyProfile
    approved: dict[int, bool]
    asking: set[int] = Field(default_factory=set)
    sent_today: dict[int, int]


class Sent(BaseModel):
    sent: list[str] = Field(default_factory=list)
    rescheduled: int = 0
    refused: list[str] = Field(default_factory=list)
    completed: int = 0
    waiting_for_approval: list[int] = Field(default_factory=list)
    capped: int = 0
    waiting_for_personalisation: int = 0


def pick_variant(step: CampaignStep, enrollment: Enrollment) -> Variant | None:
    variants = list(step.variants.all())
    if not variants:
        return None
    winner = next((v for v in variants if v.is_winner), None)
    if winner is not None:
        return winner
    if enrollment.variant_label:
        same = next((v for v in variants if v.label == enrollment.variant_label), None)
        if same is not None:
            return same
    wheel = [v for v in variants for _ in range(max(v.weight, 1))]
    return wheel[enrollment.pk % len(wheel)]


def compose(enrollment: Enrollment, step: CampaignStep, variant: Variant | None, agency: AgencyProfile) -> Rendered:
    subject = variant.subject if variant else step.subject_template
    body = variant.body if variant else step.body_template
    return render(subject, body, variables_for(enrollment.lead, agency, enrollment.variables))


@register
class SequenceScheduler(Agent[SchedulerInput, Sent]):
    name, category, trigger, queue = "sequence_scheduler", "campaign", ("schedule", "handoff"), "crm"
    Input, Facts, Output = SchedulerInput, Due, Sent
    schedule = 300
    next = ("sequence_scheduler",)

    @classmethod
    def next_work_at(cls, now: dt.datetime) -> dt.datetime | None:
        # The next step that falls due (the index enrollment_due covers it).
        return (
            Enrollment.objects.filter(
                status=Enrollment.Status.ACTIVE, campaign__status=Campaign.Status.ACTIVE, next_send_at__gt=now
            )
            .aggregate(at=Min("next_send_at"))
            .get("at")
        )

    def load(self, ctx: RunContext, data: SchedulerInput) -> Due:
        now = ctx.now()
        due = Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE, next_send_at__lte=now, campaign__status=Campaign.Status.ACTIVE
        )
        if data.campaign_id is not None:
            due = due.filter(campaign_id=data.campaign_id)
        enrollments = list(due.select_related("lead__company", "campaign").order_by("next_send_at", "pk")[:BATCH])
        campaigns = {e.campaign_id for e in enrollments}
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        sent_today = {
            cid: Message.objects.filter(
                enrollment__campaign_id=cid, direction=Message.Direction.OUT, created_at__gte=day_start
            ).count()
            for cid in campaigns
        }
        agency = profile()
        # A first batch of zero (the autopilot policy) means no campaign waits for an approval.
        gate = agency.policy().first_batch_size > 0
        approved = {cid: not gate or first_batch_approved(cid) for cid in campaigns}
        # A campaign whose own run already waits for the approval needs no second one.
        asking = {
            cid
            for cid, ok in approved.items()
            if not ok
            and AgentRun.objects.filter(
                agent_name=self.name, status=AgentRun.Status.ESCALATED, input__campaign_id=cid
            ).exists()
        }
        found = sourced_findings_by_lead([e.lead for e in enrollments])
        return Due(
            campaign_id=data.campaign_id,
            asking=asking,
            now=now,
            enrollments=enrollments,
            findings={e.pk: found[e.lead_id] for e in enrollments},
            agency=agency,
            approved=approved,
            sent_today=sent_today,
        )

    def act(self, ctx: RunContext, facts: Due) -> Sent:
        out = Sent()
        gated = sorted(cid for cid, ok in facts.approved.items() if not ok)
        for cid in gated:
            out.waiting_for_approval.append(cid)
            if facts.campaign_id is None:
                if cid not in facts.asking:
                    ctx.handoff("sequence_scheduler", {"campaign_id": cid})
            else:
                ctx.require_approval(
                    first_batch_key(cid),
                    "a new campaign's first emails wait for one approval of their copy",
                    self._first_batch(facts, cid),
                )
        sent_today = dict(facts.sent_today)
        # Each campaign's mailboxes, read and locked for today once in this transaction (DaySends),
        # and its steps with their variants, read once: a batch sends many emails of few campaigns.
        self._senders: dict[int, DaySends] = {}
        self._steps: dict[int, list[CampaignStep]] = {}
        for enrollment in facts.enrollments:
            campaign = enrollment.campaign
            if campaign.pk in gated:
                continue
            if sent_today.get(campaign.pk, 0) >= campaign.daily_limit:
                out.capped += 1
                continue
            result = self._one(ctx, facts, enrollment, out)
            if result == "sent":
                sent_today[campaign.pk] = sent_today.get(campaign.pk, 0) + 1
        return out

    def _first_batch(self, facts: Due, campaign_id: int) -> dict[str, Any]:
        size = facts.agency.policy().first_batch_size
        shown = []
        for enrollment in [e for e in facts.enrollments if e.campaign_id == campaign_id][:size]:
            step = enrollment.campaign.steps.filter(order=enrollment.current_step).first()
            if step is None:
                continue
            rendered = compose(enrollment, step, pick_variant(step, enrollment), facts.agency)
            shown.append(
                {
                    "enrollment_id": enrollment.pk,
                    "to": enrollment.lead.email,
                    "subject": rendered.subject,
                    "body": rendered.body,
                }
            )
        return {"campaign_id": campaign_id, "first_batch_size": size, "messages": shown}

    def _one(self, ctx: RunContext, facts: Due, loaded: Enrollment, out: Sent) -> str:
        now, agency = facts.now, facts.agency
        lead, campaign = loaded.lead, loaded.campaign
        enrollment = ctx.lock(loaded)
        enrollment.lead, enrollment.campaign = lead, campaign
        if (
            enrollment.status != Enrollment.Status.ACTIVE
            or enrollment.next_send_at is None
            or enrollment.next_send_at > now
        ):
            return "moved"  # another worker or a reply got there first
        zone = lead_zone(lead, campaign)
        if not in_window(now, campaign=campaign, zone=zone, country=country_of(enrollment)):
            ctx.update(enrollment, action="enrollment.rescheduled", next_send_at=slot_for(enrollment, now))
            out.rescheduled += 1
            return "rescheduled"
        steps = self._steps.get(campaign.pk)
        if steps is None:
            steps = self._steps[campaign.pk] = list(campaign.steps.order_by("order").prefetch_related("variants"))
        step = next((s for s in steps if s.order == enrollment.current_step), None)
        if step is None:
            enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.COMPLETED, reason="sequence finished")
            out.completed += 1
            return "completed"
        key = message_key(enrollment.pk, step.order)
        variant = None
        if not Message.objects.filter(idempotency_key=key).exists():
            variant = pick_variant(step, enrollment)
            template = f"{variant.subject}{variant.body}" if variant else f"{step.subject_template}{step.body_template}"
            if "first_line" in unresolved(template) and "first_line" not in enrollment.variables:
                out.waiting_for_personalisation += 1
                return "waiting"  # personalization has not written its line yet: next tick
            rendered = compose(enrollment, step, variant, agency)
            problem = grounding_problem(enrollment.variables, facts.findings.get(enrollment.pk, []))
            if rendered.unresolved:
                problem = f"unresolved variables {', '.join(rendered.unresolved)}"
            if problem:
                why = f"not sent: {problem}"
                enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.STOPPED, reason=why)
                ctx.log.warning("enrollment %s %s", enrollment.pk, why)
                out.refused.append(f"{enrollment.pk}: {problem}")
                return "refused"
            senders = self._senders.get(campaign.pk)
            if senders is None:
                mailboxes = list(campaign.mailboxes.all()) or list(Mailbox.objects.order_by("pk"))
                senders = self._senders[campaign.pk] = DaySends(mailboxes, now.date())
            mailbox = senders.reserve()
            if mailbox is None:
                out.capped += 1
                return "capped"
            self._send(ctx, enrollment, step, variant, mailbox, rendered, agency)
            out.sent.append(key)
        self._advance(ctx, enrollment, step, steps, now, variant=variant)
        return "sent"

    def _send(
        self,
        ctx: RunContext,
        enrollment: Enrollment,
        step: CampaignStep,
        variant: Variant | None,
        mailbox: Mailbox,
        rendered: Rendered,
        agency: AgencyProfile,
    ) -> None:
        lead = enrollment.lead
        key = message_key(enrollment.pk, step.order)
        conversation = Conversation.objects.filter(lead=lead, channel=Conversation.Channel.EMAIL).order_by("pk").first()
        if conversation is None:
            conversation = Conversation.objects.create(lead=lead, channel=Conversation.Channel.EMAIL)
        headers = {**headers_for(lead), "X-Campaign-Id": str(enrollment.campaign_id)}
        body = with_footer(rendered.body, agency, link_for(lead))
        assert lead.email  # enroll() refuses leads without one
        Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUT,
            enrollment=enrollment,
            step=step,
            variant=variant,
            mailbox=mailbox,
            from_email=mailbox.email,
            to_email=lead.email,
            subject=rendered.subject,
            body=body,
            headers=headers,
            status=Message.Status.QUEUED,
            idempotency_key=key,
            # _one ran the grounding check on these variables just now: what leaves is what counts.
            first_line_cited=verdict(
                copy=variant.body if variant is not None else step.body_template,
                variables=enrollment.variables,
                body=body,
            ),
        )
        ctx.act(
            "email.send",
            key,
            OutreachEmail(
                to=lead.email,
                from_mailbox=mailbox.email,
                subject=rendered.subject,
                body=body,
                headers=headers,
                message_key=key,
            ),
        )

    def _advance(
        self,
        ctx: RunContext,
        enrollment: Enrollment,
        step: CampaignStep,
        steps: list[CampaignStep],
        now: dt.datetime,
        *,
        variant: Variant | None = None,
    ) -> None:
        """The enrollment on to its next step (or finished), with the variant just sent: one write and
        one audit entry per send (ctx.update leaves a label that did not change out)."""
        label: dict[str, Any] = {"variant_label": variant.label} if variant is not None else {}
        later = [s for s in steps if s.order > step.order]
        if not later:
            if label:
                ctx.update(enrollment, action="enrollment.variant", **label)
            enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.COMPLETED, reason="sequence finished")
            return
        following = later[0]
        zone = lead_zone(enrollment.lead, enrollment.campaign)
        weekdays = tuple(enrollment.campaign.send_weekdays or (1, 2, 3, 4, 5))
        after = add_business_days(
            now, max(following.delay_business_days, 1), zone=zone, weekdays=weekdays, country=country_of(enrollment)
        )
        ctx.update(
            enrollment,
            action="enrollment.advanced",
            current_step=following.order,
            next_send_at=slot_for(enrollment, after, step=following.order),
            **label,
        )
