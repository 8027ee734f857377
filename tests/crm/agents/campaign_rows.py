"""Message rows in bulk for the campaign agents' tests: the agents count rows, so tests make rows."""

from __future__ import annotations

import datetime as dt
import itertools

from crm.models import Campaign, CampaignStep, Conversation, Enrollment, Mailbox, Message, Variant
from smarter_team import clock
from tests.factories.crm import ConversationFactory, EnrollmentFactory

_seq = itertools.count()


def sends(
    n: int,
    *,
    status: str = Message.Status.SENT,
    mailbox: Mailbox | None = None,
    enrollment: Enrollment | None = None,
    campaign: Campaign | None = None,
    step: CampaignStep | None = None,
    variant: Variant | None = None,
    at: dt.datetime | None = None,
    intent: str = "",
) -> list[Message]:
    """``n`` outbound messages in one conversation (one lead), ``status`` each, sent ``at``."""
    if enrollment is None and campaign is not None:
        enrollment = EnrollmentFactory.create(campaign=campaign)
    conversation: Conversation = (
        ConversationFactory.create(lead=enrollment.lead) if enrollment else ConversationFactory.create()
    )
    when = at or clock.now()
    rows = [
        Message(
            conversation=conversation,
            direction=Message.Direction.OUT,
            enrollment=enrollment,
            step=step,
            variant=variant,
            mailbox=mailbox,
            to_email=conversation.lead.email or "",
            status=status,
            intent=intent,
            sent_at=when,
            idempotency_key=f"test:send:{next(_seq)}",
        )
        for _ in range(n)
    ]
    return Message.objects.bulk_create(rows)
