"""The ``local`` Memory: conversation messages in ``MemoryEntry``, searched by meaning."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.local.embedding import cosine, embed
from integrations.models import MemoryEntry
from integrations.registry import register_provider
from integrations.values import HealthResult, MemoryHit, MemoryMessage

# Memory search scans the newest rows only: old conversations matter less and the scan stays cheap.
SEARCH_WINDOW = 5000


@register_provider("memory", "local", keys=())
class LocalMemory:
    name = "local"

    def health_check(self) -> HealthResult:
        return HealthResult(ok=True, detail="memory in the database")

    def add(self, *, session_id: str, messages: Sequence[MemoryMessage]) -> None:
        MemoryEntry.objects.bulk_create(
            [
                MemoryEntry(
                    session_id=session_id,
                    role=m.role,
                    name=m.name,
                    content=m.content,
                    metadata=dict(m.metadata),
                    embedding=embed(m.content),
                )
                for m in messages
            ]
        )

    def search(self, *, query: str, session_id: str | None = None, limit: int = 5) -> list[MemoryHit]:
        probe = embed(query)
        rows = MemoryEntry.objects.order_by("-created_at", "-id")
        if session_id is not None:
            rows = rows.filter(session_id=session_id)
        hits = [
            MemoryHit(session_id=sid, content=content, role=role, score=cosine(probe, embedding))
            for sid, content, role, embedding in rows.values_list("session_id", "content", "role", "embedding")[
                :SEARCH_WINDOW
            ]
        ]
        hits = [h for h in hits if h.score > 0]
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]
