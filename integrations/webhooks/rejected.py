"""Rejected requests (bad or missing signature): kept for an operator, bounded in size and rate.

Anyone can post to the endpoint, so what a rejected request may cost the database is capped twice:
only a prefix of its body is stored (with the whole body's size and sha256, enough to tell two
attempts apart), and at most WEBHOOK_REJECTED_PER_MINUTE rows per source address and minute are
written; past that the request is still answered 401, only logged.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache

from integrations.models import WebhookEvent
from integrations.webhooks.base import IncomingRequest, WebhookProvider, storable_text

logger = logging.getLogger(__name__)

# Bytes of a rejected body kept: enough to recognise a misconfigured vendor's event.
KEPT_PREFIX_BYTES = 2048
MAX_ERROR_CHARS = 2000


def _within_quota(source: str) -> bool:
    """Counts this rejected request against its source's minute; whether it may still be stored.

    Wall-clock minutes (infrastructure time). A cache that fails (Redis down) does not refuse the
    row: the prefix bound still holds, and an outage must not cost the operator the evidence.
    """
    limit = int(settings.WEBHOOK_REJECTED_PER_MINUTE)
    key = f"webhooks:rejected:{hashlib.sha256(source.encode()).hexdigest()[:16]}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    except Exception:
        logger.warning("the rejected-webhook quota could not be counted (cache unavailable)")
        return True
    return int(count) <= limit


def store_rejected(
    *, provider: WebhookProvider, request: IncomingRequest, reason: str, source: str, headers: dict[str, str]
) -> bool:
    """Store one rejected request (prefix, size, digest), unless its source is over quota."""
    if not _within_quota(source):
        logger.warning("webhook %s: rejected request from over-quota source not stored", provider.name)
        return False
    body = request.body
    # A random id: an attacker's unsigned request must never occupy an id a real event needs.
    WebhookEvent.objects.create(
        provider=provider.name,
        event_id=f"rejected:{uuid.uuid4().hex}",
        headers=headers,
        raw_body=body[:KEPT_PREFIX_BYTES],
        body_size=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        signature_ok=False,
        status=WebhookEvent.Status.REJECTED,
        error=storable_text(reason)[:MAX_ERROR_CHARS],
        received_at=request.now,
    )
    return True
