"""Pinecone: vector search at scale (the VectorStore role), through its REST data plane.

API reference: https://docs.pinecone.io/reference/api/introduction

Why REST through the base client and not the ``pinecone`` SDK: the SDK (10.x) has its own
transport and retries, so it would bypass our timeouts, breaker, ApiUsage rows and typed errors,
and it speaks API version 2026-07. The data plane is three small JSON endpoints, documented and
versioned by header; tests/integrations/specs/test_pinecone_spec.py checks them against the
2025-04 OpenAPI documents and against the calls the SDK itself builds.

Records without a vector are embedded with integrations.local.embedding (256 dimensions), so the
index must be created with dimension 256 and metric cosine; the text rides in metadata["text"].
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, Rate
from integrations.local.embedding import embed, normalise
from integrations.registry import register_provider
from integrations.values import VectorMatch, VectorRecord

DESCRIBE_INDEX = "https://api.pinecone.io/indexes/{index}"  # https://docs.pinecone.io/reference/api/2025-04/control-plane/describe_index
UPSERT = "vectors/upsert"  # https://docs.pinecone.io/reference/api/2025-04/data-plane/upsert
QUERY = "query"  # https://docs.pinecone.io/reference/api/2025-04/data-plane/query
DELETE = "vectors/delete"  # https://docs.pinecone.io/reference/api/2025-04/data-plane/delete
API_VERSION = "2025-04"
UPSERT_BATCH = 100  # Pinecone's recommended batch size
MAX_TEXT_IN_METADATA = 30_000  # metadata is capped at 40 KB per record

_hosts: dict[str, str] = {}
_hosts_lock = threading.Lock()


class IndexDescription(pydantic.BaseModel):
    name: str
    host: str
    dimension: int | None = None


class UpsertResult(pydantic.BaseModel):
    upsertedCount: int


class _Match(pydantic.BaseModel):
    id: str
    score: float
    metadata: dict[str, Any] = {}


class QueryResult(pydantic.BaseModel):
    matches: list[_Match]
    namespace: str = ""


@register_provider("vector_store", "pinecone")
class PineconeClient(BaseClient):
    name = "pinecone"
    base_url = ""  # the data-plane host comes from describe_index
    api_key_name = "PINECONE_API_KEY"
    required_keys = ("PINECONE_API_KEY", "PINECONE_INDEX")
    auth_style = "header"
    auth_header = "Api-Key"
    default_headers: ClassVar[dict[str, str]] = {"X-Pinecone-API-Version": API_VERSION}
    rate: ClassVar[Rate | None] = Rate(capacity=20, per_second=50.0)

    def describe_index(self, *, operation: str = "describe_index", attempts: int | None = None) -> IndexDescription:
        return self.get(
            DESCRIBE_INDEX.format(index=self.setting("PINECONE_INDEX")),
            operation=operation,
            model=IndexDescription,
            attempts=attempts,
        )

    def data_url(self, path: str) -> str:
        index = self.setting("PINECONE_INDEX")
        with _hosts_lock:
            host = _hosts.get(index)
        if host is None:
            host = self.describe_index().host
            with _hosts_lock:
                _hosts[index] = host
        return f"https://{host.removeprefix('https://')}/{path}"

    def upsert(self, *, namespace: str, records: Sequence[VectorRecord]) -> int:
        written = 0
        for start in range(0, len(records), UPSERT_BATCH):
            batch = records[start : start + UPSERT_BATCH]
            vectors: list[dict[str, Any]] = [
                {
                    "id": r.id,
                    "values": normalise(r.values) if r.values is not None else embed(r.text),
                    "metadata": {**r.metadata, "text": r.text[:MAX_TEXT_IN_METADATA]},
                }
                for r in batch
            ]
            result = self.post(
                self.data_url(UPSERT),
                operation="upsert",
                model=UpsertResult,
                json={"vectors": vectors, "namespace": namespace},
                idempotent=True,
            )  # an upsert by id is idempotent
            written += result.upsertedCount
        return written

    def query(
        self,
        *,
        namespace: str,
        text: str = "",
        vector: Sequence[float] | None = None,
        top_k: int = 5,
        filter: Mapping[str, Any] | None = None,
    ) -> list[VectorMatch]:
        body: dict[str, Any] = {
            "namespace": namespace,
            "topK": top_k,
            "includeMetadata": True,
            "vector": normalise(vector) if vector is not None else embed(text),
        }
        if filter:
            body["filter"] = dict(filter)
        result = self.post(self.data_url(QUERY), operation="query", model=QueryResult, json=body, idempotent=True)
        return [
            VectorMatch(
                id=m.id,
                score=m.score,
                text=str(m.metadata.get("text", "")),
                metadata={k: v for k, v in m.metadata.items() if k != "text"},
            )
            for m in result.matches
        ]

    def delete(self, *, namespace: str, ids: Sequence[str]) -> None:
        self.request(
            "POST",
            self.data_url(DELETE),
            operation="delete",
            json={"ids": list(ids), "namespace": namespace},
            idempotent=True,
        )

    def ping(self) -> str:
        index = self.describe_index(operation="health_check", attempts=1)
        return f"index {index.name} ({index.dimension} dimensions)"
