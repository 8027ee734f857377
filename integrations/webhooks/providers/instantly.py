"""Instantly: replies, bounces, unsubscribes -> email_response_handler / unsubscribe_compliance.

Instantly signs nothing; its webhook settings allow custom headers, so the endpoint is given a
shared secret in ``X-Webhook-Secret`` (https://developer.instantly.ai/webhook-events). Events
carry no id: the composite key is type + lead + campaign + email id + timestamp.
``email_complained`` (a spam complaint) is what the sandbox world reports; Instantly itself
reports complaints as unsubscribes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    WebhookProvider,
    composite_id,
    require_object,
    require_str,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import EmailEvent, parse_when
from integrations.webhooks.optouts import OptOut, OptOutReader
from integrations.webhooks.signatures import verify_shared_secret

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

AUTH_HEADER = "X-Webhook-Secret"


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_shared_secret(presented=request.header(AUTH_HEADER), secrets=secrets, header=AUTH_HEADER)


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    body = require_object(payload, "an Instantly event")
    event_type = require_str(body, "event_type", "an Instantly event")
    key = composite_id(
        event_type, body.get("lead_email"), body.get("campaign_id"), body.get("email_id"), body.get("timestamp")
    )
    return EventIdentity(event_id=f"{event_type}:{key}", event_type=event_type)


def _small_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _email_input(payload: dict[str, Any], kind: str) -> EmailEvent:
    return EmailEvent(
        kind=kind,
        lead_email=str(payload.get("lead_email", "")).strip().lower(),
        campaign_id=str(payload.get("campaign_id") or ""),
        mailbox=str(payload.get("email_account") or ""),
        message_id=str(payload.get("email_id") or ""),
        thread_id=str(payload.get("thread_id") or ""),
        subject=str(payload.get("reply_subject") or ""),
        text=str(payload.get("reply_text") or payload.get("reply_text_snippet") or ""),
        bounce_type=str(payload.get("bounce_type") or ""),
        step=_small_int(payload.get("step")),
        variant=_small_int(payload.get("variant")),
        occurred_at=parse_when(payload.get("timestamp")),
    )


def _handler(agent_name: str, kind: str) -> Any:
    def handle(event: WebhookEvent, payload: Any) -> bool:
        start_event_run(event=event, agent_name=agent_name, input=_email_input(payload, kind))
        return True

    handle.__name__ = f"handle_{kind}"
    return handle


# Bounce types that mean the address does not exist (Instantly says "hard"; others "permanent").
HARD_BOUNCES = frozenset({"hard", "permanent"})


def _opt_out(reason: str, *, hard_bounce_only: bool = False) -> OptOutReader:
    def read(payload: Any) -> OptOut | None:
        if not isinstance(payload, dict):
            return None
        if hard_bounce_only and str(payload.get("bounce_type") or "").strip().lower() not in HARD_BOUNCES:
            return None
        email = str(payload.get("lead_email") or "").strip().lower()
        return OptOut(email=email, reason=reason) if email else None

    return read


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=("email_response_handler", "unsubscribe_compliance"),
    name="instantly",
    key_name="INSTANTLY_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={
        "reply_received": _handler("email_response_handler", "reply"),
        "email_bounced": _handler("email_response_handler", "bounce"),
        "lead_unsubscribed": _handler("unsubscribe_compliance", "unsubscribe"),
        "email_complained": _handler("unsubscribe_compliance", "complaint"),
    },
    # Opt-outs: the sequences may send again while one of these waits. The type is all that is
    # known before processing, so every bounce counts (a soft one only costs an extra message).
    urgent=frozenset({"email_bounced", "lead_unsubscribed", "email_complained"}),
    opt_outs={
        "lead_unsubscribed": _opt_out("unsubscribe"),
        "email_complained": _opt_out("complaint"),
        "email_bounced": _opt_out("hard_bounce", hard_bounce_only=True),
    },
    secret_headers=(AUTH_HEADER.lower(),),
    scheme=f"{AUTH_HEADER} (shared secret)",
)
