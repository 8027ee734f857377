"""The world's own moments: something happens in the market at a time and the world decides then.

Most of what the world plans is a report (a webhook posted when due). Some outcomes cannot be
drawn in advance because they depend on what the agency does in between: whether a prospect comes
to a call depends on the reminders they get before it starts. Such a decision is a moment: a
SandboxEvent of provider ``world``, due like any other, that delivery hands to its handler instead
of posting. The handler runs when the moment comes, inside a savepoint of the delivery's
transaction, and schedules what follows (the webhooks that report the outcome). Moments are
cancelled like reports: ``cancel_pending(subject=...)`` when the agency moves or cancels a booking.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from integrations.models import SandboxEvent
from integrations.sandbox.store import schedule
from smarter_team import clock

logger = logging.getLogger(__name__)

WORLD = "world"

Handler = Callable[[SandboxEvent], None]
_handlers: dict[str, Handler] = {}


def on(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of moment (one per kind; re-importing a module is no clash)."""

    def register(handler: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and (existing.__module__, existing.__qualname__) != (
            handler.__module__,
            handler.__qualname__,
        ):
            raise ValueError(f"the world's moment {kind!r} already has a handler")
        _handlers[kind] = handler
        return handler

    return register


def plan(*, key: str, kind: str, subject: str, at: dt.datetime, **data: Any) -> SandboxEvent:
    """Schedule a moment once per key (the same consequence of the same act is planned once)."""
    if kind not in _handlers:
        raise LookupError(f"no handler for the world's moment {kind!r}")
    return schedule(key=key, provider=WORLD, kind=kind, subject=subject, payload=data, due_at=at)


def happen(event: SandboxEvent) -> None:
    """Let a due moment happen. Call while holding the event's row lock (delivery does).

    A handler that fails leaves nothing behind (its savepoint rolls back) and the moment is marked
    failed with the reason, so one broken moment never stops the world's other events.
    """
    event.attempts += 1
    handler = _handlers.get(event.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for the world's moment {event.kind!r}")
        with transaction.atomic():
            handler(event)
    except Exception as exc:
        event.error = f"{type(exc).__name__}: {exc}"
        event.transition_to(SandboxEvent.Status.FAILED, also=["attempts", "error"])
        logger.warning("sandbox moment %s failed: %s", event.key, event.error)
        return
    event.delivered_at = clock.now()
    event.transition_to(SandboxEvent.Status.DELIVERED, also=["attempts", "delivered_at"])
