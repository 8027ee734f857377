from __future__ import annotations

import pytest

from learning.embeddings import cosine, embed, idf_weights, tokens, weighted
from learning.models import FAQ
from learning.services import faq as faq_services
from tests.factories.learning import FAQFactory

FAQS = [
    ("How much does an AI automation project cost?", "Projects start at $5,000; we quote after a discovery call."),
    ("How long does onboarding take?", "Onboarding takes about two weeks from the signed proposal."),
    ("Do you sign an NDA?", "Yes, we sign mutual NDAs before any data is shared."),
    ("Which CRMs do you integrate with?", "HubSpot, Salesforce, Pipedrive and GoHighLevel."),
]


def test_embedding_is_deterministic_unit_length_and_needs_no_model() -> None:
    a = embed("How much does it cost?")
    assert a == embed("How much does it cost?")
    assert sum(v * v for v in a) == pytest.approx(1.0)
    assert embed("") == [0.0] * len(a)


def test_character_trigrams_relate_word_forms() -> None:
    related = cosine(embed("invoice"), embed("invoices"))
    assert related > 0.45
    assert related > 3 * abs(cosine(embed("invoice"), embed("meeting")))


def test_stopwords_are_ignored() -> None:
    assert "w:the" not in tokens("the price")


def test_idf_downweights_common_dimensions() -> None:
    docs = [embed(q) for q, _ in FAQS]
    idf = idf_weights(docs)
    assert len(idf) == len(docs[0]) and min(idf) >= 1.0
    assert sum(v * v for v in weighted(docs[0], idf)) == pytest.approx(1.0)


@pytest.fixture
def faqs(db) -> list[FAQ]:
    return [faq_services.save_faq(question=q, answer=a, approved=True) for q, a in FAQS]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what's the price of a project?", 0),
        ("how much would it cost us", 0),
        ("how many weeks until onboarding is done", 1),
        ("will you sign our non-disclosure agreement (NDA)?", 2),
        ("can you connect to salesforce", 3),
    ],
)
def test_search_finds_the_right_faq(faqs: list[FAQ], question: str, expected: int) -> None:
    results = faq_services.search(question, top_k=3)
    assert results and results[0][0] == faqs[expected]
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


@pytest.mark.django_db
def test_unapproved_faqs_are_not_answers(faqs: list[FAQ]) -> None:
    faq_services.set_approved(faqs=[faqs[2]], approved=False)
    assert all(f != faqs[2] for f, _ in faq_services.search("do you sign an NDA", top_k=4))
    assert faq_services.search("do you sign an NDA", top_k=1, approved_only=False)[0][0] == faqs[2]


@pytest.mark.django_db
def test_search_edge_cases(faqs: list[FAQ]) -> None:
    assert faq_services.search("   ") == []
    assert faq_services.search("cost", top_k=0) == []
    assert len(faq_services.search("project", top_k=2)) <= 2


@pytest.mark.django_db
def test_mark_used_counts_and_stamps(faqs: list[FAQ], frozen_clock) -> None:
    assert faq_services.mark_used(faqs=[faqs[0], faqs[0], faqs[1]]) == 2
    faqs[0].refresh_from_db()
    assert faqs[0].times_used == 1 and faqs[0].last_used_at == frozen_clock.now


@pytest.mark.django_db
def test_reindex_fills_missing_vectors() -> None:
    faq = FAQFactory.create(question="Do you offer refunds?", answer="Within 14 days.")
    assert faq.embedding == []
    assert faq_services.reindex() == 1
    faq.refresh_from_db()
    assert len(faq.embedding) == 512
    assert faq_services.search("refund policy")[0][0] == faq


@pytest.mark.django_db
def test_a_configured_vector_store_is_used_and_a_failing_one_falls_back(faqs: list[FAQ], monkeypatch) -> None:
    from integrations.values import VectorMatch

    class Store:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        def query(self, **kw):
            if self.fail:
                raise RuntimeError("pinecone down")
            return [VectorMatch(id=f"faq:{faqs[3].pk}", score=0.9, metadata={"faq_id": faqs[3].pk})]

    monkeypatch.setattr(faq_services, "external_store", lambda: Store(fail=False))
    assert faq_services.search("anything") == [(faqs[3], 0.9)]
    monkeypatch.setattr(faq_services, "external_store", lambda: Store(fail=True))
    assert faq_services.search("how much does it cost")[0][0] == faqs[0]


@pytest.mark.django_db
def test_local_store_is_the_default() -> None:
    assert faq_services.external_store() is None
