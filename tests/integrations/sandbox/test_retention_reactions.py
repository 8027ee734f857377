"""The sandbox's retention reactions (SANDBOX.md "retention"): each one's direction, then the market
applying it to what the agency really sends (emails through the outreach role, proposals as documents)."""

from __future__ import annotations

import datetime as dt
from statistics import mean
from typing import Any

import pytest

from integrations.models import SandboxEvent, SandboxRecord
from integrations.sandbox import accounts, projects, proposals, retention
from integrations.sandbox.deals import SandboxDocuments
from integrations.sandbox.market import SandboxOutreach
from integrations.sandbox.store import schedule
from integrations.values import Recipient
from smarter_team import clock

pytestmark = pytest.mark.django_db
SEEDS = [f"msg_{i}" for i in range(400)]


def test_survey_scores_follow_the_clients_mood() -> None:
    for kind in ("nps", "csat"):
        low = mean(retention.survey_score(kind, mood=0.3, seed=s) for s in SEEDS)
        high = mean(retention.survey_score(kind, mood=0.9, seed=s) for s in SEEDS)
        assert high > low + (4 if kind == "nps" else 1.5), (kind, low, high)
    assert all(0 <= retention.survey_score("nps", mood=m, seed=s) <= 10 for m in (0.0, 1.0) for s in SEEDS[:50])
    assert all(1 <= retention.survey_score("csat", mood=m, seed=s) <= 5 for m in (0.0, 1.0) for s in SEEDS[:50])


def test_a_happier_client_answers_surveys_more_often() -> None:
    def answered(mood: float) -> float:
        return mean(retention.survey_reply("csat", mood=mood, seed=s) is not None for s in SEEDS)

    assert answered(0.9) > answered(0.3) + 0.15
    assert retention.answer_chance(0.5) == pytest.approx(0.45)


def test_the_market_reads_the_question_it_is_asked() -> None:
    assert retention.survey_kind("On a scale from 0 to 10, how likely are you to recommend us?") == "nps"
    assert retention.survey_kind("On a scale from 1 to 5, how satisfied were you?") == "csat"
    assert retention.survey_kind("Your weekly report is attached.") is None
    assert retention.is_save_play("I would like to set up a short check-in call with you this week")
    assert not retention.is_save_play("Invoice INV-2026-00004 is due on Friday")


def test_a_save_play_lifts_an_unhappy_clients_mood_more_than_a_content_ones() -> None:
    assert retention.save_play_lift(0.3) > 5 * retention.save_play_lift(0.8) > 0


def test_renewals_follow_mood() -> None:
    assert retention.renewal_chance(0.3) < 0.15 < 0.5 < retention.renewal_chance(0.7) < retention.renewal_chance(0.9)
    assert 0.7 <= retention.renewal_chance(0.7) <= 0.9  # a contented client renews about 3 or 4 times in 5


def test_even_a_delighted_client_sometimes_leaves_for_reasons_not_ours() -> None:
    assert 0.85 <= retention.renewal_chance(1.0) < 0.95


def test_an_upsell_that_answers_a_stated_need_is_taken_far_more_often() -> None:
    matched = retention.upsell_chance(mood=0.7, matches_need=True)
    unmatched = retention.upsell_chance(mood=0.7, matches_need=False)
    assert matched >= 3 * unmatched
    assert retention.upsell_chance(mood=0.3, matches_need=True) < matched


# --- the market applying them ------------------------------------------------------------------
def _client(email: str, *, mood: float) -> None:
    accounts.mood(email)
    record = SandboxRecord.objects.get(kind=accounts.KIND, ref=email)
    record.data = {**record.data, "mood": mood}
    record.save(update_fields=["data"])


def _send(email: str, key: str, subject: str, body: str) -> str:
    return (
        SandboxOutreach()
        .send_email(
            idempotency_key=key, from_mailbox="alex@agency.example", to=email, subject=subject, body=body, headers={}
        )
        .message_id
    )


def test_a_survey_email_is_answered_through_the_reply_webhook_not_treated_as_cold_mail() -> None:
    answered = []
    for i in range(12):
        email = f"client{i}@harborlaw{i}.com"
        _client(email, mood=0.95)
        message_id = _send(
            email, f"survey:{i}", "Would you recommend us?", "How likely are you to recommend us, 0 to 10?"
        )
        events = list(SandboxEvent.objects.filter(subject=email))
        assert all(e.kind == "survey_answer" for e in events)  # no cold-email reaction (bounce, unsubscribe...)
        answered += [e for e in events if e.payload["email_id"] == message_id]
    assert len(answered) >= 6
    event = answered[0]
    assert event.provider == "instantly" and event.payload["event_type"] == "reply_received"
    assert event.payload["reply_subject"] == "Re: Would you recommend us?"
    assert any(ch.isdigit() for ch in event.payload["reply_text"])


