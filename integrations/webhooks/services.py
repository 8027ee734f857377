"""The write paths of webhooks: receive (store, answer), process (event -> handler -> run), replay.

``receive_webhook`` is what the endpoint calls; it does the least that makes the event safe (verify,
store once) and leaves the work to ``process_event``, run by a Celery task after the commit. The
sweeper (``replay_unprocessed``) catches what a lost task or a failed handler left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from integrations.models import WebhookEvent
from integrations.webhooks.base import (
    IncomingRequest,
    MalformedEvent,
    WebhookProvider,
    body_digest,
    parse_json,
    signing_secrets,
)
from integrations.webhooks.providers import get_provider
from integrations.webhooks.signatures import SignatureError
from smarter_team import clock

logger = logging.getLogger(__name__)

MASK = "[masked]"
# Never worth keeping, whoever sends them.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status_code: int, detail: str) -> Receipt:
    return Receipt(status_code, {"detail": detail})


def stored_headers(provider: WebhookProvider, headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str]:
    """The request's headers (and query) as stored: secrets and signatures masked, credentials dropped."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in DROPPED_HEADERS:
            continue
        kept[lower] = MASK if lower in provider.secret_headers else value
    for name, value in query.items():
        kept[f"?{name}"] = MASK if name in provider.secret_query else value
    return kept


def _enqueue(event_pk: int) -> None:
    from integrations.webhooks.tasks import process_webhook_event

    # robust: a broker hiccup must not turn a stored event into a 500; the sweeper replays it.
    transaction.on_commit(lambda: process_webhook_event.delay(event_pk), robust=True)


def _store_rejected(provider: WebhookProvider, request: IncomingRequest, reason: str) -> None:
    # A random id: an attacker's unsigned request must never occupy an id a real event needs.
    WebhookEvent.objects.create(
        provider=provider.name,
        event_id=f"rejected:{uuid.uuid4().hex}",
        headers=stored_headers(provider, request.headers, request.query),
        raw_body=request.body,
        signature_ok=False,
        status=WebhookEvent.Status.REJECTED,
        error=reason[:MAX_ERROR_CHARS],
        received_at=request.now,
    )


def _insert_once(**fields: Any) -> WebhookEvent | None:
    """Insert the event; None when (provider, event_id) is already stored.

    Outside a transaction the INSERT commits on its own (one round trip, the hot path of every
    webhook); inside one (the sandbox posting in-process) a savepoint contains a duplicate.
    """
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                return WebhookEvent.objects.create(**fields)
        return WebhookEvent.objects.create(**fields)
    except IntegrityError:
        if WebhookEvent.objects.filter(provider=fields["provider"], event_id=fields["event_id"]).exists():
            return None
        raise


def receive_webhook(
    *, provider_name: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> Receipt:
    """Verify, store once and enqueue one webhook request; returns the HTTP answer."""
    provider = get_provider(provider_name)
    if provider is None:
        return _error(404, f"unknown webhook provider {provider_name!r}")
    request = IncomingRequest(
        body=body,
        headers={k.lower(): v for k, v in headers.items()},
        query={k: v for k, v in query.items()},
        now=clock.now(),
    )
    secrets = signing_secrets(provider)
    try:
        if not secrets:
            raise SignatureError(f"no {provider.key_name} is configured: events are refused")
        provider.verify(request, secrets)
    except SignatureError as exc:
        _store_rejected(provider, request, str(exc))
        logger.warning("webhook %s rejected: %s", provider.name, exc)
        return _error(401, str(exc))

    fields: dict[str, Any] = {
        "provider": provider.name,
        "headers": stored_headers(provider, request.headers, request.query),
        "raw_body": body,
        "signature_ok": True,
        "received_at": request.now,
    }
    try:
        identity = provider.identify(request, parse_json(body))
    except MalformedEvent as exc:
        # Kept (once per body) so an operator can see what the vendor sent; never processed.
        _insert_once(
            **fields,
            event_id=f"malformed:{body_digest(body, 64)}",
            status=WebhookEvent.Status.IGNORED,
            error=str(exc)[:MAX_ERROR_CHARS],
        )
        return _error(400, str(exc))

    known = identity.event_type in provider.handlers
    event = _insert_once(
        **fields,
        event_id=identity.event_id[:255],
        event_type=identity.event_type[:128],
        status=WebhookEvent.Status.RECEIVED if known else WebhookEvent.Status.IGNORED,
        error="" if known else "no handler for this event type",
    )
    answer = {"event_id": identity.event_id, "event_type": identity.event_type}
    if event is None:
        return Receipt(200, {"status": "duplicate", **answer})
    if not known:
        return Receipt(200, {"status": "ignored", **answer})
    _enqueue(event.pk)
    return Receipt(200, {"status": "accepted", **answer})


def process_event(*, event_pk: int) -> str:
    """Run the handler of one received event, once; returns the status it ends in.

    Holds the event's row lock for the whole handler, so a duplicate task or the sweeper waits
    and then sees the event processed. A failing handler is rolled back to its savepoint and
    the event marked failed (the sweeper retries it until WEBHOOK_MAX_ATTEMPTS).
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != WebhookEvent.Status.RECEIVED:
            return event.status if event is not None else "missing"
        event.attempts += 1
        provider = get_provider(event.provider)
        handler = provider.handlers.get(event.event_type) if provider is not None else None
        if handler is None:
            event.error = "no handler for this event type"
            event.transition_to(WebhookEvent.Status.IGNORED, also=["attempts", "error"])
            return event.status
        try:
            with transaction.atomic():
                acted = handler(event, json.loads(bytes(event.raw_body)))
        except Exception as exc:
            logger.exception("webhook %s %s failed", event.provider, event.event_id)
            event.error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            event.transition_to(WebhookEvent.Status.FAILED, also=["attempts", "error"])
            return event.status
        event.error = "" if acted else "the handler found nothing to do"
        event.processed_at = clock.now()
        new = WebhookEvent.Status.PROCESSED if acted else WebhookEvent.Status.IGNORED
        event.transition_to(new, also=["attempts", "error", "processed_at"])
        return event.status


def replay_event(*, event: WebhookEvent) -> bool:
    """Send a stored event through its handler again (an operator's replay). Rejected ones never.

    The runs it starts carry the event's idempotency key, so an event that had already started
    its run finds that run again rather than starting a second one.
    """
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status == WebhookEvent.Status.REJECTED:
            return False
        locked.error = ""
        locked.transition_to(WebhookEvent.Status.RECEIVED, also=["error"])
        _enqueue(locked.pk)
    return True


def replay_unprocessed(*, limit: int = 500) -> int:
    """The sweeper: re-enqueue events stored but never processed, and failed ones with tries left.

    "Never processed" means still received WEBHOOK_REPLAY_AFTER_MINUTES after arrival (the task
    was lost: broker down, worker killed). Failed events wait as long after their last attempt.
    """
    cutoff = clock.now() - dt.timedelta(minutes=settings.WEBHOOK_REPLAY_AFTER_MINUTES)
    replayed = 0
    with transaction.atomic():
        stuck = list(
            WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, received_at__lt=cutoff)
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in stuck:
            _enqueue(pk)
        replayed += len(stuck)
        failed = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(
                status=WebhookEvent.Status.FAILED,
                attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
                updated_at__lt=cutoff,
            )
            .order_by("updated_at")[: max(limit - replayed, 0)]
        )
        for event in failed:
            event.transition_to(WebhookEvent.Status.RECEIVED)
            _enqueue(event.pk)
            replayed += 1
    if replayed:
        logger.info("webhook sweeper replayed %d events", replayed)
    return replayed
