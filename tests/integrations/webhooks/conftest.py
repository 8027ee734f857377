"""Webhook test kit: known secrets, vendor-signed requests, and stand-in event agents."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pydantic import BaseModel

from agents import registry
from agents.base import Agent, Empty
from agents.errors import UnknownAgent
from integrations.webhooks import inputs
from integrations.webhooks.signatures import hmac_hex, sign_standard_webhooks, sign_stripe

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/webhooks/{}"

SECRETS = {
    "stripe": "whsec_test_stripe_secret_0001",
    "fathom": "whsec_" + base64.b64encode(b"fathom-test-key-32-bytes-long!!!").decode(),
    "calcom": "calcom-test-secret",
    "pandadoc": "pandadoc-test-shared-key",
    "instantly": "instantly-test-header-secret",
    "apify": "apify-test-header-secret",
}
KEY_NAMES = {
    "stripe": "STRIPE_WEBHOOK_SECRET",
    "fathom": "FATHOM_WEBHOOK_SECRET",
    "calcom": "CALCOM_WEBHOOK_SECRET",
    "pandadoc": "PANDADOC_WEBHOOK_SECRET",
    "instantly": "INSTANTLY_WEBHOOK_SECRET",
    "apify": "APIFY_WEBHOOK_SECRET",
}
# The agents webhook events start, with the input each is given.
EVENT_AGENTS: dict[str, type[BaseModel]] = {
    "stripe_payment_processing": inputs.PaymentEvent,
    "meeting_lifecycle_orchestrator": inputs.BookingEvent,
    "fathom_integration": inputs.RecordingEvent,
    "contract_signature": inputs.DocumentEvent,
    "email_response_handler": inputs.EmailEvent,
    "unsubscribe_compliance": inputs.EmailEvent,
    "lead_list_builder": inputs.LeadSearchEvent,
}


def fixture_body(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / f"{name}.json").read_bytes()


def fixture_json(provider: str, name: str) -> Any:
    return json.loads(fixture_body(provider, name))


def sign(
    provider: str,
    body: bytes,
    *,
    secret: str | None = None,
    at: dt.datetime | None = None,
    msg_id: str = "msg_test_0001",
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query a vendor would send with ``body`` (signed at ``at``, default: the clock)."""
    from smarter_team import clock

    key = secret if secret is not None else SECRETS[provider]
    timestamp = int((at or clock.now()).timestamp())
    if provider == "stripe":
        return {"Stripe-Signature": sign_stripe(body=body, secret=key, timestamp=timestamp)}, {}
    if provider == "fathom":
        signature = sign_standard_webhooks(body=body, secret=key, msg_id=msg_id, timestamp=timestamp)
        return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}, {}
    if provider == "calcom":
        return {"X-Cal-Signature-256": hmac_hex(body=body, secret=key)}, {}
    if provider == "pandadoc":
        return {}, {"signature": hmac_hex(body=body, secret=key)}
    return {"X-Webhook-Secret": key}, {}


@pytest.fixture(autouse=True)
def webhook_secrets(settings: Any) -> dict[str, str]:
    """Every provider configured with a known secret; the sandbox fallback off."""
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, **{KEY_NAMES[p]: s for p, s in SECRETS.items()}}
    settings.SANDBOX_WEBHOOKS = False
    return SECRETS


@pytest.fixture(autouse=True)
def _rejected_quota_out_of_the_way(settings: Any) -> None:
    """The rejected-request quota counts in Redis, across tests: only its own tests meet it."""
    settings.WEBHOOK_REJECTED_PER_MINUTE = 1_000_000


@pytest.fixture(autouse=True)
def event_agents() -> Iterator[None]:
    """Stand-ins for the event agents that are not written yet (real ones are used when present)."""
    added = []
    for name, model in EVENT_AGENTS.items():
        try:
            registry.get(name)
        except UnknownAgent:
            stub = type(
                f"Stub_{name}",
                (Agent,),
                {
                    "name": name,
                    "category": "test",
                    "trigger": "event",
                    "Input": model,
                    "act": lambda self, ctx, facts: Empty(),
                    "__module__": __name__,
                },
            )
            registry.register(stub)
            added.append(name)
    yield
    for name in added:
        registry.unregister(name)


PostWebhook = Callable[..., Any]


@pytest.fixture
def post_webhook(client: Client) -> PostWebhook:
    """post_webhook(provider, body, headers=..., query=...) through the real URL and middleware."""

    def post(
        provider: str, body: bytes, headers: dict[str, str] | None = None, query: dict[str, str] | None = None
    ) -> Any:
        return client.post(
            URL.format(provider),
            data=body,
            content_type="application/json",
            headers=headers or {},
            query_params=query or {},
        )

    return post


@pytest.fixture
def post_signed(post_webhook: PostWebhook) -> PostWebhook:
    """post_signed(provider, body, **sign_kwargs): a correctly signed request."""

    def post(provider: str, body: bytes, **kwargs: Any) -> Any:
        headers, query = sign(provider, body, **kwargs)
        return post_webhook(provider, body, headers=headers, query=query)

    return post
