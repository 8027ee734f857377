"""A client's mood in the sandbox: how satisfied the people we work for are, moved by what we do.

Delivery moves it (milestones on time or late, QA passes, weekly reports, quick answers to change
requests, neglect), retention reads it (renew or churn, NPS and CSAT answers, whether an upsell is
taken). It is hidden, like a company's fit: the agency sees only what the client does and says.

The state is one sandbox record per client contact (their email: a market identity, never our ids).
It starts from the company's fit and each move is recorded under a key, so the same consequence of
the same act (a report for one week, a milestone that slipped) moves the mood once, whatever retries.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from integrations.models import SandboxRecord
from integrations.sandbox.market import find_person
from integrations.sandbox.rng import rng_for
from smarter_team import clock

KIND = "client_mood"
MAX_MOVES_KEPT = 200  # the recent history an operator can read in the sandbox admin


def _initial(email: str) -> float:
    """A new client starts content (they just signed), more so when we fit what they need."""
    fit = find_person(email).company.fit
    return round(min(0.95, 0.55 + 0.3 * fit + rng_for("client-mood", email).uniform(-0.05, 0.05)), 3)


def _record(email: str) -> SandboxRecord:
    address = email.strip().lower()
    record, _ = SandboxRecord.objects.get_or_create(
        kind=KIND, ref=address, defaults={"data": {"email": address, "mood": _initial(address), "moves": []}}
    )
    return record


def mood(email: str) -> float:
    """0 (gone) .. 1 (delighted)."""
    return float(_record(email).data["mood"])


def move(email: str, delta: float, *, key: str, reason: str) -> float:
    """Move the client's mood by ``delta`` once per ``key``; returns the mood after."""
    with transaction.atomic():
        record = SandboxRecord.objects.select_for_update().get(pk=_record(email).pk)
        data: dict[str, Any] = dict(record.data)
        moves = list(data.get("moves", []))
        if any(m["key"] == key for m in moves):
            return float(data["mood"])
        data["mood"] = round(min(1.0, max(0.0, float(data["mood"]) + delta)), 4)
        moves.append({"key": key, "delta": delta, "reason": reason, "at": clock.now().isoformat()})
        data["moves"] = moves[-MAX_MOVES_KEPT:]
        record.data = data
        record.save(update_fields=["data"])
        return float(data["mood"])


def moved(email: str, key: str) -> bool:
    return any(m["key"] == key for m in _record(email).data.get("moves", []))
