"""A small agency day played against the sandbox through the roles, for determinism tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from integrations.http.errors import PermanentError
from integrations.models import SandboxEvent, SandboxRecord
from integrations.roles import get_role
from integrations.values import InvoiceLine, Recipient

# What a compliant cold email ends with: the sandbox filters and reports mail without it.
FOOTER = "Smarter Team, 100 Main Street, Austin TX 78701. Unsubscribe: https://agency.example/u/1"


def play(clock_handle: Any) -> dict[str, Any]:
    """Search, verify, email, book, propose, invoice; returns what the world answered and planned."""
    seen: dict[str, Any] = {}
    source = get_role("lead_source")
    search = source.run_search(query="Dental clinics", location="United States", max_items=25)
    items = source.fetch_items(search=search, limit=25)
    seen["items"] = [i.model_dump() for i in items]
    finder, verifier, outreach = get_role("email_finder"), get_role("email_verifier"), get_role("outreach")
    seen["emails"] = []
    morning = clock_handle.now
    clock_handle.set(morning.replace(hour=15))  # mid-morning in the US, where the clinics are
    for item in items:
        try:
            found = item.email or (
                finder.find_email(first_name=item.first_name, last_name=item.last_name, domain=item.domain) or None
            )
        except PermanentError:
            seen.setdefault("refused", []).append(item.domain)  # a webmail listing: nobody to write to
            continue
        email = found if isinstance(found, str) else (found.email if found else "")
        if not email:
            continue
        verdict = verifier.verify(email)
        sent = outreach.send_email(
            idempotency_key=f"send:{email}:1",
            from_mailbox="alex@agency.example",
            to=email,
            subject=f"Idea for {item.company_name}",
            body=f"Hi {item.first_name}, a quick idea for {item.company_name}.\n\n{FOOTER}",
            headers={"X-Campaign-Id": "cmp_1", "List-Unsubscribe": "<https://agency.example/u/1>"},
        )
        seen["emails"].append((email, verdict.status, sent.message_id))
    clock_handle.set(morning)
    slots = get_role("calendar").available_slots(
        start=clock_handle.now, end=clock_handle.now + dt.timedelta(days=5), timezone="America/Chicago"
    )
    booking = get_role("calendar").book(
        idempotency_key="book:1",
        start=slots[0].start,
        duration_minutes=30,
        attendee_email=items[0].email or "mary@example.com",
        attendee_name=f"{items[0].first_name} {items[0].last_name}",
        title="Discovery call",
    )
    seen["booking"] = booking.model_dump()
    documents = get_role("documents")
    document = documents.create_document(
        idempotency_key="doc:1",
        name="Proposal",
        recipients=[Recipient(email="buyer@example.com")],
        fields={"proposal": "1"},
    )
    seen["document"] = documents.send_document(document_id=document.document_id).model_dump()
    payments = get_role("payments")
    customer = payments.create_customer(idempotency_key="cus:1", email="buyer@example.com", name="Buyer")
    invoice = payments.create_invoice(
        idempotency_key="inv:1",
        customer_id=customer.customer_id,
        lines=[InvoiceLine(description="Deposit", amount=Decimal("2500.00"))],
        currency="USD",
    )
    seen["invoice"] = payments.finalize_invoice(idempotency_key="fin:1", invoice_id=invoice.invoice_id).model_dump()
    seen["planned"] = list(
        SandboxEvent.objects.order_by("due_at", "key").values_list(
            "key", "provider", "kind", "subject", "due_at", "payload"
        )
    )
    return seen


def forget_the_world() -> None:
    SandboxEvent.objects.all().delete()
    SandboxRecord.objects.all().delete()
