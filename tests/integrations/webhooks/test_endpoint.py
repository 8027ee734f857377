"""POST /api/webhooks/{provider}: verify on the raw bytes, store once, answer at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, connections

from integrations.models import WebhookEvent
from integrations.webhooks import publisher, services
from tests.integrations.webhooks.conftest import SECRETS, fixture_body, sign

pytestmark = pytest.mark.django_db

# One representative, handled event per provider.
GOOD = {
    "stripe": "invoice_paid",
    "fathom": "meeting_content",
    "calcom": "booking_created",
    "pandadoc": "document_completed",
    "instantly": "reply_received",
    "apify": "run_succeeded",
}
PROVIDERS = sorted(GOOD)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_event_is_stored_once_and_enqueued_on_commit(
    provider: str, post_signed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = fixture_body(provider, GOOD[provider])
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(provider, body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    event = WebhookEvent.objects.get()
    assert (event.provider, event.status, event.signature_ok) == (provider, "received", True)
    assert bytes(event.raw_body) == body
    assert event.event_id == response.json()["event_id"]
    assert len(callbacks) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_wrong_secret_is_refused_stored_as_rejected_and_never_enqueued(
    provider: str, post_signed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(provider, fixture_body(provider, GOOD[provider]), secret="not-the-secret")
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    assert (event.status, event.signature_ok) == ("rejected", False)
    assert event.event_id.startswith("rejected:")
    assert callbacks == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_tampered_body_is_refused(provider: str, post_webhook: Any) -> None:
    body = fixture_body(provider, GOOD[provider])
    headers, query = sign(provider, body)
    tampered = body.rstrip() + b" "  # still valid JSON, no longer the signed bytes
    response = post_webhook(provider, tampered, headers=headers, query=query)
    # A shared secret signs nothing: for those providers the body cannot be checked.
    expected = 200 if provider in ("instantly", "apify") else 401
    assert response.status_code == expected


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_request_without_its_signature_is_refused(provider: str, post_webhook: Any) -> None:
    response = post_webhook(provider, fixture_body(provider, GOOD[provider]))
    assert response.status_code == 401
    assert "missing" in response.json()["detail"]


@pytest.mark.parametrize("provider", ["stripe", "fathom"])
def test_a_stale_timestamp_is_refused(provider: str, post_signed: Any, frozen_clock: Any) -> None:
    response = post_signed(
        provider, fixture_body(provider, GOOD[provider]), at=frozen_clock.now - dt.timedelta(minutes=6)
    )
    assert response.status_code == 401
    assert "tolerance" in response.json()["detail"]
    assert WebhookEvent.objects.get().status == "rejected"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rotated_secret_is_accepted_alongside_the_new_one(provider: str, post_signed: Any, settings: Any) -> None:
    from tests.integrations.webhooks.conftest import KEY_NAMES

    new = "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=" if provider == "fathom" else "brand-new-secret"
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, KEY_NAMES[provider]: f"{new}, {SECRETS[provider]}"}
    assert post_signed(provider, fixture_body(provider, GOOD[provider])).status_code == 200


@pytest.mark.postgresql
@pytest.mark.parametrize("insert", ["on_conflict_returning", "orm_fallback"])
def test_a_duplicate_is_acknowledged_without_processing_again(
    insert: str, post_signed: Any, django_capture_on_commit_callbacks: Any, request: pytest.FixtureRequest
) -> None:
    if insert == "orm_fallback":
        request.getfixturevalue("without_insert_returning")  # SQLite < 3.35
    body = fixture_body("stripe", "invoice_paid")
    with django_capture_on_commit_callbacks() as callbacks:
        first = post_signed("stripe", body)
        second = post_signed("stripe", body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["status"], second.json()["status"]) == ("accepted", "duplicate")
    event = WebhookEvent.objects.get()
    assert (event.status, event.signature_ok, bytes(event.raw_body)) == ("received", True, body)
    assert len(callbacks) == 1


def test_a_provider_resend_with_a_new_signature_is_still_a_duplicate(post_signed: Any, frozen_clock: Any) -> None:
    body = fixture_body("calcom", "booking_created")
    post_signed("calcom", body)
    frozen_clock.tick(dt.timedelta(minutes=30))
    assert post_signed("calcom", body).json()["status"] == "duplicate"


def test_a_rejected_forgery_cannot_block_the_real_event_id(post_signed: Any) -> None:
    body = fixture_body("stripe", "invoice_paid")
    assert post_signed("stripe", body, secret="attacker").status_code == 401
    assert post_signed("stripe", body, secret="attacker").status_code == 401
    response = post_signed("stripe", body)
    assert response.json()["status"] == "accepted"
    assert WebhookEvent.objects.filter(event_id="evt_1PqInvoicePaid", status="received").exists()


def test_stored_headers_never_hold_a_signature_or_shared_secret(post_signed: Any) -> None:
    post_signed("stripe", fixture_body("stripe", "invoice_paid"))
    post_signed("instantly", fixture_body("instantly", "reply_received"))
    post_signed("pandadoc", fixture_body("pandadoc", "document_completed"))
    stored = json.dumps([e.headers for e in WebhookEvent.objects.all()])
    assert SECRETS["instantly"] not in stored
    assert "v1=" not in stored
    by_provider = {e.provider: e.headers for e in WebhookEvent.objects.all()}
    assert by_provider["stripe"]["stripe-signature"] == "[masked]"
    assert by_provider["instantly"]["x-webhook-secret"] == "[masked]"
    assert by_provider["pandadoc"]["?signature"] == "[masked]"


@pytest.mark.parametrize(
    ("provider", "body", "message"),
    [
        ("stripe", b"{not json", "not valid JSON"),
        ("stripe", b"[1, 2]", "must be a JSON object"),
        ("stripe", b'{"type": "invoice.paid"}', "'id'"),
        ("calcom", b'{"payload": {}}', "'triggerEvent'"),
        ("pandadoc", b"[]", "non-empty list"),
        ("apify", b'{"eventType": "ACTOR.RUN.SUCCEEDED", "eventData": {}}', "'actorRunId'"),
        ("instantly", b"\xff\xfe", "not valid JSON"),
    ],
)
def test_a_signed_but_malformed_body_gets_400_with_a_clear_message(
    provider: str, body: bytes, message: str, post_signed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed(provider, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert callbacks == []
    assert WebhookEvent.objects.get().status == "ignored"


def test_an_unknown_provider_is_404(post_webhook: Any) -> None:
    response = post_webhook("hubspot", b"{}")
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_a_declared_length_over_the_limit_is_413_before_reading(client: Any, settings: Any) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = client.generic(
        "POST", "/api/webhooks/stripe", data=b"{}", content_type="application/json", CONTENT_LENGTH="5000"
    )
    assert response.status_code == 413


def test_a_body_over_the_limit_is_413(post_signed: Any, settings: Any) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = post_signed("stripe", json.dumps({"id": "evt_big", "type": "x", "pad": "a" * 200}).encode())
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_an_unknown_event_type_is_acknowledged_and_stored_as_ignored(
    post_signed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_signed("stripe", fixture_body("stripe", "customer_created"))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert WebhookEvent.objects.get().status == "ignored"
    assert callbacks == []


def test_a_provider_without_a_secret_refuses_every_event(post_signed: Any, settings: Any) -> None:
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, "STRIPE_WEBHOOK_SECRET": ""}
    response = post_signed("stripe", fixture_body("stripe", "invoice_paid"), secret="")
    assert response.status_code == 401
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]


def test_the_sandbox_secret_is_accepted_only_while_the_sandbox_is_on(post_signed: Any, settings: Any) -> None:
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, "CALCOM_WEBHOOK_SECRET": ""}
    body, sandbox_secret = fixture_body("calcom", "booking_created"), settings.SANDBOX_WEBHOOK_SECRETS["calcom"]
    assert post_signed("calcom", body, secret=sandbox_secret).status_code == 401
    settings.SANDBOX_WEBHOOKS = True
    assert post_signed("calcom", body, secret=sandbox_secret).status_code == 200


def test_webhooks_need_no_csrf_token(settings: Any) -> None:
    from django.test import Client

    body = fixture_body("apify", "run_succeeded")
    headers, _ = sign("apify", body)
    response = Client(enforce_csrf_checks=True).post(
        "/api/webhooks/apify", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200


@pytest.fixture
def without_insert_returning(monkeypatch: Any) -> None:
    """A database like SQLite before 3.35 (Django accepts 3.31): no INSERT ... RETURNING."""
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)

    # The ORM then reads the new id as SQLite's lastrowid; psycopg's cursors have none, so this
    # PostgreSQL answers from the session's own sequence value instead.
    def last_insert_id(cursor: Any, table_name: str, pk_name: str) -> int:
        cursor.execute("SELECT currval(pg_get_serial_sequence(%s, %s))", [table_name, pk_name])
        return int(cursor.fetchone()[0])

    monkeypatch.setattr(connection.ops, "last_insert_id", last_insert_id)

    def no_raw_insert(*args: Any) -> None:
        raise AssertionError("the INSERT ... RETURNING ran on a database without it")

    monkeypatch.setattr(services, "_execute_once", no_raw_insert)


@pytest.mark.postgresql
@pytest.mark.usefixtures("without_insert_returning")
def test_without_insert_returning_the_fallback_answers_as_the_insert_does() -> None:
    values = {"provider": "stripe", "event_id": "evt_1", "raw_body": b"{}", "signature_ok": True}
    pk = services._insert_once(**values)
    assert pk == WebhookEvent.objects.get().pk
    assert services._insert_once(**values) is None
    # Only the (provider, event_id) conflict is a duplicate: an unsigned, received event is a bug.
    with pytest.raises(IntegrityError):
        services._insert_once(**{**values, "event_id": "evt_2", "signature_ok": False})
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
class TestOutsideATransaction:
    """As in production: the INSERT commits on its own, then the publisher gets the id."""

    @pytest.fixture(autouse=True)
    def published(self, monkeypatch: Any) -> list[list[int]]:
        batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()

        def publish(batch: list[int]) -> None:
            assert self.gate.wait(5.0)
            batches.append(batch)

        monkeypatch.setattr(publisher, "_publisher", publisher.BatchPublisher(publish, linger=0.0))
        return batches

    def ids(self, published: list[list[int]], count: int) -> list[int]:
        deadline = time.monotonic() + 5.0
        while sum(map(len, published)) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return [pk for batch in published for pk in batch]

    def test_the_answer_does_not_wait_for_the_broker(self, post_signed: Any, published: list[list[int]]) -> None:
        self.gate.clear()  # the broker hangs
        response = post_signed("stripe", fixture_body("stripe", "invoice_paid"))
        assert response.json()["status"] == "accepted"
        event = WebhookEvent.objects.get()
        assert event.status == "received"  # stored and committed before the answer
        assert published == []
        self.gate.set()
        assert self.ids(published, 1) == [event.pk]

    @pytest.mark.postgresql
    @pytest.mark.parametrize("insert", ["on_conflict_returning", "orm_fallback"])
    def test_a_duplicate_is_stored_and_published_once(
        self, insert: str, post_signed: Any, published: list[list[int]], request: pytest.FixtureRequest
    ) -> None:
        if insert == "orm_fallback":
            request.getfixturevalue("without_insert_returning")  # SQLite < 3.35: committed on its own too
        body = fixture_body("stripe", "invoice_paid")
        assert post_signed("stripe", body).json()["status"] == "accepted"
        assert post_signed("stripe", body).json()["status"] == "duplicate"
        assert self.ids(published, 1) == [WebhookEvent.objects.get().pk]
        time.sleep(0.05)
        assert len(self.ids(published, 1)) == 1

    def test_a_webhook_costs_one_query_and_no_health_check_on_a_reused_connection(
        self, post_signed: Any, monkeypatch: Any, django_assert_num_queries: Any
    ) -> None:
        db = connections["default"]
        post_signed("calcom", fixture_body("calcom", "booking_created"))  # the connection exists
        # As at the start of the next request (setattr: Django's own flag is not in its stubs).
        setattr(db, "health_check_done", False)  # noqa: B010
        checks: list[bool] = []

        def is_usable() -> bool:
            checks.append(True)
            return True

        monkeypatch.setattr(db, "is_usable", is_usable)
        with django_assert_num_queries(1):
            response = post_signed("stripe", fixture_body("stripe", "invoice_paid"))
        assert response.json()["status"] == "accepted"
        assert checks == []

    @pytest.mark.postgresql
    def test_a_connection_the_database_dropped_is_replaced_and_the_event_still_stored(
        self, post_signed: Any, published: list[list[int]]
    ) -> None:
        db = connections["default"]
        post_signed("calcom", fixture_body("calcom", "booking_created"))
        setattr(db, "health_check_done", False)  # noqa: B010 - Django's own flag, not in its stubs
        assert db.connection is not None
        backend = db.connection.info.backend_pid
        with psycopg.connect(**db.connection.info.get_parameters(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])
        response = post_signed("stripe", fixture_body("stripe", "invoice_paid"))
        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        assert db.connection.info.backend_pid != backend
        stored = WebhookEvent.objects.get(provider="stripe")
        assert stored.pk in self.ids(published, 2)
