"""The normalised inputs webhook handlers give the agents they start: the contract between them.

An event agent declares one of these as its ``Input`` (or a subclass), so the vendor's JSON never
reaches it: a Stripe invoice, a payment intent and a sandbox payment all arrive as a
``PaymentEvent``. Money is Decimal in major units; times are aware datetimes (None if the vendor
sent none). ``webhook`` points back at the stored event (None when started by hand).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

_WHEN = TypeAdapter(dt.datetime)


def parse_when(value: Any) -> dt.datetime | None:
    """A vendor's timestamp (ISO string or unix seconds) as an aware datetime; None if unusable."""
    if value in (None, ""):
        return None
    try:
        when = _WHEN.validate_python(value)
    except ValidationError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class WebhookRef(BaseModel):
    event: int
    provider: str
    type: str
    id: str


class EventInput(BaseModel):
    webhook: WebhookRef | None = None


class PaymentEvent(EventInput):
    """-> stripe_payment_processing

    ``amount`` is what the object says of money: for an invoice, its amount paid so far (or, on a
    failure, due); for an invoice payment, that payment; for a refunded charge, the charge's refunds
    so far (cumulative); for a dispute, the amount disputed. ``payment_intent_id`` and ``charge_id``
    name the payment itself (the link to an invoice when the object does not carry ``invoice_id``);
    ``status`` is the object's own (a dispute's won or lost).
    """

    kind: Literal["payment_succeeded", "payment_failed", "refunded", "dispute_opened", "dispute_closed"]
    stripe_event_id: str = ""
    object_type: str = ""
    object_id: str = ""
    invoice_id: str = ""
    customer_id: str = ""
    payment_intent_id: str = ""
    charge_id: str = ""
    status: str = ""
    amount: Decimal | None = None
    currency: str = "USD"
    failure_message: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    occurred_at: dt.datetime | None = None
    livemode: bool = False


class BookingEvent(EventInput):
    """-> meeting_lifecycle_orchestrator"""

    kind: Literal["created", "rescheduled", "cancelled", "no_show", "ended"]
    booking_uid: str = ""
    booking_id: int | None = None
    previous_booking_uid: str = ""
    title: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    attendee_email: str = ""
    attendee_name: str = ""
    attendee_timezone: str = ""
    no_show_emails: list[str] = Field(default_factory=list)
    meeting_url: str = ""
    reason: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    occurred_at: dt.datetime | None = None


class TranscriptLine(BaseModel):
    speaker: str = ""
    speaker_email: str = ""
    text: str
    timestamp: str = ""


class RecordingEvent(EventInput):
    """-> fathom_integration"""

    recording_id: str
    title: str = ""
    url: str = ""
    share_url: str = ""
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    invitee_emails: list[str] = Field(default_factory=list)
    summary: str = ""
    action_items: list[Any] = Field(default_factory=list)
    transcript: list[TranscriptLine] = Field(default_factory=list)


class DocumentEvent(EventInput):
    """-> contract_signature"""

    document_id: str
    state: Literal["sent", "viewed", "completed", "declined", "voided", "expired"]
    name: str = ""
    recipient_emails: list[str] = Field(default_factory=list)
    decline_reason: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    occurred_at: dt.datetime | None = None


class EmailEvent(EventInput):
    """-> email_response_handler (reply, bounce) and unsubscribe_compliance (unsubscribe, complaint)"""

    kind: Literal["reply", "bounce", "unsubscribe", "complaint"]
    lead_email: str
    campaign_id: str = ""
    mailbox: str = ""
    message_id: str = ""
    thread_id: str = ""
    subject: str = ""
    text: str = ""
    bounce_type: str = ""
    step: int | None = None
    variant: int | None = None
    occurred_at: dt.datetime | None = None


class LeadSearchEvent(EventInput):
    """-> lead_list_builder (an Apify actor run finished)"""

    search_id: str
    status: Literal["succeeded", "failed", "aborted"]
    actor_id: str = ""
    dataset_id: str = ""
    occurred_at: dt.datetime | None = None