def test_a_check_in_offer_moves_the_mood_once() -> None:
    email = "dana.cole@brightdental.com"
    _client(email, mood=0.35)
    _send(email, "churn:1:offer", "Can we set up a check-in call?", "A short check-in call this week?")
    after = accounts.mood(email)
    assert after == pytest.approx(0.35 + retention.SAVE_LIFT_UNHAPPY)
    _send(email, "churn:1:offer", "Can we set up a check-in call?", "A short check-in call this week?")
    assert accounts.mood(email) == after
    assert not SandboxEvent.objects.filter(subject=email).exists()


def _proposal(email: str, key: str, name: str, content: str = "") -> str:
    documents = SandboxDocuments()
    document = documents.create_document(
        idempotency_key=key, name=name, recipients=[Recipient(email=email, name="Client")], content=content
    )
    documents.send_document(document_id=document.document_id)
    return document.document_id


def _signed(document_id: str) -> bool:
    return SandboxEvent.objects.filter(subject=document_id, kind="doc_completed").exists()


def _said_on_a_call(email: str, pain: str) -> None:
    booking = f"bk_{email}"
    SandboxRecord.objects.create(kind="booking", ref=booking, data={"booking_id": booking, "attendee_email": email})
    SandboxRecord.objects.create(
        kind="recording",
        ref=f"rec_{email}",
        data={"booking_id": booking, "lines": [{"speaker": "Client", "email": email, "text": f"Two things: {pain}."}]},
    )


def test_renewal_proposals_are_signed_by_happy_clients_and_declined_by_unhappy_ones() -> None:
    def share(mood: float) -> float:
        signed = []
        for i in range(40):
            email = f"c{i}.{int(mood * 10)}@renewals{i}.com"
            _client(email, mood=mood)
            signed.append(_signed(_proposal(email, f"renewal:{email}", "Renewal of Acme: 12 months")))
        return mean(signed)

    assert share(0.85) > share(0.35) + 0.5
    declined = SandboxEvent.objects.filter(kind="doc_declined").first()
    assert declined is not None and "renew" in str(declined.payload)


def test_upsells_matching_a_stated_need_are_accepted_more_than_ones_that_do_not() -> None:
    matched, unmatched = [], []
    # 200 pairs: the expected gap is 0.45 (0.60 against 0.15), and 60 pairs left it to the luck of
    # the draw (0.48 against 0.23 once offers were seeded by their name rather than our key).
    for i in range(200):
        email = f"owner{i}@upsell{i}.com"
        _client(email, mood=0.75)
        _said_on_a_call(email, "reporting for our clients is a manual spreadsheet job every Friday")
        matched.append(_signed(_proposal(email, f"up:a:{i}", "Automated client reporting for Acme")))
        unmatched.append(_signed(_proposal(email, f"up:b:{i}", "Voice agent for inbound calls for Acme")))
    assert mean(matched) > mean(unmatched) + 0.25


def test_a_change_request_they_wrote_counts_as_a_need() -> None:
    email = "sam.kim@harborlaw.com"
    schedule(
        key="instantly:cr:1", provider="instantly", kind="change_request", subject=email,
        payload={"reply_text": "Could the assistant also book appointments into our calendar?"},
        due_at=clock.now() - dt.timedelta(hours=1),
    )  # fmt: skip
    assert retention.needs_of(email) == {"scheduling"}


def test_a_first_sale_is_left_to_the_deals_module() -> None:
    document: dict[str, Any] = {
        "document_id": "doc_1",
        "name": "Proposal",
        "recipients": [{"email": "new@prospect.com"}],
    }
    assert retention.client_document_fate(document) is None


def test_mail_to_a_client_with_a_renewal_out_is_read_and_leaves_their_decision_as_it_was() -> None:
    email = "rio.lane@northdental.com"
    _client(email, mood=0.9)
    document_id = _proposal(email, f"renewal:{email}", "Renewal of North Dental: 12 months")
    planned = sorted(SandboxEvent.objects.filter(subject=document_id).values_list("kind", "due_at"))
    # A survey while the renewal is out: it used to fail on the document's missing send time.
    _send(email, "survey:renewal-out", "Would you recommend us?", "How likely are you to recommend us, 0 to 10?")
    assert sorted(SandboxEvent.objects.filter(subject=document_id).values_list("kind", "due_at")) == planned
    assert SandboxRecord.objects.get(kind="document", ref=document_id).data["sent_at"]


