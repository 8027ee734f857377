"""One email to someone we already deal with (a reply, a reminder, a recap, an invoice notice).

Every such email is a ``Message`` row in the person's thread plus an ``email.reply`` outbox intent,
both written in the calling agent's act transaction under a key from domain identity
(``meeting:12:reminder:24h``): a second run for the same business action finds the first message
and records nothing. The outbox checks the suppression list again before the provider is called,
and writes the outcome back onto the Message. Cold outreach does not come here: it needs the
unsubscribe footer and headers that the campaign's send path adds (crm/agents/campaign).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from pydantic import BaseModel

from agents.models import Action
from agents.outbox import register_performer
from crm.models import Conversation, Lead, Message
from crm.services.agency import profile
from smarter_team import clock

if TYPE_CHECKING:
    from agents.context import RunContext

SEND_KIND = "email.reply"


class ReplyEmail(BaseModel):
    message_pk: int
    to: str
    from_mailbox: str
    subject: str
    body: str
    in_reply_to: str = ""
    thread_id: str = ""


@register_performer(SEND_KIND, payload=ReplyEmail, contacts=("to",))
class SendReply:
    """One email in an existing relationship, through the Outreach role."""

    def perform(self, payload: ReplyEmail, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        headers = {"In-Reply-To": payload.in_reply_to, "References": payload.in_reply_to} if payload.in_reply_to else {}
        sent = get_role("outreach").send_email(
            idempotency_key=key,
            from_mailbox=payload.from_mailbox,
            to=payload.to,
            subject=payload.subject,
            body=payload.body,
            headers=headers,
            thread_id=payload.thread_id or payload.in_reply_to or None,
        )
        return {"message_id": sent.message_id, "thread_id": sent.thread_id}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        message = Message.objects.filter(pk=action.payload.get("message_pk"), status=Message.Status.QUEUED).first()
        if message is None:
            return
        message.sent_at = clock.now()
        message.provider_message_id = str(result.get("message_id", ""))[:255]
        message.transition_to(Message.Status.SENT, also=["sent_at", "provider_message_id"])

    def on_failed(self, action: Action, reason: str, *, blocked: bool) -> None:
        message = Message.objects.filter(pk=action.payload.get("message_pk"), status=Message.Status.QUEUED).first()
        if message is not None:
            message.failed_reason = reason[:255]
            message.transition_to(Message.Status.FAILED, also=["failed_reason"])


def thread_of(lead: Lead) -> Conversation:
    """The lead's latest email conversation, or a new one: our emails to them continue one thread."""
    conversation = (
        Conversation.objects.filter(lead=lead, channel=Conversation.Channel.EMAIL)
        .order_by("-last_message_at", "-id")
        .first()
    )
    return conversation or Conversation.objects.create(lead=lead, channel=Conversation.Channel.EMAIL)


def _sender(conversation: Conversation) -> str:
    """The address the person knows us by: the mailbox of our last message to them, else the agency's."""
    last = (
        conversation.messages.filter(direction=Message.Direction.OUT)
        .exclude(from_email="")
        .order_by("-created_at")
        .values_list("from_email", flat=True)
        .first()
    )
    return last or profile().sender_email


def may_email(lead: Lead | None) -> TypeGuard[Lead]:
    """Whether we may write to this person at all: they have an address and have not asked us to
    stop (``do_not_contact``). The suppression list is checked again before every send."""
    return lead is not None and bool(lead.email) and not lead.do_not_contact


def queue_email(
    ctx: RunContext,
    *,
    key: str,
    lead: Lead,
    subject: str,
    body: str,
    intent: str = "",
    in_reply_to: str = "",
) -> Message | None:
    """In ``act``: the queued Message and its send intent under ``key`` (at most once per key).

    Returns the message (the earlier one when ``key`` was used before), or None when the person may
    not be contacted (``do_not_contact`` or no address): callers record why nothing was sent.
    """
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if not may_email(lead):
        return None
    assert lead.email  # may_email checked it
    conversation = thread_of(lead)
    sender = _sender(conversation)
    now = ctx.now()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        to_email=lead.email,
        from_email=sender,
        subject=subject[:998],
        body=body,
        headers={"In-Reply-To": in_reply_to} if in_reply_to else {},
        intent=intent,
        status=Message.Status.QUEUED,
        idempotency_key=key,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    ctx.act(
        SEND_KIND,
        key,
        ReplyEmail(
            message_pk=message.pk,
            to=lead.email,
            from_mailbox=sender,
            subject=subject,
            body=body,
            in_reply_to=in_reply_to,
        ),
    )
    return message
