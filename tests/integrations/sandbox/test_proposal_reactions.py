"""The sandbox's proposal reactions (SANDBOX.md "proposals"): the price against the buyer's hidden
budget, fit, our follow-ups and their spacing, and the validity date, each in its direction over a
few hundred seeded documents; then the market applying them to real sends and follow-ups."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from integrations.models import SandboxEvent, SandboxRecord
from integrations.roles import get_role
from integrations.sandbox import proposals
from integrations.sandbox.behaviour import (
    BUDGET_REASONS,
    MIN_NUDGE_GAP,
    PRESSURE_REASON,
    Nudges,
    document_fate,
    nudge_kind,
    price_factor,
)
from integrations.sandbox.world import Person, search_people
from integrations.values import Recipient
from smarter_team import clock

N = 400


UNCHASED = Nudges()


def outcomes(*, fit: float, ratio: float | None, nudges: Nudges = UNCHASED) -> Counter[str]:
    return Counter(
        document_fate(document_id=f"doc-{i}", fit=fit, price_ratio=ratio, nudges=nudges).outcome for i in range(N)
    )


def test_within_budget_the_price_does_not_count_and_above_it_the_odds_fall() -> None:
    assert price_factor(None) == price_factor(0.5) == price_factor(1.0) == 1.0
    assert 1.0 > price_factor(1.2) > price_factor(1.5) > price_factor(1.8) > price_factor(3.0) > 0
    within, over, far = (outcomes(fit=0.8, ratio=r)["completed"] for r in (0.9, 1.3, 2.0))
    assert within > over > far
    assert within / N > 0.3 and far / N < 0.05


def test_far_over_budget_is_mostly_declined_for_budget() -> None:
    fates = [document_fate(document_id=f"doc-{i}", fit=0.8, price_ratio=2.0) for i in range(N)]
    declined = [f for f in fates if f.outcome == "declined"]
    assert len(declined) > N / 2
    assert all(f.decline_reason in BUDGET_REASONS for f in declined)


def test_within_budget_the_odds_of_signing_follow_fit() -> None:
    good, poor = outcomes(fit=0.85, ratio=0.9), outcomes(fit=0.3, ratio=0.9)
    assert good["completed"] > poor["completed"] * 1.5
    assert poor["declined"] > good["declined"]


def test_welcome_follow_ups_bring_decisions_and_signatures() -> None:
    none, one, three = (outcomes(fit=0.7, ratio=0.9, nudges=Nudges(welcome=n)) for n in (0, 1, 3))
    assert none["silent"] > one["silent"] > three["silent"]
    assert none["completed"] < one["completed"] < three["completed"]


def test_a_follow_up_only_ever_moves_the_same_buyer_towards_yes() -> None:
    # The same draws whatever the follow-ups: a nudge tips buyers, it does not reshuffle them.
    for i in range(N):
        before = document_fate(document_id=f"doc-{i}", fit=0.6, price_ratio=1.1)
        after = document_fate(document_id=f"doc-{i}", fit=0.6, price_ratio=1.1, nudges=Nudges(welcome=2))
        assert (before.outcome, after.outcome) not in {("completed", "declined"), ("completed", "silent")}
        assert before.viewed <= after.viewed


def test_too_many_or_too_fast_annoys() -> None:
    assert nudge_kind(gap=MIN_NUDGE_GAP, number=1) == "welcome"
    assert nudge_kind(gap=MIN_NUDGE_GAP - dt.timedelta(hours=1), number=1) == "annoying"
    assert nudge_kind(gap=dt.timedelta(days=5), number=4) == "annoying"
    calm, pushy = (
        outcomes(fit=0.7, ratio=0.9, nudges=Nudges(welcome=2)),
        outcomes(fit=0.7, ratio=0.9, nudges=Nudges(welcome=2, annoying=2)),
    )
    assert pushy["completed"] < calm["completed"] and pushy["declined"] > calm["declined"]
    reasons = Counter(
        document_fate(document_id=f"doc-{i}", fit=0.7, price_ratio=0.9, nudges=Nudges(annoying=3)).decline_reason
        for i in range(N)
    )
    assert reasons[PRESSURE_REASON] > N / 10


# --- the market, on the clock -----------------------------------------------------------------------


def buyers(count: int) -> list[Person]:
    people = search_people(query="dental clinics", location="", start=0, count=count * 3)
    chosen = [p for p in people if p.company.fit >= 0.6][:count]
    SandboxRecord.objects.bulk_create(
        [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in chosen], ignore_conflicts=True
    )
    return chosen


def send(person: Person, *, key: str, price: float | None, valid_days: int = 30) -> str:
    documents = get_role("documents")
    fields = {"Proposal.ValidUntil": (clock.today() + dt.timedelta(days=valid_days)).isoformat()}
    if price is not None:
        fields |= {"Proposal.Total": f"{price:.2f}", "Proposal.Currency": "USD"}
    doc = documents.create_document(
        idempotency_key=key, name="Proposal", recipients=[Recipient(email=person.email)], fields=fields
    )
    documents.send_document(document_id=doc.document_id)
    return doc.document_id


def nudge(person: Person, key: str) -> None:
    get_role("outreach").send_email(
        idempotency_key=key, from_mailbox="alex@agency.example", to=person.email, subject="The proposal",
        body="Hi, did the proposal reach you?", headers={},
    )  # fmt: skip


def states(document_ids: list[str]) -> Counter[str]:
    documents = get_role("documents")
    return Counter(documents.get_status(d).status for d in document_ids)


@pytest.mark.django_db
def test_the_buyer_weighs_the_documents_price_against_their_budget(frozen_clock: Any) -> None:
    people = buyers(120)
    within = [send(p, key=f"in:{p.email}", price=p.company.budget * 0.8) for p in people[:60]]
    over = [send(p, key=f"over:{p.email}", price=p.company.budget * 2.2) for p in people[60:]]
    frozen_clock.tick(dt.timedelta(days=40))
    ok, far = states(within), states(over)
    assert ok["completed"] > far["completed"] * 3
    assert far["declined"] > len(over) / 2
    declines = SandboxEvent.objects.filter(kind="doc_declined", subject__in=over)
    assert all(e.payload[0]["data"]["decline_reason"].startswith("Budget") for e in declines)


@pytest.mark.django_db
def test_follow_ups_while_undecided_raise_signatures_and_pushing_lowers_them(frozen_clock: Any) -> None:
    people = buyers(180)
    groups: dict[str, list[str]] = {"none": [], "spaced": [], "pushy": []}
    for n, person in enumerate(people):
        name = ("none", "spaced", "pushy")[n % 3]
        groups[name].append(send(person, key=f"doc:{person.email}", price=person.company.budget * 0.9))
    start = frozen_clock.now
    plan = {"spaced": (3, 7, 14), "pushy": (0.4, 0.8, 1.2, 1.6)}  # days after the send
    moments = sorted({d for days in plan.values() for d in days})
    for day in moments:
        frozen_clock.set(start + dt.timedelta(days=day))
        for n, person in enumerate(people):
            name = ("none", "spaced", "pushy")[n % 3]
            if day in plan.get(name, ()):
                nudge(person, f"nudge:{person.email}:{day}")
    frozen_clock.set(start + dt.timedelta(days=40))
    none, spaced, pushy = (states(groups[g]) for g in ("none", "spaced", "pushy"))
    assert spaced["completed"] > none["completed"] and spaced["voided"] < none["voided"]
    assert pushy["completed"] < spaced["completed"] and pushy["declined"] > spaced["declined"]


@pytest.mark.django_db
def test_an_undecided_document_expires_at_the_end_of_its_validity(frozen_clock: Any) -> None:
    people = buyers(160)
    short = [send(p, key=f"short:{p.email}", price=p.company.budget * 0.8, valid_days=2) for p in people[:80]]
    long = [send(p, key=f"long:{p.email}", price=p.company.budget * 0.8, valid_days=30) for p in people[80:]]
    frozen_clock.tick(dt.timedelta(days=3))
    assert states(short)["voided"] > states(long)["voided"] == 0
    frozen_clock.tick(dt.timedelta(days=40))
    quick, slow = states(short), states(long)
    assert quick["completed"] < slow["completed"] and quick["voided"] > slow["voided"] > 0
    ends = dt.datetime.combine(clock.today(), dt.time())  # nothing is decided after a document expired
    for document_id in short:
        voided = SandboxEvent.objects.filter(subject=document_id, kind="doc_voided").first()
        if voided is not None:
            assert (
                not SandboxEvent.objects.filter(
                    subject=document_id, kind__in=["doc_completed", "doc_declined"], due_at__gt=voided.due_at
                )
                .exclude(status="canceled")
                .exists()
            ), ends


@pytest.mark.django_db
def test_a_follow_up_about_an_open_proposal_is_not_read_as_a_cold_email(frozen_clock: Any) -> None:
    [person] = buyers(1)
    document_id = send(person, key="doc:open", price=person.company.budget * 0.9)
    nudge(person, "nudge:open")
    [email] = SandboxRecord.objects.filter(kind="email")
    assert not SandboxEvent.objects.filter(key__startswith=f"instantly:{email.ref}:").exists()
    document = SandboxRecord.objects.get(kind="document", ref=document_id).data
    assert [n["kind"] for n in document["nudges"]] == ["annoying"]  # the same hour as the send: too soon


@pytest.mark.django_db
def test_a_note_about_an_expired_proposal_is_no_cold_email_and_strangers_get_the_usual(frozen_clock: Any) -> None:
    [person, stranger] = buyers(2)
    document_id = send(person, key="doc:expired", price=None, valid_days=1)
    frozen_clock.tick(dt.timedelta(days=3))
    if states([document_id])["voided"]:
        assert proposals.follow_up_received(to=person.email, now=clock.now())
    assert not proposals.follow_up_received(to=stranger.email, now=clock.now())
