"""The roles agents depend on, never the vendors behind them.

An agent asks ``get_role("outreach")`` and gets whichever provider settings choose (see
``integrations.registry.choose_provider``): ``PROVIDER_OVERRIDES[role]`` when set, else the first
real provider of the role whose keys are configured, else the ``sandbox`` world (or the database
backed ``local`` store for vector_store / memory).

Every method is keyword-only where it takes more than one argument, so a call site reads like a
sentence and a new optional argument never shifts positions. Outbound acts (send, book, invoice,
refund, call) take an ``idempotency_key``: the outbox's key, passed on to the vendor wherever the
vendor supports one, so a retried act never happens twice.

Errors: every method raises ``integrations.http.errors.ProviderError`` subclasses only
(TransientError, PermanentError, AuthError, NotFoundError, RateLimitedError, InvalidResponseError).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, Protocol, overload, runtime_checkable

from integrations.values import (
    AccountingInvoice,
    AccountingPayment,
    AudioClip,
    Booking,
    Citation,
    Customer,
    Document,
    EmailFindResult,
    HealthResult,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    LeadItem,
    LeadSearch,
    MemoryHit,
    MemoryMessage,
    MessageStatus,
    PhoneCall,
    Project,
    Recipient,
    Recording,
    Refund,
    ResearchAnswer,
    ScrapedPage,
    SentEmail,
    Slot,
    Task,
    Transcript,
    TranscriptSegment,
    VectorMatch,
    VectorRecord,
    Verdict,
    VerdictStatus,
)

__all__ = [
    "ROLE_NAMES",
    "Accounting",
    "AccountingInvoice",
    "AccountingPayment",
    "AudioClip",
    "Booking",
    "Calendar",
    "Citation",
    "Customer",
    "Document",
    "Documents",
    "EmailFindResult",
    "EmailFinder",
    "EmailVerifier",
    "HealthResult",
    "Invoice",
    "InvoiceLine",
    "LeadItem",
    "LeadSearch",
    "LeadSource",
    "Memory",
    "MemoryHit",
    "MemoryMessage",
    "MessageStatus",
    "Outreach",
    "Payments",
    "PhoneCall",
    "Project",
    "ProjectTool",
    "Provider",
    "Recipient",
    "Recorder",
    "Recording",
    "Refund",
    "ResearchAnswer",
    "ScrapedPage",
    "SentEmail",
    "Slot",
    "Task",
    "Transcript",
    "TranscriptSegment",
    "VectorMatch",
    "VectorRecord",
    "VectorStore",
    "Verdict",
    "VerdictStatus",
    "Voice",
    "WebResearch",
    "get_role",
]


@runtime_checkable
class Provider(Protocol):
    """What every provider of every role has (sandbox and local included)."""

    name: str

    def health_check(self) -> HealthResult: ...


@runtime_checkable
class LeadSource(Provider, Protocol):
    def run_search(self, *, query: str, location: str = "", max_items: int = 100) -> LeadSearch:
        """Start a search (e.g. an Apify actor run); results come later through fetch_items."""
        ...

    def get_search(self, search_id: str) -> LeadSearch: ...

    def fetch_items(self, *, search: LeadSearch, offset: int = 0, limit: int = 100) -> list[LeadItem]: ...


@runtime_checkable
class EmailFinder(Provider, Protocol):
    def find_email(self, *, first_name: str, last_name: str, domain: str) -> EmailFindResult | None:
        """None when the vendor found nothing (not an error)."""
        ...


@runtime_checkable
class EmailVerifier(Provider, Protocol):
    def verify(self, email: str) -> Verdict: ...


@runtime_checkable
class Outreach(Provider, Protocol):
    def send_email(
        self,
        *,
        idempotency_key: str,
        from_mailbox: str,
        to: str,
        subject: str,
        body: str,
        headers: Mapping[str, str],
        thread_id: str | None = None,
    ) -> SentEmail:
        """Send one email (a reply when ``thread_id`` is given). ``body`` is plain text."""
        ...

    def get_message_status(self, message_id: str) -> MessageStatus: ...


@runtime_checkable
class Calendar(Provider, Protocol):
    def available_slots(
        self, *, start: dt.datetime, end: dt.datetime, duration_minutes: int = 30, timezone: str = "UTC"
    ) -> list[Slot]: ...

    def book(
        self,
        *,
        idempotency_key: str,
        start: dt.datetime,
        duration_minutes: int,
        attendee_email: str,
        attendee_name: str,
        title: str,
        timezone: str = "UTC",
        notes: str = "",
    ) -> Booking: ...

    def reschedule(self, *, booking_id: str, start: dt.datetime, reason: str = "") -> Booking: ...

    def cancel(self, *, booking_id: str, reason: str = "") -> None: ...


@runtime_checkable
class Recorder(Provider, Protocol):
    def list_recordings(self, *, since: dt.datetime | None = None) -> list[Recording]: ...

    def get_recording(self, recording_id: str) -> Recording: ...

    def get_transcript(self, recording_id: str) -> Transcript: ...


@runtime_checkable
class Documents(Provider, Protocol):
    def create_document(
        self,
        *,
        idempotency_key: str,
        name: str,
        recipients: Sequence[Recipient],
        template_id: str = "",
        fields: Mapping[str, str] | None = None,
        content: str = "",
    ) -> Document:
        """From a template (``template_id`` + ``fields``) or from plain ``content``."""
        ...

    def send_document(self, *, document_id: str, subject: str = "", message: str = "") -> Document: ...

    def get_status(self, document_id: str) -> Document: ...


@runtime_checkable
class Payments(Provider, Protocol):
    def create_customer(
        self, *, idempotency_key: str, email: str, name: str, metadata: Mapping[str, str] | None = None
    ) -> Customer: ...

    def create_invoice(
        self,
        *,
        idempotency_key: str,
        customer_id: str,
        lines: Sequence[InvoiceLine],
        currency: str,
        due_days: int = 14,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> Invoice:
        """A draft invoice with its lines; ``finalize_invoice`` makes it payable."""
        ...

    def finalize_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice: ...

    def get_invoice(self, invoice_id: str) -> Invoice: ...

    def void_invoice(self, *, idempotency_key: str, invoice_id: str) -> Invoice: ...

    def refund(self, *, idempotency_key: str, invoice_id: str, amount: Decimal | None = None) -> Refund:
        """Refund the payment of a paid invoice; ``amount`` None = in full."""
        ...

    def list_invoice_payments(self, *, invoice_id: str = "", payment_intent_id: str = "") -> list[InvoicePayment]:
        """The payments applied to an invoice, or the invoice(s) a PaymentIntent paid (one of the two)."""
        ...


@runtime_checkable
class Accounting(Provider, Protocol):
    def upsert_invoice(
        self,
        *,
        idempotency_key: str,
        external_ref: str,
        customer_name: str,
        customer_email: str,
        lines: Sequence[InvoiceLine],
        currency: str,
        due_date: dt.date,
    ) -> AccountingInvoice:
        """Create the invoice in the books, or return it when ``external_ref`` is already there."""
        ...

    def record_payment(
        self, *, idempotency_key: str, invoice_id: str, amount: Decimal, paid_on: dt.date, reference: str = ""
    ) -> AccountingPayment: ...


@runtime_checkable
class ProjectTool(Provider, Protocol):
    def create_project(self, *, idempotency_key: str, name: str, description: str = "") -> Project: ...

    def create_task(
        self,
        *,
        idempotency_key: str,
        project_id: str,
        title: str,
        description: str = "",
        due: dt.date | None = None,
    ) -> Task: ...

    def list_tasks(self, *, project_id: str, include_done: bool = True) -> list[Task]: ...


@runtime_checkable
class WebResearch(Provider, Protocol):
    def search(self, *, query: str, max_results: int = 5) -> ResearchAnswer: ...

    def scrape(self, *, url: str) -> ScrapedPage: ...


@runtime_checkable
class VectorStore(Provider, Protocol):
    def upsert(self, *, namespace: str, records: Sequence[VectorRecord]) -> int:
        """Returns how many records were written."""
        ...

    def query(
        self,
        *,
        namespace: str,
        text: str = "",
        vector: Sequence[float] | None = None,
        top_k: int = 5,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]: ...

    def delete(self, *, namespace: str, ids: Sequence[str]) -> None: ...


@runtime_checkable
class Memory(Provider, Protocol):
    def add(self, *, session_id: str, messages: Sequence[MemoryMessage]) -> None: ...

    def search(self, *, query: str, session_id: str | None = None, limit: int = 5) -> list[MemoryHit]: ...


@runtime_checkable
class Voice(Provider, Protocol):
    def synthesize(self, *, text: str, voice_id: str = "") -> AudioClip: ...

    def start_call(
        self,
        *,
        idempotency_key: str,
        to_number: str,
        from_number: str = "",
        agent_id: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> PhoneCall: ...


RoleName = Literal[
    "lead_source",
    "email_finder",
    "email_verifier",
    "outreach",
    "calendar",
    "recorder",
    "documents",
    "payments",
    "accounting",
    "project_tool",
    "web_research",
    "vector_store",
    "memory",
    "voice",
]

ROLE_PROTOCOLS: dict[str, Any] = {
    "lead_source": LeadSource,
    "email_finder": EmailFinder,
    "email_verifier": EmailVerifier,
    "outreach": Outreach,
    "calendar": Calendar,
    "recorder": Recorder,
    "documents": Documents,
    "payments": Payments,
    "accounting": Accounting,
    "project_tool": ProjectTool,
    "web_research": WebResearch,
    "vector_store": VectorStore,
    "memory": Memory,
    "voice": Voice,
}
ROLE_NAMES: tuple[str, ...] = tuple(ROLE_PROTOCOLS)


# fmt: off
@overload
def get_role(role_name: Literal["lead_source"]) -> LeadSource: ...
@overload
def get_role(role_name: Literal["email_finder"]) -> EmailFinder: ...
@overload
def get_role(role_name: Literal["email_verifier"]) -> EmailVerifier: ...
@overload
def get_role(role_name: Literal["outreach"]) -> Outreach: ...
@overload
def get_role(role_name: Literal["calendar"]) -> Calendar: ...
@overload
def get_role(role_name: Literal["recorder"]) -> Recorder: ...
@overload
def get_role(role_name: Literal["documents"]) -> Documents: ...
@overload
def get_role(role_name: Literal["payments"]) -> Payments: ...
@overload
def get_role(role_name: Literal["accounting"]) -> Accounting: ...
@overload
def get_role(role_name: Literal["project_tool"]) -> ProjectTool: ...
@overload
def get_role(role_name: Literal["web_research"]) -> WebResearch: ...
@overload
def get_role(role_name: Literal["vector_store"]) -> VectorStore: ...
@overload
def get_role(role_name: Literal["memory"]) -> Memory: ...
@overload
def get_role(role_name: Literal["voice"]) -> Voice: ...
@overload
def get_role(role_name: str) -> Any: ...
# fmt: on
def get_role(role_name: str) -> Any:
    """The configured implementation of a role, ready to call (a fresh, cheap instance)."""
    from integrations.registry import provider_class

    return provider_class(role_name)()
