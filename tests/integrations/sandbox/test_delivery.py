"""The world reports through the real, signed webhook endpoint when events fall due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents.models import AgentRun
from integrations.http.errors import PermanentError
from integrations.models import SandboxEvent, WebhookEvent
from integrations.roles import get_role
from integrations.sandbox.delivery import deliver, deliver_due
from integrations.sandbox.tasks import deliver_due_events
from integrations.values import InvoiceLine, Recipient
from integrations.webhooks.services import process_event

pytestmark = pytest.mark.django_db


def book(frozen_clock: Any, key: str = "book:1", email: str = "Mary@Example.com") -> Any:
    start = frozen_clock.now + dt.timedelta(days=2)
    return get_role("calendar").book(
        idempotency_key=key, start=start, duration_minutes=30, attendee_email=email,
        attendee_name="Mary", title="Discovery call",
    )  # fmt: skip


def test_due_events_are_signed_posted_and_stored_as_verified_webhooks(
    frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    booking = book(frozen_clock)
    with django_capture_on_commit_callbacks() as callbacks:
        assert deliver_due() == 1  # BOOKING_CREATED is due now; the rest is in the future
    created = SandboxEvent.objects.get(kind="booking_created")
    assert (created.status, created.response_status) == ("delivered", 200)
    stored = WebhookEvent.objects.get()
    assert (stored.provider, stored.event_type, stored.status, stored.signature_ok) == (
        "calcom", "BOOKING_CREATED", "received", True,
    )  # fmt: skip
    assert booking.booking_id.encode() in bytes(stored.raw_body)
    assert len(callbacks) == 1  # the processing task, on commit


def test_later_events_wait_for_the_clock(frozen_clock: Any) -> None:
    book(frozen_clock)
    deliver_due()
    frozen_clock.tick(dt.timedelta(days=10))
    assert deliver_due_events.run() >= 1
    assert not SandboxEvent.objects.filter(status="pending").exists()
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}


def test_a_configured_real_secret_signs_the_sandbox_events(frozen_clock: Any, settings: Any) -> None:
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, "CALCOM_WEBHOOK_SECRET": "real-calcom-secret"}
    settings.SANDBOX_WEBHOOKS = False
    book(frozen_clock)
    deliver_due()
    assert WebhookEvent.objects.get().signature_ok


def test_an_unsigned_world_fails_its_events_instead_of_posting(frozen_clock: Any, settings: Any) -> None:
    settings.SANDBOX_WEBHOOKS = False  # and no real secret: nothing to sign with
    book(frozen_clock)
    deliver_due()
    event = SandboxEvent.objects.get(kind="booking_created")
    assert event.status == "failed"
    assert "no signing secret" in event.error
    assert not WebhookEvent.objects.exists()


def test_the_same_act_is_never_reported_twice(frozen_clock: Any) -> None:
    book(frozen_clock)
    book(frozen_clock)
    assert SandboxEvent.objects.filter(kind="booking_created").count() == 1


def test_an_agency_reschedule_cancels_the_old_meetings_future(frozen_clock: Any) -> None:
    booking = book(frozen_clock)
    planned_before = set(
        SandboxEvent.objects.filter(subject=booking.booking_id, status="pending").values_list("kind", flat=True)
    )
    moved = get_role("calendar").reschedule(booking_id=booking.booking_id, start=booking.start + dt.timedelta(days=1))
    assert moved.booking_id != booking.booking_id
    assert planned_before - {"booking_created"} <= set(
        SandboxEvent.objects.filter(subject=booking.booking_id, status="canceled").values_list("kind", flat=True)
    )
    assert SandboxEvent.objects.filter(subject=moved.booking_id, kind="booking_rescheduled").exists()


def test_a_held_meeting_yields_a_fathom_transcript(frozen_clock: Any) -> None:
    for n in range(12):
        book(frozen_clock, key=f"book:{n}", email=f"mary{n}@example.com")
    assert not SandboxEvent.objects.filter(kind="recording_ready").exists(), "the call has not happened yet"
    frozen_clock.tick(dt.timedelta(days=2))
    for moment in SandboxEvent.objects.filter(provider="world", due_at__lte=frozen_clock.now):
        deliver(moment)  # the calls start: who comes is decided now
    recording = SandboxEvent.objects.filter(kind="recording_ready").first()
    assert recording is not None, "most meetings are held"
    lines = recording.payload["transcript"]
    assert len({str(line["speaker"]) for line in lines}) == 2 and all(line["text"] for line in lines)
    frozen_clock.set(recording.due_at + dt.timedelta(minutes=1))
    transcript = get_role("recorder").get_transcript(recording.payload["recording_id"])
    assert len(transcript.segments) == len(lines)


def test_a_sent_proposal_is_viewed_then_decided_on_the_clock(frozen_clock: Any) -> None:
    documents = get_role("documents")
    states = set()
    for n in range(8):
        doc = documents.create_document(
            idempotency_key=f"doc:{n}", name="Proposal", recipients=[Recipient(email=f"b{n}@example.com")]
        )
        assert documents.send_document(document_id=doc.document_id).status == "sent"
    frozen_clock.tick(dt.timedelta(days=30))
    for event in SandboxEvent.objects.filter(provider="pandadoc"):
        states.add(documents.get_status(event.subject).status)
    assert {"completed", "declined"} & states


def test_invoices_get_paid_fail_and_can_be_refunded_once_paid(frozen_clock: Any) -> None:
    payments = get_role("payments")
    customer = payments.create_customer(idempotency_key="cus", email="buyer@example.com", name="Buyer")
    invoices = []
    for n in range(10):
        invoice = payments.create_invoice(
            idempotency_key=f"inv:{n}", customer_id=customer.customer_id,
            lines=[InvoiceLine(description="Deposit", amount=Decimal("1000.00"), quantity=2)], currency="usd",
        )  # fmt: skip
        assert invoice.amount_due == Decimal("2000.00")
        invoices.append(payments.finalize_invoice(idempotency_key=f"fin:{n}", invoice_id=invoice.invoice_id))
    with pytest.raises(PermanentError):
        payments.refund(idempotency_key="re:0", invoice_id=invoices[0].invoice_id)
    kinds = set(SandboxEvent.objects.filter(provider="stripe").values_list("kind", flat=True))
    assert {"invoice_paid", "invoice_failed"} <= kinds
    frozen_clock.tick(dt.timedelta(days=30))
    paid = [i for i in invoices if payments.get_invoice(i.invoice_id).status == "paid"]
    assert paid
    refund = payments.refund(idempotency_key="re:1", invoice_id=paid[0].invoice_id, amount=Decimal("500"))
    assert refund.amount == Decimal("500")
    assert SandboxEvent.objects.filter(kind="refunded", subject=paid[0].invoice_id).exists()


def test_every_world_event_is_accepted_by_the_real_endpoint(frozen_clock: Any) -> None:
    """Bounces, replies, bookings, transcripts, signatures, payments: all verify and identify."""
    from tests.integrations.sandbox.scenario import play

    play(frozen_clock)
    frozen_clock.tick(dt.timedelta(days=60))
    while deliver_due():
        pass
    failed = list(SandboxEvent.objects.exclude(status__in=["delivered", "canceled"]).values_list("kind", "error"))
    assert failed == []
    assert not WebhookEvent.objects.exclude(status__in=["received"]).exists()
    assert {"apify", "instantly", "calcom", "pandadoc", "stripe"} <= set(
        WebhookEvent.objects.values_list("provider", flat=True)
    )
    outcomes = {process_event(event_pk=pk) for pk in WebhookEvent.objects.values_list("pk", flat=True)}
    assert outcomes <= {"processed", "ignored"}, WebhookEvent.objects.filter(status="failed").values_list(
        "error", flat=True
    )
    assert AgentRun.objects.filter(trigger="event").exists()