def test_with_a_renewal_out_only_its_own_follow_up_is_claimed_and_ordinary_mail_is_read() -> None:
    email = "kai.berg@northdental.com"
    _client(email, mood=0.4)
    document_id = _proposal(email, f"renewal:{email}", "Renewal of North Dental: 12 months")
    planned = sorted(SandboxEvent.objects.filter(subject=document_id).values_list("kind", "due_at"))
    document = SandboxRecord.objects.get(kind="document", ref=document_id).data
    assert document["client_offer"] and document["status"] == "sent"
    now = clock.now()

    # A chase that names the offer is its follow-up: claimed, and their decision is not redrawn.
    assert proposals.follow_up_received(
        to=email, now=now, subject="Re: Renewal of North Dental: 12 months: any questions?", body="Anything open?"
    )
    # Any other mail is theirs to read as a client's: not claimed as a nudge about the offer.
    assert not proposals.follow_up_received(to=email, now=now, subject="Weekly status report", body="On track.")
    before = accounts.mood(email)
    _send(email, "churn:renewal-out", "Can we set up a check-in call?", "A short check-in call this week?")
    assert accounts.mood(email) == pytest.approx(before + retention.SAVE_LIFT_UNHAPPY)  # read: it moved them
    assert sorted(SandboxEvent.objects.filter(subject=document_id).values_list("kind", "due_at")) == planned


def test_a_clients_decision_on_an_offer_does_not_depend_on_our_key_for_it() -> None:
    # Our key for a document holds our row's id, which differs between databases (CI's from ours):
    # the same offer to the same client is decided alike whatever the key.
    outcomes = []
    for i in range(12):
        email = f"kit{i}@samedecision{i}.com"
        _client(email, mood=0.55)
        first = _proposal(email, f"proposal:{100 + i}:document", "Renewal of Same Co: 12 months")
        second = _proposal(email, f"proposal:{900 + i}:document", "Renewal of Same Co: 12 months")
        assert first != second and _signed(first) == _signed(second)
        outcomes.append(_signed(first))
    assert any(outcomes) and not all(outcomes)  # still a draw, person by person


def test_once_an_offer_is_signed_mail_about_the_work_it_bought_is_read_as_a_clients() -> None:
    # The renewed term is planned under the offer's name, so its reports and deliveries name it:
    # claimed as the offer's follow-up, they went unread and the renewed client sank to mood 0.
    signed = []
    for i in range(10):
        email = f"noor{i}@renewedwork{i}.com"
        _client(email, mood=0.9)
        document_id = _proposal(email, f"renewal:{email}", f"Renewal of Renewed Work {i}: 12 months")
        if _signed(document_id):
            signed.append((email, document_id, i))
    assert signed, "contented clients sign their renewal"
    email, document_id, i = signed[0]
    decided = SandboxEvent.objects.get(subject=document_id, kind="doc_completed").due_at
    subject = f"Weekly status report: Renewed Work {i}: Renewal of Renewed Work {i}: 12 months"
    body = "Operations for the month ran without an incident."
    with clock.frozen(decided - dt.timedelta(minutes=5)):
        assert proposals.follow_up_received(to=email, now=clock.now(), subject=subject, body=body)  # still open
    with clock.frozen(decided + dt.timedelta(hours=1)):
        assert not proposals.follow_up_received(to=email, now=clock.now(), subject=subject, body=body)
        # Below content since they signed, so a report they read lifts them (none lifts beyond it).
        accounts.move(email, 0.6 - accounts.mood(email), key="test:below content", reason="test")
        before = accounts.mood(email)
        _send(email, f"report:{email}", subject, body)
        assert accounts.mood(email) > before  # read as their weekly report: it lifted them
        assert SandboxRecord.objects.filter(kind="client_report_seen", party=email).exists()


def test_a_buyer_who_signed_reads_their_welcome_as_a_client_before_their_project_is_on_the_board() -> None:
    # A world started from a signed deal: the signature is remembered as PandaDoc would hold it.
    # Without it the welcome (sent before the project reached the board) was cold mail to them, and
    # for one contented client of the lifecycle test it bounced: nothing reached them again.
    welcomed = []
    for i in range(30):
        email = f"quinn{i}@justsigned{i}.com"
        assert not projects.is_client(email)
        proposals.remember_signed(
            document_id=f"doc_signed_{i}", name=f"AI operations for Just Signed {i}", buyer=email, signed_at=clock.now()
        )
        assert projects.is_client(email)
        _send(email, f"welcome:{i}", f"Welcome aboard, Just Signed {i}: your next steps", "Here is what happens next.")
        welcomed.append(email)
    assert not SandboxEvent.objects.filter(subject__in=welcomed).exists()  # no bounce, no cold reply
    assert not SandboxEvent.objects.filter(subject__startswith="doc_signed_", status="pending").exists()
