"""Given a lead in a sequence with one sent email: the start of every response test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm.models import Conversation, Enrollment, Lead, Message
from tests.factories.crm import ConversationFactory, EnrollmentFactory, LeadFactory, MessageFactory


@dataclass
class Thread:
    lead: Lead
    enrollment: Enrollment
    conversation: Conversation
    sent: Message


def contacted(email: str = "karen.lopez@brightline-dental.com", *, message_id: str = "<st-1@smarterteam.io>") -> Thread:
    lead = LeadFactory.create(email=email, status=Lead.Status.CONTACTED)
    enrollment = EnrollmentFactory.create(lead=lead)
    conversation = ConversationFactory.create(lead=lead)
    sent = MessageFactory.create(conversation=conversation, enrollment=enrollment, provider_message_id=message_id)
    return Thread(lead, enrollment, conversation, sent)


def reply(thread: Thread, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "reply",
        "lead_email": thread.lead.email,
        "message_id": extra.pop("message_id", "<r-1@mail.example.com>"),
        "in_reply_to": thread.sent.provider_message_id,
        "subject": "Re: Quick question",
        "text": text,
        **extra,
    }
