"""Opt-outs carried by webhook events: who asked never to be contacted again, read from the payload.

A provider declares, per event type, a reader that returns the ``OptOut`` an event carries (None
when it carries none, e.g. a soft bounce). ``process_event`` applies it through the suppression
service before the event's handler runs, in a transaction of its own: the address is suppressed
whether or not the handler, or the agent it starts, exists or works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from integrations.webhooks.base import WebhookProvider, parse_json

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OptOut:
    email: str
    reason: str  # a crm SuppressionEntryReason among the opt-outs: unsubscribe, complaint, hard_bounce


OptOutReader = Callable[[Any], "OptOut | None"]


def apply_opt_out(*, provider: WebhookProvider, event: WebhookEvent) -> OptOut | None:
    """Suppress the address ``event`` opts out, committed at once; the OptOut applied, if any.

    Call outside the handler's transaction. Idempotent (a replay finds the entry). A payload that
    names no usable address is logged and left to the handler; a database error raises, and the
    event stays received for the sweeper.
    """
    from crm.services.suppression import record_opt_out

    reader = provider.opt_outs.get(event.event_type)
    if reader is None:
        return None
    opt_out = reader(parse_json(bytes(event.raw_body)))
    if opt_out is None:
        return None
    try:
        with transaction.atomic():
            record_opt_out(
                email=opt_out.email,
                reason=opt_out.reason,
                source=f"webhook:{provider.name}",
                note=f"event {event.event_type} {event.event_id}"[:255],
            )
    except ValueError as exc:
        logger.warning("webhook %s %s: opt-out not applied: %s", provider.name, event.pk, exc)
        return None
    return opt_out
