"""Pinecone (REST data plane) and Zep."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import respx

from integrations.http import InvalidResponseError
from integrations.local.embedding import DIMENSIONS
from integrations.providers import pinecone_store, zep
from integrations.providers.pinecone_store import PineconeClient
from integrations.providers.zep import ZepClient
from integrations.roles import get_role
from integrations.values import MemoryMessage, VectorRecord
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
CONTROL = "https://api.pinecone.io/indexes/smarter-team"
DATA = "https://smarter-team-abc123.svc.aped-4627-b74a.pinecone.io"
ZEP = "https://api.getzep.com/api/v2"


@pytest.fixture
def pinecone(keys: Callable[..., None], mock_http: respx.MockRouter) -> Iterator[PineconeClient]:
    keys(PINECONE_API_KEY="pcsk_test_secret_0001", PINECONE_INDEX="smarter-team")
    pinecone_store._hosts.clear()
    mock_http.get(CONTROL).respond(200, json=load_fixture("pinecone", "describe_index"))
    chosen = get_role("vector_store")
    assert isinstance(chosen, PineconeClient)
    yield chosen
    pinecone_store._hosts.clear()


def test_pinecone_upserts_embedded_text_to_the_index_host(
    pinecone: PineconeClient, mock_http: respx.MockRouter
) -> None:
    route = mock_http.post(f"{DATA}/vectors/upsert").respond(200, json=load_fixture("pinecone", "upsert"))
    written = pinecone.upsert(
        namespace="learnings",
        records=[
            VectorRecord(id="rule-1", text="Never pitch in the first reply.", metadata={"agent": "reply_handler"}),
            VectorRecord(id="rule-2", text="Mention the case study.", values=(3.0, 4.0)),
        ],
    )
    assert written == 2
    sent = body(route)
    assert sent["namespace"] == "learnings"
    assert len(sent["vectors"][0]["values"]) == DIMENSIONS
    assert sent["vectors"][1]["values"] == [0.6, 0.8]
    assert sent["vectors"][0]["metadata"] == {"agent": "reply_handler", "text": "Never pitch in the first reply."}
    request = route.calls.last.request
    assert request.headers["Api-Key"] == "pcsk_test_secret_0001"
    assert request.headers["X-Pinecone-API-Version"] == "2025-04"


def test_pinecone_query_and_delete(pinecone: PineconeClient, mock_http: respx.MockRouter) -> None:
    query = mock_http.post(f"{DATA}/query").respond(200, json=load_fixture("pinecone", "query"))
    matches = pinecone.query(
        namespace="learnings", text="first reply pitch", top_k=3, filter={"agent": "reply_handler"}
    )
    assert [(m.id, m.text, m.metadata) for m in matches] == [
        ("rule-1", "Never pitch in the first reply.", {"agent": "reply_handler"})
    ]
    assert body(query)["topK"] == 3 and body(query)["filter"] == {"agent": "reply_handler"}
    delete = mock_http.post(f"{DATA}/vectors/delete").respond(200, json={})
    pinecone.delete(namespace="learnings", ids=["rule-1"])
    assert body(delete) == {"ids": ["rule-1"], "namespace": "learnings"}
    assert mock_http.routes[0].call_count == 1  # the host was looked up once


def test_pinecone_match_without_score_is_invalid(pinecone: PineconeClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{DATA}/query").respond(200, json={"matches": [{"id": "x"}]})
    with pytest.raises(InvalidResponseError) as caught:
        pinecone.query(namespace="n", text="t")
    assert caught.value.field == "matches.0.score"


@pytest.fixture
def zep_client(keys: Callable[..., None]) -> Iterator[ZepClient]:
    keys(ZEP_API_KEY="z_test_secret_0001")
    zep._ready_sessions.clear()
    chosen = get_role("memory")
    assert isinstance(chosen, ZepClient)
    yield chosen
    zep._ready_sessions.clear()


def test_zep_add_creates_user_and_session_once(zep_client: ZepClient, mock_http: respx.MockRouter) -> None:
    users = mock_http.post(f"{ZEP}/users").respond(400, json={"message": "user already exists"})
    sessions = mock_http.post(f"{ZEP}/sessions").respond(201, json={"session_id": "lead-42"})
    memory = mock_http.post(f"{ZEP}/sessions/lead-42/memory").respond(200, json=load_fixture("zep", "add_memory"))
    for _ in range(2):
        zep_client.add(session_id="lead-42", messages=[MemoryMessage(role="user", name="Dana", content="Hi")])
    assert (users.call_count, sessions.call_count, memory.call_count) == (1, 1, 2)
    assert body(memory)["messages"] == [{"role_type": "user", "role": "Dana", "content": "Hi", "metadata": {}}]
    assert memory.calls.last.request.headers["Authorization"] == "Api-Key z_test_secret_0001"


def test_zep_search_maps_message_hits(zep_client: ZepClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{ZEP}/sessions/search").respond(200, json=load_fixture("zep", "search"))
    hits = zep_client.search(query="after hours", session_id="lead-42", limit=3)
    assert [(h.session_id, h.content, h.role) for h in hits] == [("lead-42", "We lose leads after hours.", "user")]
    assert body(route)["session_ids"] == ["lead-42"] and route.calls.last.request.url.params["limit"] == "3"
    mock_http.get(f"{ZEP}/sessions-ordered").respond(200, json=load_fixture("zep", "sessions"))
    assert zep_client.health_check().detail == "1 sessions"
