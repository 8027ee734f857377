"""The sandbox world's memory: records of what the agency made, and events due later.

Scheduling is idempotent by key (the same consequence of the same act is scheduled once), and
both tables are written in the caller's transaction, so a rolled-back run leaves no trace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from integrations.models import SandboxEvent, SandboxRecord
from smarter_team import clock
from smarter_team.db import insert_new


def remember(*, kind: str, ref: str, data: dict[str, Any]) -> dict[str, Any]:
    """Store a record once; returns what is stored (the first call's data wins)."""
    stored = recall(kind=kind, ref=ref)
    if stored is not None:
        return stored
    return remember_new(kind=kind, ref=ref, data=data)


def remember_new(*, kind: str, ref: str, data: dict[str, Any]) -> dict[str, Any]:
    """``remember`` for a caller that has just recalled nothing under ``ref`` (a send): no second look."""
    # One INSERT ... ON CONFLICT DO NOTHING: get_or_create's insert took a savepoint around it (three
    # statements, in the sending run's transaction) for a record that is nearly always new. A
    # concurrent writer that got there first keeps its data, which is read back.
    if insert_new(SandboxRecord(kind=kind, ref=ref, data=data, created_at=clock.now()), unique=["kind", "ref"]):
        return dict(data)
    return recall(kind=kind, ref=ref) or dict(data)


def ref_for(*, kind: str, key: str, made_by: Callable[[dict[str, Any]], str], ref: Callable[[int], str]) -> str:
    """The ref of the record our ``key`` makes, from the market's own identities (``ref(0)``; the n-th
    other record of that identity, made under another key, is ``ref(n)``). A fate drawn from a ref
    made of our key (which names our database ids) differed on every database (SANDBOX.md: never
    seeded by our ids or outbox keys); the key still makes its record once: ``made_by`` reads the key
    a record was made under."""
    for n in range(1000):
        candidate = ref(n)
        made = recall(kind=kind, ref=candidate)
        if made is None or made_by(made) == key:
            return candidate
    raise ValueError(f"a thousand {kind} records of one identity")


def recall(*, kind: str, ref: str) -> dict[str, Any] | None:
    record = SandboxRecord.objects.filter(kind=kind, ref=ref).only("data").first()
    return dict(record.data) if record is not None else None


def update_record(*, kind: str, ref: str, **changes: Any) -> dict[str, Any]:
    with transaction.atomic():
        record = SandboxRecord.objects.select_for_update().get(kind=kind, ref=ref)
        record.data = {**record.data, **changes}
        record.save(update_fields=["data"])
    return dict(record.data)


def records(
    *, kind: str, party: str | None = None, domain: str | None = None, **data_filters: Any
) -> list[dict[str, Any]]:
    """The records of ``kind`` (oldest first) matching ``data_filters`` on their data. ``party`` (the
    address a record concerns) and ``domain`` are SandboxRecord's indexed columns: the way to narrow
    a kind with many records down, where a filter on the data would read them all."""
    lookups: dict[str, Any] = {f"data__{k}": v for k, v in data_filters.items()}
    if party is not None:
        lookups["party"] = party
    if domain is not None:
        lookups["domain"] = domain
    return [dict(r.data) for r in SandboxRecord.objects.filter(kind=kind, **lookups).order_by("created_at", "id")]


def schedule(*, key: str, provider: str, kind: str, subject: str, payload: Any, due_at: dt.datetime) -> SandboxEvent:
    event, _ = SandboxEvent.objects.get_or_create(
        key=key[:200],
        defaults={"provider": provider, "kind": kind, "subject": subject[:128], "payload": payload, "due_at": due_at},
    )
    return event


def cancel_pending(*, subject: str, kinds: Iterable[str] | None = None) -> int:
    """Cancel what the world had planned for ``subject`` (a booking moved, an invoice voided)."""
    pending = SandboxEvent.objects.select_for_update().filter(subject=subject, status=SandboxEvent.Status.PENDING)
    if kinds is not None:
        pending = pending.filter(kind__in=list(kinds))
    canceled = 0
    with transaction.atomic():
        for event in pending:
            event.transition_to(SandboxEvent.Status.CANCELED)
            canceled += 1
    return canceled


def latest_happened(*, subject: str, kinds: Iterable[str]) -> SandboxEvent | None:
    """The last thing that has happened to ``subject`` among ``kinds`` by now (reported or not yet:
    the world's truth does not wait for the webhook)."""
    return (
        SandboxEvent.objects.filter(
            subject=subject,
            kind__in=list(kinds),
            status__in=[SandboxEvent.Status.PENDING, SandboxEvent.Status.DELIVERED],
            due_at__lte=clock.now(),
        )
        .order_by("-due_at", "-id")
        .first()
    )
