"""After the commit: event type -> handler -> one agent run; failures, replays and the sweeper."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents import registry
from agents.models import AgentRun
from integrations.models import WebhookEvent
from integrations.webhooks import services
from integrations.webhooks.providers import stripe
from integrations.webhooks.tasks import process_webhook_event, process_webhook_events, replay_unprocessed
from tests.integrations.webhooks.conftest import fixture_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def receive(post_signed: Any) -> Any:
    """Post a fixture through the endpoint; returns its stored event."""

    def post(provider: str, name: str, **kwargs: Any) -> WebhookEvent:
        response = post_signed(provider, fixture_body(provider, name), **kwargs)
        assert response.status_code == 200, response.content
        return WebhookEvent.objects.get(provider=provider, event_id=response.json()["event_id"])

    return post


def process(event: WebhookEvent) -> WebhookEvent:
    services.process_event(event_pk=event.pk)
    event.refresh_from_db()
    return event


@pytest.mark.parametrize(
    ("provider", "fixture", "agent", "expected"),
    [
        (
            "stripe",
            "invoice_paid",
            "stripe_payment_processing",
            {"kind": "payment_succeeded", "amount": "4900.00", "currency": "USD", "invoice_id": "in_1PqInvoice"},
        ),
        (
            "stripe",
            "invoice_payment_paid",
            "stripe_payment_processing",
            {
                "kind": "payment_succeeded",
                "object_type": "invoice_payment",
                "amount": "4900.00",
                "invoice_id": "in_1PqInvoice",
                "payment_intent_id": "pi_1Pq",
                "occurred_at": "2026-03-02T08:59:55Z",
            },
        ),
        (
            "stripe",
            "invoice_payment_failed",
            "stripe_payment_processing",
            {
                "kind": "payment_failed",
                "amount": "1250.50",
                "currency": "EUR",
                "invoice_id": "in_1PqInvoice",
                "failure_message": "payment attempt 1 failed",
            },
        ),
        (
            "stripe",
            "charge_refunded",
            "stripe_payment_processing",
            {
                "kind": "refunded",
                "amount": "5000",
                "currency": "JPY",
                "charge_id": "ch_1Pq",
                "payment_intent_id": "pi_1Pq",
            },
        ),
        (
            "stripe",
            "dispute_created",
            "stripe_payment_processing",
            {
                "kind": "dispute_opened",
                "amount": "4900.00",
                "status": "needs_response",
                "failure_message": "fraudulent",
            },
        ),
        (
            "calcom",
            "booking_created",
            "meeting_lifecycle_orchestrator",
            {
                "kind": "created",
                "booking_uid": "bk_2x8HcE",
                "attendee_email": "mary.smith@brightdental.com",
                "start": "2026-03-05T15:00:00Z",
            },
        ),
        (
            "calcom",
            "booking_rescheduled",
            "meeting_lifecycle_orchestrator",
            {"kind": "rescheduled", "previous_booking_uid": "bk_2x8HcE", "reason": "Conflict"},
        ),
        (
            "calcom",
            "booking_cancelled",
            "meeting_lifecycle_orchestrator",
            {"kind": "cancelled", "reason": "No longer needed"},
        ),
        (
            "fathom",
            "meeting_content",
            "fathom_integration",
            {"recording_id": "123456789", "invitee_emails": ["mary.smith@brightdental.com"]},
        ),
        (
            "pandadoc",
            "document_completed",
            "contract_signature",
            {"state": "completed", "document_id": "msFYActMfJHqNTKH8YSvF1", "metadata": {"proposal": "17"}},
        ),
        (
            "pandadoc",
            "document_declined",
            "contract_signature",
            {"state": "declined", "decline_reason": "Budget was cut"},
        ),
        (
            "instantly",
            "reply_received",
            "email_response_handler",
            {"kind": "reply", "lead_email": "mary.smith@brightdental.com", "step": 1, "variant": 2},
        ),
        ("instantly", "email_bounced", "email_response_handler", {"kind": "bounce", "bounce_type": "hard"}),
        (
            "instantly",
            "lead_unsubscribed",
            "unsubscribe_compliance",
            {"kind": "unsubscribe", "lead_email": "joe@northlegal.com"},
        ),
        (
            "apify",
            "run_succeeded",
            "lead_list_builder",
            {"search_id": "HG7ML7M8z78YcAPEB", "status": "succeeded", "dataset_id": "wmKPijuyDnPZAPRMk"},
        ),
    ],
)
def test_each_event_starts_its_agent_with_a_normalised_input(
    provider: str, fixture: str, agent: str, expected: dict[str, Any], receive: Any
) -> None:
    event = process(receive(provider, fixture))
    assert event.status == "processed"
    assert event.attempts == 1
    run = AgentRun.objects.get()
    assert (run.agent_name, run.trigger) == (agent, "event")
    assert run.idempotency_key.startswith(f"webhook:{provider}:")
    assert {k: run.input[k] for k in expected} == expected
    assert run.input["webhook"] == {
        "event": event.pk,
        "provider": provider,
        "type": event.event_type,
        "id": event.event_id,
    }


def test_the_fathom_transcript_reaches_the_agent_line_by_line(receive: Any) -> None:
    process(receive("fathom", "meeting_content"))
    transcript = AgentRun.objects.get().input["transcript"]
    assert transcript[1] == {
        "speaker": "Mary Smith",
        "speaker_email": "mary.smith@brightdental.com",
        "text": "Happy to. Our budget is around $10,000.",
        "timestamp": "00:00:12",
    }


def test_processing_twice_starts_one_run(receive: Any) -> None:
    event = receive("stripe", "invoice_paid")
    process(event)
    process(event)
    assert AgentRun.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1


def test_the_task_processes_by_id(receive: Any) -> None:
    event = receive("apify", "run_succeeded")
    assert process_webhook_event.run(event.pk) == "processed"
    assert process_webhook_event.name == "integrations.webhooks.process_event"


def test_a_document_state_nobody_acts_on_is_ignored(receive: Any) -> None:
    assert process(receive("pandadoc", "document_draft")).status == "ignored"
    assert not AgentRun.objects.exists()


def test_a_failing_handler_marks_the_event_failed_and_rolls_back_its_writes(receive: Any, monkeypatch: Any) -> None:
    handle = stripe.PROVIDER.handlers["invoice.paid"]

    def start_then_fail(event: WebhookEvent, payload: Any) -> bool:
        handle(event, payload)  # the run is created...
        raise RuntimeError("the ledger is down")  # ...and must vanish with the failure

    monkeypatch.setitem(stripe.PROVIDER.handlers, "invoice.paid", start_then_fail)
    event = process(receive("stripe", "invoice_paid"))
    assert (event.status, event.attempts) == ("failed", 1)
    assert event.error == "RuntimeError: the ledger is down"
    assert not AgentRun.objects.exists()


def test_an_event_for_an_agent_not_registered_fails_visibly(receive: Any) -> None:
    # Unregistered for this test and put back (never by swapping the registry's dict: a fixture
    # that registered stand-ins would then unregister them from the copy and leak them).
    agent = registry.get("lead_list_builder")
    registry.unregister("lead_list_builder")
    try:
        event = process(receive("apify", "run_succeeded"))
    finally:
        registry.register(agent)
    assert event.status == "failed"
    assert "lead_list_builder" in event.error


def test_the_same_document_state_delivered_twice_starts_one_run(receive: Any) -> None:
    # PandaDoc resends with a new modification date: a new event id, the same state.
    first = process(receive("pandadoc", "document_completed"))
    resent = fixture_body("pandadoc", "document_completed").replace(b"12:00:00", b"12:05:00")
    from tests.integrations.webhooks.conftest import sign

    headers, query = sign("pandadoc", resent)
    from django.test import Client

    Client().post(
        "/api/webhooks/pandadoc", data=resent, content_type="application/json", headers=headers, query_params=query
    )
    second = process(WebhookEvent.objects.exclude(pk=first.pk).get())
    assert (first.status, second.status) == ("processed", "processed")
    assert AgentRun.objects.count() == 1


def test_an_operator_replay_goes_through_the_handler_again_without_a_second_run(
    receive: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = process(receive("calcom", "booking_created"))
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.replay_event(event=event) is True
    assert len(callbacks) == 1
    assert process(event).status == "processed"
    assert AgentRun.objects.count() == 1


def test_a_rejected_event_cannot_be_replayed(post_signed: Any) -> None:
    post_signed("stripe", fixture_body("stripe", "invoice_paid"), secret="wrong")
    event = WebhookEvent.objects.get()
    assert services.replay_event(event=event) is False
    event.refresh_from_db()
    assert event.status == "rejected"


class TestSweeper:
    def test_replays_events_stuck_in_received_and_failed_ones_with_tries_left(
        self, receive: Any, frozen_clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.WEBHOOK_REPLAY_AFTER_MINUTES = 10
        settings.WEBHOOK_MAX_ATTEMPTS = 3
        stuck = receive("stripe", "invoice_paid")
        failed = receive("apify", "run_succeeded")
        WebhookEvent.objects.filter(pk=failed.pk).update(status="failed", attempts=2)
        exhausted = receive("instantly", "reply_received")
        WebhookEvent.objects.filter(pk=exhausted.pk).update(status="failed", attempts=3)
        frozen_clock.tick(dt.timedelta(minutes=11))
        fresh = receive("calcom", "booking_created")
        with django_capture_on_commit_callbacks() as callbacks:
            assert replay_unprocessed.run() == 2
        assert len(callbacks) == 2
        statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
        assert statuses == {stuck.pk: "received", failed.pk: "received", exhausted.pk: "failed", fresh.pk: "received"}

    def test_a_replayed_event_is_then_processed_once(self, receive: Any, frozen_clock: Any) -> None:
        event = receive("stripe", "invoice_paid")
        frozen_clock.tick(dt.timedelta(hours=1))
        services.replay_unprocessed()
        process(event)
        services.replay_unprocessed()
        assert process(event).status == "processed"
        assert AgentRun.objects.count() == 1

    def test_leaves_recent_events_to_their_own_task(
        self, receive: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        receive("stripe", "invoice_paid")
        with django_capture_on_commit_callbacks() as callbacks:
            assert services.replay_unprocessed() == 0
        assert callbacks == []


def test_amounts_are_decimals_in_major_units(receive: Any) -> None:
    process(receive("stripe", "invoice_paid"))
    assert Decimal(AgentRun.objects.get().input["amount"]) == Decimal("4900.00")


class TestBatches:
    """integrations.webhooks.process_events: the publisher's one message for many events."""

    def test_each_event_of_a_batch_is_processed_once_even_if_listed_twice(self, receive: Any) -> None:
        first = receive("stripe", "invoice_paid")
        second = receive("apify", "run_succeeded")
        outcomes = process_webhook_events.run([first.pk, second.pk, first.pk])
        assert outcomes == {"processed": 3}  # the repeat finds its event already processed
        assert AgentRun.objects.count() == 2
        assert WebhookEvent.objects.get(pk=first.pk).attempts == 1
        assert process_webhook_events.name == "integrations.webhooks.process_events"

    def test_one_events_unexpected_error_does_not_strand_the_others(self, receive: Any, monkeypatch: Any) -> None:
        broken = receive("stripe", "invoice_paid")
        fine = receive("apify", "run_succeeded")
        real = services.process_event

        def process_event(*, event_pk: int) -> str:
            if event_pk == broken.pk:
                raise RuntimeError("the database went away")
            return real(event_pk=event_pk)

        monkeypatch.setattr(services, "process_event", process_event)
        assert services.process_events(event_pks=[broken.pk, fine.pk]) == {"error": 1, "processed": 1}
        assert WebhookEvent.objects.get(pk=broken.pk).status == "received"  # the sweeper's
        assert WebhookEvent.objects.get(pk=fine.pk).status == "processed"


def test_a_failing_handler_and_a_missing_agent_each_leave_one_errorlog(receive: Any, monkeypatch: Any) -> None:
    from learning.models import ErrorLog

    def fail(event: WebhookEvent, payload: Any) -> bool:
        raise RuntimeError("the ledger is down")

    monkeypatch.setitem(stripe.PROVIDER.handlers, "invoice.paid", fail)
    event = process(receive("stripe", "invoice_paid"))
    [logged] = ErrorLog.objects.all()
    assert logged.provider == "stripe" and logged.step == "webhook:invoice.paid"
    assert logged.context["webhook_event"] == event.pk and "ledger is down" in logged.message
    agent = registry.get("lead_list_builder")
    registry.unregister("lead_list_builder")
    try:
        process(receive("apify", "run_succeeded"))
    finally:
        registry.register(agent)
    assert ErrorLog.objects.filter(provider="apify", error_type__endswith="UnknownAgent").count() == 1
