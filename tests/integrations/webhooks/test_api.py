"""The API root: token auth for everything but webhooks and health, staff-only docs, no 500s."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from ninja import Schema
from ninja.testing import TestClient
from schemathesis.core import NotSet

from integrations.models import WebhookEvent
from integrations.webhooks import services
from integrations.webhooks.api import WebhookAck, WebhookError
from integrations.webhooks.api import router as webhooks_router
from integrations.webhooks.providers import PROVIDERS
from smarter_team.api import ApiTokenAuth, api
from tests.integrations.webhooks import strategies
from tests.integrations.webhooks.conftest import sign

TOKEN = "st-test-token-0123456789"


def bearer(value: str) -> Any:
    return RequestFactory().get("/api/x", headers={"Authorization": value})


class TestApiTokenAuth:
    @pytest.fixture(autouse=True)
    def _token(self, settings: Any) -> None:
        settings.API_TOKEN_SHA256 = [hashlib.sha256(TOKEN.encode()).hexdigest()]

    def test_a_listed_token_is_accepted_and_identified_by_its_digest_only(self) -> None:
        identity = ApiTokenAuth()(bearer(f"Bearer {TOKEN}"))
        assert identity is not None
        assert TOKEN not in identity

    @pytest.mark.parametrize("header", ["", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
    def test_anything_else_is_refused(self, header: str) -> None:
        assert ApiTokenAuth()(bearer(header)) is None

    def test_no_token_is_accepted_when_none_is_configured(self, settings: Any) -> None:
        settings.API_TOKEN_SHA256 = []
        assert ApiTokenAuth()(bearer(f"Bearer {TOKEN}")) is None

    def test_it_is_the_default_for_every_endpoint(self) -> None:
        assert isinstance(api.auth[0] if isinstance(api.auth, list | tuple) else api.auth, ApiTokenAuth)


@pytest.mark.django_db
def test_the_docs_and_schema_are_for_staff_only(staff_client: Client) -> None:
    anonymous = Client()
    assert anonymous.get("/api/docs").status_code == 302
    assert anonymous.get("/api/openapi.json").status_code == 302
    assert staff_client.get("/api/docs").status_code == 200
    schema = staff_client.get("/api/openapi.json").json()
    assert "/api/webhooks/{provider}" in schema["paths"]


def test_the_health_probe_is_open(client: Client) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


# --- schemathesis: every operation, generated inputs, never a 500 ------------------------------
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_causes_a_server_error(case: Any) -> None:
    case.call_and_validate(checks=[schemathesis.checks.not_a_server_error])


webhooks = schema.include(path="/api/webhooks/{provider}")


@pytest.mark.django_db
@webhooks.parametrize()
@webhooks.given(
    hostile=strategies.hostile_value, nest=st.sampled_from([0, 10, 70, 3000]), query=strategies.hostile_text
)
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_bodies_correctly_signed_never_cause_a_server_error(
    case: Any, hostile: Any, nest: int, query: str
) -> None:
    """Past the signature: identification, storage and the handlers face arbitrary JSON, with NUL,
    lone surrogates and deep nesting in the body and the query string of every provider."""
    generated = {} if isinstance(case.body, NotSet) else case.body
    payload = {**generated, "hostile": hostile} if isinstance(generated, dict) else [generated, hostile]
    if nest:
        payload = {**payload, "nested": strategies.deep_marker(nest)} if isinstance(payload, dict) else payload
    body = strategies.body_of(payload)
    # As a sender would put it on the wire: the text's bytes (lone surrogates as invalid UTF-8), escaped.
    hostile_query = "q=" + quote(query.encode("utf-8", "surrogatepass"), safe="")
    for provider in PROVIDERS:
        headers, signed_query = sign(provider, body)
        response = Client().post(
            f"/api/webhooks/{provider}?{'&'.join([hostile_query, urlencode(signed_query)])}",
            data=body,
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code < 500
    for event in WebhookEvent.objects.filter(status="received"):
        assert services.process_event(event_pk=event.pk) in {"processed", "ignored", "failed"}


# --- the plain view serving the endpoint, and the ninja operation documenting it -------------
def test_the_webhook_url_is_served_by_the_plain_view_ahead_of_ninja() -> None:
    from django.urls import resolve

    from integrations.webhooks.api import receive_view

    assert resolve("/api/webhooks/stripe").func is receive_view
    assert reverse("api:webhook_receive", kwargs={"provider": "stripe"}) == "/api/webhooks/stripe"


def test_only_post_is_allowed(client: Client) -> None:
    assert client.get("/api/webhooks/stripe").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "body", "secret", "status", "model"),
    [
        ("stripe", b'{"id": "evt_1", "type": "invoice.paid"}', None, 200, WebhookAck),
        ("stripe", b'{"id": "evt_1", "type": "invoice.paid"}', "wrong", 401, WebhookError),
        ("stripe", b'{"type": "invoice.paid"}', None, 400, WebhookError),
        ("hubspot", b"{}", None, 404, WebhookError),
    ],
)
def test_the_plain_view_and_the_documented_operation_answer_alike(
    provider: str, body: bytes, secret: str | None, status: int, model: type[Schema]
) -> None:
    headers, query = sign("stripe", body, secret=secret)
    plain = Client().post(
        f"/api/webhooks/{provider}", data=body, content_type="application/json", headers=headers, query_params=query
    )
    WebhookEvent.objects.all().delete()
    documented = TestClient(webhooks_router).post(
        f"/{provider}",
        data=body,  # type: ignore[arg-type]  # the raw bytes become the body, as signed
        headers={**headers, "Content-Type": "application/json"},
    )
    assert (plain.status_code, documented.status_code) == (status, status)
    assert plain.json() == documented.json()
    model.model_validate(plain.json())  # the shape the OpenAPI schema promises
