"""The database-backed ``local`` VectorStore and Memory, the no-service defaults."""

from __future__ import annotations

import pytest

from integrations.local import LocalMemory, LocalVectorStore
from integrations.local.embedding import cosine, embed
from integrations.models import LocalVector, MemoryEntry
from integrations.roles import get_role
from integrations.values import MemoryMessage, VectorRecord
from tests.factories.integrations import LocalVectorFactory, MemoryEntryFactory

pytestmark = pytest.mark.django_db


def test_the_embedding_is_deterministic_and_favours_shared_words() -> None:
    assert embed("dental clinic in Austin") == embed("dental clinic in Austin")
    near = cosine(embed("dental clinic in Austin"), embed("a dental clinic"))
    far = cosine(embed("dental clinic in Austin"), embed("shipping containers"))
    assert near > far


def test_upsert_query_delete(django_assert_max_num_queries: object) -> None:
    store = get_role("vector_store")
    assert isinstance(store, LocalVectorStore)
    store.upsert(
        namespace="learnings",
        records=[
            VectorRecord(id="r1", text="never pitch in the first reply", metadata={"agent": "reply_handler"}),
            VectorRecord(id="r2", text="send the case study after a meeting", metadata={"agent": "meeting"}),
            VectorRecord(id="r3", text="first reply should ask one question", metadata={"agent": "reply_handler"}),
        ],
    )
    store.upsert(namespace="other", records=[VectorRecord(id="r1", text="first reply")])
    matches = store.query(namespace="learnings", text="how to write the first reply", top_k=2)
    assert {m.id for m in matches} == {"r1", "r3"}
    filtered = store.query(namespace="learnings", text="first reply", filter={"agent": {"$in": ["meeting"]}})
    assert [m.id for m in filtered] == ["r2"]
    store.upsert(namespace="learnings", records=[VectorRecord(id="r1", text="updated text")])
    assert LocalVector.objects.get(namespace="learnings", record_id="r1").text == "updated text"
    store.delete(namespace="learnings", ids=["r1", "r2"])
    assert list(LocalVector.objects.filter(namespace="learnings").values_list("record_id", flat=True)) == ["r3"]


def test_a_query_is_one_database_read(django_assert_num_queries: object) -> None:
    LocalVectorFactory.create_batch(20, namespace="n")
    store = LocalVectorStore()
    with django_assert_num_queries(1):  # type: ignore[operator]
        store.query(namespace="n", text="note number 3", top_k=3)


def test_query_by_vector() -> None:
    store = LocalVectorStore()
    store.upsert(
        namespace="n", records=[VectorRecord(id="x", values=(1.0, 0.0)), VectorRecord(id="y", values=(0.0, 2.0))]
    )
    assert [m.id for m in store.query(namespace="n", vector=[0.0, 1.0], top_k=1)] == ["y"]


def test_memory_add_and_search_within_and_across_sessions() -> None:
    memory = get_role("memory")
    assert isinstance(memory, LocalMemory)
    memory.add(
        session_id="lead-1",
        messages=[
            MemoryMessage(role="user", name="Dana", content="We lose leads after hours"),
            MemoryMessage(role="assistant", content="A chatbot answers at night"),
        ],
    )
    MemoryEntryFactory.create(session_id="lead-2", content="after hours leads are lost here too")
    hits = memory.search(query="leads after hours", session_id="lead-1")
    assert hits[0].content == "We lose leads after hours" and hits[0].session_id == "lead-1"
    assert {h.session_id for h in memory.search(query="leads after hours", limit=5)} == {"lead-1", "lead-2"}
    assert MemoryEntry.objects.filter(session_id="lead-1").count() == 2
    assert memory.search(query="zzz unrelated") == []
