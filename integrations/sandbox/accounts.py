"""A client's mood in the sandbox: how satisfied the people we work for are, moved by what we do.

Delivery moves it (milestones on time or late, QA passes, weekly reports, quick answers to change
requests, neglect), retention reads it (renew or churn, NPS and CSAT answers, whether an upsell is
taken). It is hidden, like a company's fit: the agency sees only what the client does and says.

The state is one sandbox record per client contact (their email: a market identity, never our ids).
It starts from the company's fit and each move is recorded under a key, so the same consequence of
the same act (a report for one week, a milestone that slipped) moves the mood once, whatever retries.
The keys applied are rows of their own (``KEY_KIND``, one per client and key, found by the unique
index), apart from the readable history of recent moves, which is cut to ``MAX_MOVES_KEPT``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction

from integrations.models import SandboxRecord
from integrations.sandbox.market import find_person
from integrations.sandbox.rng import rng_for
from smarter_team import clock

KIND = "client_mood"
KEY_KIND = "client_mood_key"  # one row per key that moved a client's mood
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


def _key_ref(address: str, key: str) -> str:
    """The row of one applied key: a digest, as a key may be longer than a ref (a milestone's name)."""
    return hashlib.sha256(f"{address}\x1f{key}".encode()).hexdigest()


def move(email: str, delta: float, *, key: str, reason: str) -> float:
    """Move the client's mood by ``delta`` once per ``key``; returns the mood after.

    "Once" is for good, not only while the key is among the recent moves kept for reading: a key
    that fell off that history moved the mood again (an unanswered message, weighed once, was
    weighed again every day once a busy client had 200 later moves). Whether a key was applied is
    one indexed lookup of its row; keeping every key in the client's record instead made each move
    read and rewrite all the keys before it (a year of moves: quadratic)."""
    address = email.strip().lower()
    with transaction.atomic():
        record = SandboxRecord.objects.select_for_update().get(pk=_record(address).pk)
        data: dict[str, Any] = dict(record.data)
        moves = list(data.get("moves", []))
        _, new = SandboxRecord.objects.get_or_create(
            kind=KEY_KIND, ref=_key_ref(address, key), defaults={"data": {"email": address, "key": key}}
        )
        # A record from before keys had rows of their own holds its applied keys only in its history.
        if not new or any(m["key"] == key for m in moves):
            return float(data["mood"])
        data["mood"] = round(min(1.0, max(0.0, float(data["mood"]) + delta)), 4)
        moves.append({"key": key, "delta": delta, "reason": reason, "at": clock.now().isoformat()})
        data["moves"] = moves[-MAX_MOVES_KEPT:]
        record.data = data
        record.save(update_fields=["data"])
        return float(data["mood"])


def moved(email: str, key: str) -> bool:
    address = email.strip().lower()
    if SandboxRecord.objects.filter(kind=KEY_KIND, ref=_key_ref(address, key)).exists():
        return True
    record = SandboxRecord.objects.filter(kind=KIND, ref=address).first()
    return record is not None and any(m["key"] == key for m in record.data.get("moves", []))
