"""Offboarding: the checklist when a client leaves, and the door left open for later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery.models import Offboarding
from sales.models import Client
from smarter_team import clock

S = Offboarding.Status


def start_offboarding(
    *, client: Client, reason: str, checklist: Sequence[str], reactivation_after: dt.date | None = None
) -> Offboarding:
    """Open the client's offboarding (the client is churned from now on).

    Idempotent: an offboarding already in progress is returned unchanged.
    """
    items = [item.strip() for item in checklist if item.strip()]
    if len(set(items)) != len(items):
        raise ValidationError("Checklist items must be unique", code="duplicate_items")
    if not reason.strip():
        raise ValidationError("An offboarding needs a reason", code="missing_reason")
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        existing = Offboarding.objects.filter(client=locked, status=S.IN_PROGRESS).first()
        if existing is not None:
            return existing
        if locked.status not in (Client.Status.CHURNED, Client.Status.OFFBOARDED):
            locked.transition_to(Client.Status.CHURNED)
        return Offboarding.objects.create(
            client=locked,
            reason=reason.strip(),
            checklist=[{"item": item, "done_at": None} for item in items],
            reactivation_after=reactivation_after,
        )


def complete_offboarding_item(*, offboarding: Offboarding, item: str) -> Offboarding:
    """Tick one checklist item (idempotent: a ticked item keeps its first time)."""
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.status != S.IN_PROGRESS:
            raise ValidationError("The offboarding is already completed", code="offboarding_closed")
        for entry in offboarding.checklist:
            if entry.get("item") == item:
                if not entry.get("done_at"):
                    entry["done_at"] = clock.now().isoformat()
                    offboarding.save(update_fields=["checklist"])
                return offboarding
        raise ValidationError(f"{item!r} is not on the offboarding checklist", code="unknown_item")


def record_access_revoked(*, offboarding: Offboarding) -> Offboarding:
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.access_revoked_at is None:
            offboarding.access_revoked_at = clock.now()
            offboarding.save(update_fields=["access_revoked_at"])
        return offboarding


def complete_offboarding(*, offboarding: Offboarding, handover_document: str | None = None) -> Offboarding:
    """Close the offboarding once every checklist item is done; the client is offboarded."""
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.status == S.COMPLETED:
            return offboarding
        open_items = [e["item"] for e in offboarding.checklist if not e.get("done_at")]
        if open_items:
            raise ValidationError(f"Checklist items still open: {', '.join(open_items)}", code="items_open")
        also = ["completed_at"]
        if handover_document is not None:
            offboarding.handover_document = handover_document
            also.append("handover_document")
        offboarding.completed_at = clock.now()
        offboarding.transition_to(S.COMPLETED, also=also)
        client = Client.objects.select_for_update().get(pk=offboarding.client_id)
        client.transition_to(Client.Status.OFFBOARDED)
        return offboarding
