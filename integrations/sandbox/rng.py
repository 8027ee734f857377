"""Seeded randomness: one ``random.Random`` per entity, never the global generator.

Every decision of the world is drawn from ``rng_for(<what>, <entity>...)``: a generator seeded with
``settings.SANDBOX_SEED`` plus a stable hash of the entity. The same seed gives the same world
and the same reactions whatever order things are asked in; another seed gives another world.
"""

from __future__ import annotations

import hashlib
import random

from django.conf import settings


def stable_hash(*parts: object) -> int:
    """A hash that is the same in every process and on every run (unlike ``hash()``)."""
    joined = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(joined.encode()).digest()[:8], "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(int(settings.SANDBOX_SEED) + stable_hash(*parts))  # noqa: S311 - a simulation, not crypto


def sandbox_id(prefix: str, *parts: object, length: int = 16) -> str:
    """A vendor-looking id derived from the seed and the entity (``sbx_doc_3f9a...``)."""
    digest = hashlib.sha256("\x1f".join([str(settings.SANDBOX_SEED), *map(str, parts)]).encode()).hexdigest()
    return f"sbx_{prefix}_{digest[:length]}"
