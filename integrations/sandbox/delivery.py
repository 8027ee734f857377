"""Reporting back: due sandbox events are signed like the vendor signs them and posted to the
real webhook endpoint, so the world exercises exactly the path real events take.

Transport: in-process through Django's test ``Client`` by default (middleware, URL resolver,
view, verification, storage: all real, and no server has to be running for the embedded
default), or over HTTP with httpx when ``settings.SANDBOX_WEBHOOK_URL`` names a running server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from integrations.models import SandboxEvent
from integrations.sandbox import moments
from integrations.webhooks.base import signing_secrets
from integrations.webhooks.providers import get_provider
from integrations.webhooks.providers.instantly import AUTH_HEADER
from integrations.webhooks.signatures import hmac_hex, sign_standard_webhooks, sign_stripe
from smarter_team import clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class SandboxNotSigned(Exception):
    """No secret to sign with: the provider's real secret is unset and SANDBOX_WEBHOOKS is off."""


@dataclass(frozen=True)
class SignedBody:
    body: bytes
    headers: dict[str, str]
    query: dict[str, str]


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(*, provider_name: str, payload: Any, message_key: str) -> SignedBody:
    """The request a vendor would send: body plus its signature headers (or query)."""
    provider = get_provider(provider_name)
    secrets = signing_secrets(provider) if provider is not None else []
    if not secrets:
        raise SandboxNotSigned(f"no signing secret for {provider_name}")
    secret, body, now = secrets[0], encode(payload), int(clock.now().timestamp())
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    if provider_name == "stripe":
        headers["Stripe-Signature"] = sign_stripe(body=body, secret=secret, timestamp=now)
    elif provider_name == "fathom":
        msg_id = "msg_" + hashlib.sha256(message_key.encode()).hexdigest()[:24]
        headers["webhook-id"] = msg_id
        headers["webhook-timestamp"] = str(now)
        headers["webhook-signature"] = sign_standard_webhooks(body=body, secret=secret, msg_id=msg_id, timestamp=now)
    elif provider_name == "calcom":
        headers["X-Cal-Signature-256"] = hmac_hex(body=body, secret=secret)
    elif provider_name == "pandadoc":
        query["signature"] = hmac_hex(body=body, secret=secret)
    else:  # instantly, apify: a shared secret header
        headers[AUTH_HEADER] = secret
    return SignedBody(body=body, headers=headers, query=query)


def _host() -> str:
    allowed = [h for h in settings.ALLOWED_HOSTS if h and h != "*"]
    if "*" in settings.ALLOWED_HOSTS or "testserver" in allowed or not allowed:
        return "testserver"
    return "localhost" if "localhost" in allowed else allowed[0].lstrip(".")


def post(*, provider_name: str, signed: SignedBody) -> int:
    """Post a signed body to /api/webhooks/<provider>; returns the HTTP status."""
    path = reverse("api:webhook_receive", kwargs={"provider": provider_name})
    headers = {**signed.headers, "Content-Type": "application/json"}
    base = settings.SANDBOX_WEBHOOK_URL.rstrip("/")
    if base:
        answer = httpx.post(
            base + path,
            content=signed.body,
            headers=headers,
            params=signed.query,
            timeout=settings.HTTP_TIMEOUT_SECONDS,
        )
        return answer.status_code
    client = Client(raise_request_exception=False, HTTP_HOST=_host())
    secure = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
    response = client.post(
        path,
        data=signed.body,
        content_type="application/json",
        headers=headers,
        query_params=signed.query,
        secure=secure,
    )
    return response.status_code


def deliver(event: SandboxEvent) -> None:
    """Post one event and record the answer. Call while holding the event's row lock."""
    if event.provider == moments.WORLD:
        moments.happen(event)  # the world decides something now (a meeting starts): nothing to post
        return
    event.attempts += 1
    permanent = False
    try:
        signed = sign(provider_name=event.provider, payload=event.payload, message_key=event.key)
        status = post(provider_name=event.provider, signed=signed)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
        # A 4xx will not get better by retrying (a secret mismatch, a malformed body).
        permanent = 400 <= status < 500
    except SandboxNotSigned as exc:
        status, error, permanent = 0, str(exc), True
    except httpx.HTTPError as exc:
        status, error = 0, f"{type(exc).__name__}: {exc}"
    event.response_status = status or None
    event.error = error
    if not error:
        event.delivered_at = clock.now()
        event.transition_to(
            SandboxEvent.Status.DELIVERED, also=["attempts", "response_status", "error", "delivered_at"]
        )
    elif permanent or event.attempts >= MAX_ATTEMPTS:
        event.transition_to(SandboxEvent.Status.FAILED, also=["attempts", "response_status", "error"])
        logger.warning("sandbox event %s failed: %s", event.key, error)
    else:
        event.due_at = clock.now() + dt.timedelta(minutes=event.attempts)
        event.save(update_fields=["attempts", "response_status", "error", "due_at"])


def deliver_due(*, limit: int | None = None) -> int:
    """Deliver the events whose time has come, oldest first; returns how many were posted.

    The world's own passage of time comes first: once a day, clients left without news feel it."""
    from integrations.sandbox.projects import notice_time_passing

    try:
        notice_time_passing()
    except Exception:  # the clients' day is the world's own affair: it must not hold up the webhooks it owes
        logger.exception("sandbox: the clients' day could not be lived; events are delivered all the same")
    posted = 0
    for _ in range(limit or settings.SANDBOX_DELIVERY_BATCH):
        with transaction.atomic():
            event = (
                SandboxEvent.objects.select_for_update(skip_locked=True)
                .filter(status=SandboxEvent.Status.PENDING, due_at__lte=clock.now())
                .order_by("due_at", "id")
                .first()
            )
            if event is None:
                break
            deliver(event)
            posted += 1
    return posted
