"""Small value types that cross the role boundary (what a role method takes and returns).

They are vendor-neutral: a provider maps its own response into these, so an agent never sees a
vendor's JSON. Frozen pydantic models, so a value can be logged, compared and put in a run's output.
Money is Decimal in major units (dollars, not cents) with an ISO currency; datetimes are aware.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Value(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- health -----------------------------------------------------------------------------------
class HealthResult(Value):
    ok: bool
    latency_ms: int = 0
    detail: str = ""


# --- lead source ------------------------------------------------------------------------------
class LeadSearch(Value):
    search_id: str
    status: Literal["running", "succeeded", "failed", "aborted", "unknown"] = "running"
    dataset_id: str = ""


class LeadItem(Value):
    company_name: str = ""
    website: str = ""
    domain: str = ""
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""
    linkedin_url: str = ""
    location: str = ""
    industry: str = ""
    raw: dict[str, Any] = Field(default_factory=dict)


# --- email finder / verifier ------------------------------------------------------------------
class EmailFindResult(Value):
    email: str
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    provider: str = ""


VerdictStatus = Literal["valid", "invalid", "risky", "catch_all", "disposable", "role", "unknown"]


class Verdict(Value):
    email: str
    status: VerdictStatus
    reason: str = ""
    provider: str = ""

    @property
    def deliverable(self) -> bool:
        return self.status == "valid"


# --- outreach ---------------------------------------------------------------------------------
MessageState = Literal["queued", "sent", "delivered", "opened", "replied", "bounced", "failed", "unknown"]


class SentEmail(Value):
    message_id: str
    thread_id: str = ""
    provider: str = ""
    status: MessageState = "sent"


class MessageStatus(Value):
    message_id: str
    status: MessageState
    detail: str = ""


# --- calendar ---------------------------------------------------------------------------------
class Slot(Value):
    start: dt.datetime
    end: dt.datetime


class Booking(Value):
    booking_id: str
    start: dt.datetime
    end: dt.datetime
    status: Literal["accepted", "pending", "cancelled", "rescheduled", "unknown"] = "accepted"
    meeting_url: str = ""
    attendee_email: str = ""


# --- recorder ---------------------------------------------------------------------------------
class Recording(Value):
    recording_id: str
    title: str = ""
    url: str = ""
    share_url: str = ""
    started_at: dt.datetime | None = None
    duration_seconds: int = 0


class TranscriptSegment(Value):
    speaker: str = ""
    text: str
    start_seconds: float = 0.0


class Transcript(Value):
    recording_id: str
    segments: tuple[TranscriptSegment, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(f"{s.speaker}: {s.text}" if s.speaker else s.text for s in self.segments)


# --- documents --------------------------------------------------------------------------------
# "failed": the vendor could not create the document (PandaDoc document.error); terminal.
DocumentState = Literal["draft", "sent", "viewed", "completed", "declined", "voided", "expired", "failed", "unknown"]


class Recipient(Value):
    email: str
    first_name: str = ""
    last_name: str = ""
    role: str = ""


class Document(Value):
    document_id: str
    name: str = ""
    status: DocumentState = "draft"
    url: str = ""


# --- payments / accounting --------------------------------------------------------------------
class Customer(Value):
    customer_id: str
    email: str = ""
    name: str = ""


class InvoiceLine(Value):
    description: str
    amount: Decimal = Field(description="unit price, major units")
    quantity: int = 1

    @property
    def total(self) -> Decimal:
        return self.amount * self.quantity


class Invoice(Value):
    invoice_id: str
    status: Literal["draft", "open", "paid", "void", "uncollectible", "unknown"] = "draft"
    amount_due: Decimal = Decimal("0")
    currency: str = "USD"
    number: str = ""
    hosted_url: str = ""


class Refund(Value):
    refund_id: str
    status: Literal["pending", "succeeded", "failed", "canceled", "unknown"] = "pending"
    amount: Decimal = Decimal("0")
    currency: str = "USD"


class InvoicePayment(Value):
    """One payment applied to an invoice (Stripe's InvoicePayment): the link from a PaymentIntent or
    a charge to the invoice it paid, which charges and PaymentIntents no longer carry themselves."""

    payment_id: str
    invoice_id: str
    status: Literal["open", "paid", "canceled", "unknown"] = "unknown"
    payment_intent_id: str = ""
    charge_id: str = ""
    amount_paid: Decimal = Decimal("0")
    amount_requested: Decimal = Decimal("0")
    currency: str = "USD"
    paid_at: dt.datetime | None = None


class AccountingInvoice(Value):
    invoice_id: str
    doc_number: str = ""
    customer_id: str = ""
    total: Decimal = Decimal("0")
    balance: Decimal = Decimal("0")


class AccountingPayment(Value):
    payment_id: str
    amount: Decimal = Decimal("0")


# --- project tool -----------------------------------------------------------------------------
class Project(Value):
    project_id: str
    name: str = ""
    url: str = ""


class Task(Value):
    task_id: str
    title: str
    status: str = ""
    done: bool = False
    due: dt.date | None = None
    url: str = ""


# --- web research -----------------------------------------------------------------------------
class Citation(Value):
    url: str
    title: str = ""


class ResearchAnswer(Value):
    query: str
    answer: str
    citations: tuple[Citation, ...] = ()


class ScrapedPage(Value):
    url: str
    title: str = ""
    markdown: str = ""
    status_code: int = 200


# --- vector store / memory --------------------------------------------------------------------
class VectorRecord(Value):
    id: str
    text: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    # None: the store embeds ``text`` itself (see integrations/local/embedding.py).
    values: tuple[float, ...] | None = None


class VectorMatch(Value):
    id: str
    score: float
    text: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryMessage(Value):
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    name: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryHit(Value):
    session_id: str
    content: str
    score: float = 0.0
    role: str = ""


# --- voice ------------------------------------------------------------------------------------
class AudioClip(Value):
    audio: bytes
    content_type: str = "audio/mpeg"
    characters: int = 0


class PhoneCall(Value):
    call_id: str
    status: Literal["registered", "queued", "ongoing", "ended", "failed", "unknown"] = "registered"
    to_number: str = ""
