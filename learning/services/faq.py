"""FAQ write paths and retrieval for the knowledge_base agent.

Default retrieval is local (``learning.embeddings`` vectors in FAQ.embedding, TF-IDF weighted cosine).
When a real vector store (Pinecone) is configured for the ``vector_store`` role, FAQs are also indexed
there and searched through it; a failing store falls back to the local search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import F

from learning.embeddings import cosine, embed, idf_weights, weighted
from learning.models import FAQ
from smarter_team import clock

logger = logging.getLogger(__name__)
NAMESPACE = "faq"


def _document(faq: FAQ) -> str:
    # The question counts twice: a prospect's question resembles our question more than our answer.
    tags = " ".join(str(t) for t in faq.tags or [])
    return f"{faq.question}\n{faq.question}\n{faq.answer}\n{tags}"


def external_store() -> object | None:
    """The configured vector store when it is a real service (not the local default), else None."""
    try:
        from integrations.registry import LOCAL, choose_provider
        from integrations.roles import get_role

        if choose_provider("vector_store") == LOCAL:
            return None
        return get_role("vector_store")
    except (ImportError, LookupError):
        return None


def _push(faqs: Sequence[FAQ]) -> None:
    store = external_store()
    if store is None or not faqs:
        return
    from integrations.values import VectorRecord

    records = [
        VectorRecord(
            id=f"faq:{f.pk}",
            text=_document(f),
            metadata={"faq_id": f.pk, "category": f.category, "approved": f.approved},
        )
        for f in faqs
    ]
    try:
        store.upsert(namespace=NAMESPACE, records=records)  # type: ignore[attr-defined]
    except Exception as exc:  # the local vectors still serve; the next reindex pushes again
        logger.warning("vector store upsert of %d FAQs failed: %s", len(records), type(exc).__name__)


@transaction.atomic
def save_faq(
    *,
    question: str,
    answer: str,
    category: str = "",
    tags: Iterable[str] = (),
    approved: bool = False,
    faq: FAQ | None = None,
) -> FAQ:
    """Create or update a FAQ, with its embedding (and the external index when there is one)."""
    faq = faq or FAQ()
    faq.question, faq.answer = question.strip(), answer.strip()
    faq.category, faq.tags, faq.approved = category.strip(), [str(t) for t in tags], approved
    faq.embedding = embed(_document(faq))
    faq.save()
    transaction.on_commit(lambda: _push([faq]))
    return faq


def refresh_embedding(*, faq: FAQ) -> FAQ:
    """Recompute one FAQ's vector after an edit made elsewhere (the admin's save calls this)."""
    faq.embedding = embed(_document(faq))
    faq.save(update_fields=["embedding"])
    transaction.on_commit(lambda: _push([faq]))
    return faq


def reindex(*, batch: int = 200) -> int:
    """Recompute every vector (e.g. after LEARNING_EMBEDDING_DIM changed) and push them to the store."""
    done = 0
    faqs = list(FAQ.objects.order_by("pk"))
    for i in range(0, len(faqs), batch):
        chunk = faqs[i : i + batch]
        for faq in chunk:
            faq.embedding = embed(_document(faq))
        FAQ.objects.bulk_update(chunk, ["embedding", "updated_at"])
        _push(chunk)
        done += len(chunk)
    return done


def _local_search(question: str, *, top_k: int, approved_only: bool, min_score: float) -> list[tuple[FAQ, float]]:
    qs = FAQ.objects.all()
    if approved_only:
        qs = qs.filter(approved=True)
    faqs = [f for f in qs if f.embedding]
    if not faqs:
        return []
    idf = idf_weights([f.embedding for f in faqs])
    query = weighted(embed(question, dim=len(faqs[0].embedding)), idf)
    scored = [(f, cosine(query, weighted(f.embedding, idf))) for f in faqs]
    scored = [(f, round(s, 4)) for f, s in scored if s > min_score]
    scored.sort(key=lambda pair: (-pair[1], pair[0].pk))
    return scored[:top_k]


def _external_search(
    store: object, question: str, *, top_k: int, approved_only: bool, min_score: float
) -> list[tuple[FAQ, float]]:
    flt = {"approved": True} if approved_only else None
    matches = store.query(namespace=NAMESPACE, text=question, top_k=top_k, filter=flt)  # type: ignore[attr-defined]
    ids = [int(m.metadata.get("faq_id") or str(m.id).split(":")[-1]) for m in matches]
    faqs = FAQ.objects.in_bulk(ids)
    found = []
    for m, pk in zip(matches, ids, strict=True):
        faq = faqs.get(pk)
        if faq is not None and (faq.approved or not approved_only) and m.score > min_score:
            found.append((faq, round(float(m.score), 4)))
    return found


def search(
    question: str, top_k: int = 3, *, approved_only: bool = True, min_score: float = 0.0
) -> list[tuple[FAQ, float]]:
    """The FAQs closest to ``question``, best first, with their cosine score (0-1)."""
    if not (question or "").strip() or top_k <= 0:
        return []
    store = external_store()
    if store is not None:
        try:
            return _external_search(store, question, top_k=top_k, approved_only=approved_only, min_score=min_score)
        except Exception as exc:  # the local index answers while the store is down
            logger.warning("vector store query failed (%s); searching FAQs locally", type(exc).__name__)
    return _local_search(question, top_k=top_k, approved_only=approved_only, min_score=min_score)


def mark_used(*, faqs: Iterable[FAQ]) -> int:
    """Count an answer as used (the knowledge_base agent calls this for the FAQs its reply relied on)."""
    ids = sorted({f.pk for f in faqs})
    if not ids:
        return 0
    now = clock.now()
    return FAQ.objects.filter(pk__in=ids).update(times_used=F("times_used") + 1, last_used_at=now, updated_at=now)


def set_approved(*, faqs: Iterable[FAQ], approved: bool) -> int:
    """Approve or withdraw FAQs (only approved ones answer prospects)."""
    chosen = list(faqs)
    for faq in chosen:
        faq.approved = approved
    FAQ.objects.bulk_update(chosen, ["approved", "updated_at"])
    transaction.on_commit(lambda: _push(chosen))
    return len(chosen)
