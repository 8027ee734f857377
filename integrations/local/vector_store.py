"""The ``local`` VectorStore: records in ``LocalVector``, similarity computed in Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from integrations.local.embedding import cosine, embed, normalise
from integrations.models import LocalVector
from integrations.registry import register_provider
from integrations.values import HealthResult, VectorMatch, VectorRecord
from smarter_team import clock


def _matches(metadata: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    # Equality and {"$in": [...]} cover what the agents filter on (agent name, kind, client).
    for key, expected in (filter or {}).items():
        value = metadata.get(key)
        if isinstance(expected, Mapping) and "$in" in expected:
            if value not in expected["$in"]:
                return False
        elif isinstance(expected, Mapping) and "$eq" in expected:
            if value != expected["$eq"]:
                return False
        elif value != expected:
            return False
    return True


@register_provider("vector_store", "local", keys=())
class LocalVectorStore:
    name = "local"

    def health_check(self) -> HealthResult:
        return HealthResult(ok=True, detail="vectors in the database")

    def upsert(self, *, namespace: str, records: Sequence[VectorRecord]) -> int:
        with transaction.atomic():
            for record in records:
                values = normalise(record.values) if record.values is not None else embed(record.text)
                LocalVector.objects.update_or_create(
                    namespace=namespace,
                    record_id=record.id,
                    defaults={
                        "text": record.text,
                        "metadata": dict(record.metadata),
                        "embedding": values,
                        "updated_at": clock.now(),
                    },
                )
        return len(records)

    def query(
        self,
        *,
        namespace: str,
        text: str = "",
        vector: Sequence[float] | None = None,
        top_k: int = 5,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        probe = normalise(vector) if vector is not None else embed(text)
        scored: list[VectorMatch] = []
        rows = LocalVector.objects.filter(namespace=namespace).values_list("record_id", "text", "metadata", "embedding")
        for record_id, row_text, metadata, embedding in rows.iterator(chunk_size=500):
            if not _matches(metadata, filter):
                continue
            scored.append(VectorMatch(id=record_id, score=cosine(probe, embedding), text=row_text, metadata=metadata))
        scored.sort(key=lambda m: (-m.score, m.id))
        return scored[:top_k]

    def delete(self, *, namespace: str, ids: Sequence[str]) -> None:
        LocalVector.objects.filter(namespace=namespace, record_id__in=list(ids)).delete()
