"""The sandbox's reactions to our sending and to our replies: each one's direction (SANDBOX.md rows
"sending", "replies", "replies to our replies"), then the market applying them to real sends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from integrations.models import SandboxEvent, SandboxRecord
from integrations.sandbox import inbox, sending
from integrations.sandbox.behaviour import Circumstances, email_outcome
from integrations.sandbox.market import SandboxOutreach
from integrations.sandbox.world import Person, search_people

TUESDAY_10_BERLIN = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


def _people(count: int = 400) -> list[Person]:
    return search_people(query="dental clinics", location="", start=0, count=count)


def _placement(**changes: Any) -> float:
    good = {"mailbox_age_days": 60, "sent_today": 20, "spam_words": 0, "unsubscribe": True, "postal_address": True}
    return sending.spam_placement(**(good | changes))


def test_a_cold_mailbox_lands_in_spam_more_until_it_is_warmed_up() -> None:
    assert _placement(mailbox_age_days=0) > _placement(mailbox_age_days=7) > _placement(mailbox_age_days=14) == 0


def test_volume_past_the_daily_safe_amount_lands_in_spam_more() -> None:
    assert _placement(sent_today=sending.SAFE_DAILY_VOLUME) == 0 < _placement(sent_today=120)


def test_spam_words_missing_unsubscribe_or_address_land_in_spam_more() -> None:
    assert _placement(spam_words=2) > _placement(spam_words=1) > _placement()
    assert _placement(unsubscribe=False) > _placement() and _placement(postal_address=False) > _placement()


def test_spam_words_and_footers_are_found_as_written() -> None:
    assert sending.spam_words_in("A FREE audit, guaranteed!") == ["free", "guaranteed"]
    assert sending.spam_words_in("freedom from spreadsheets; 100 clinics") == []
    assert sending.has_unsubscribe(body="Reply stop to opt out", headers={})
    assert sending.has_unsubscribe(body="", headers={"List-Unsubscribe": "<https://x/u>"})
    assert not sending.has_unsubscribe(body="Cheers, Mara", headers={})
    assert sending.has_postal_address("Smarter Team, 100 Main Street, Austin TX 78701")
    assert not sending.has_postal_address("Smarter Team, the best agency")


def test_send_time_counts_in_the_recipients_zone() -> None:
    factor = sending.send_time_factor
    assert factor(sent_at=TUESDAY_10_BERLIN, timezone="Europe/Berlin") == 1.0
    assert factor(sent_at=TUESDAY_10_BERLIN, timezone="America/Chicago") == sending.TIME_FACTORS["night"]  # 3:00
    evening = TUESDAY_10_BERLIN + dt.timedelta(hours=10)
    assert factor(sent_at=evening, timezone="Europe/Berlin") == sending.TIME_FACTORS["edge"]  # 20:00
    saturday = TUESDAY_10_BERLIN + dt.timedelta(days=4)
    assert factor(sent_at=saturday, timezone="Europe/Berlin") == sending.TIME_FACTORS["weekend"]


def test_invalid_and_catch_all_addresses_bounce_more() -> None:
    by = {p.email_status: sending.bounce_chance(p) for p in _people()}
    assert by["invalid"] > by["risky"] > by["catch_all"] > by["deliverable"]


def test_complaints_rise_without_an_unsubscribe_and_with_false_claims_and_fall_with_fit() -> None:
    base: dict[str, Any] = {"fit": 0.3, "personal": 0.0, "unsubscribe": True, "false_claims": 0}
    c = sending.complaint_chance
    assert c(**base | {"unsubscribe": False}) > c(**base) and c(**base | {"false_claims": 1}) > c(**base)
    assert c(**base | {"fit": 0.9, "personal": 1.0}) < c(**base)
    assert sending.open_chance(in_spam=True, time_factor=1) < sending.open_chance(in_spam=False, time_factor=0.4)


def test_true_facts_count_false_ones_are_caught_and_words_must_match_whole() -> None:
    person = next(p for p in _people() if p.company.signals and "Slack" not in p.company.tech)
    mine, tool = person.company.signals[0], person.company.tech[0]
    claims = sending.claims_about(person=person, text=f"Saw that you {mine}, and that you use {tool} and Slack.")
    assert claims.true == (mine, tool) or set(claims.true) == {mine, tool}
    assert claims.false == ("Slack",)
    assert sending.claims_about(person=person, text="We are slacking on nothing").false == ()
    named = sending.personalisation(person=person, subject="Hi", body=f"Hi {person.first_name}")
    assert named == 0.25
    assert sending.personalisation(person=person, subject="Hi", body=f"Hi {person.first_name}x") == 0.0


def test_reply_odds_fall_with_the_step_night_sends_and_false_claims() -> None:
    base: dict[str, Any] = {"fit": 0.7, "personal": 0.5, "false_claims": 0, "step": 1, "time_factor": 1.0}
    r = sending.reply_chance
    assert r(**base) > r(**base | {"step": 2}) > r(**base | {"step": 4}) == r(**base | {"step": 9})
    assert r(**base | {"false_claims": 1}) == r(**base) / 2 and r(**base | {"time_factor": 0.4}) < r(**base)
    assert r(**base | {"fit": 0.2}) < r(**base) < r(**base | {"personal": 1.0})


def test_outcomes_are_seeded_by_the_person_and_the_step_and_the_spam_folder_silences() -> None:
    people = [p for p in _people() if p.email_status == "deliverable"]
    seen = Circumstances(step=1)
    assert [email_outcome(person=p, personal=0.5, seen=seen) for p in people[:50]] == [
        email_outcome(person=p, personal=0.5, seen=seen) for p in people[:50]
    ]
    spam = [email_outcome(person=p, personal=1.0, seen=Circumstances(spam=0.95)) for p in people]
    inbox_ = [email_outcome(person=p, personal=1.0) for p in people]
    assert sum(o.kind == "reply" for o in spam) < sum(o.kind == "reply" for o in inbox_) / 5
    assert sum(o.opened for o in spam) < sum(o.opened for o in inbox_)


def test_answering_the_question_offering_a_slot_books_more() -> None:
    asked = "How much does something like this usually cost, and how long does it take?"
    assert sending.addressed(their_text=asked, our_body="It is $900 per month, about 3 weeks.")
    assert not sending.addressed(their_text=asked, our_body="Happy to explain on a call.")
    objection = "Honestly this feels expensive for a company our size."
    assert sending.addressed(their_text=objection, our_body="A 4-week pilot pays for itself in saved hours.")
    assert sending.addressed(their_text="Could we set up a call?", our_body="Tuesday at 10:00 or Thursday 2pm?")
    odds = sending.follow_up_odds
    best, vague = odds(fit=0.8, slot=True, answered=True), odds(fit=0.8, slot=False, answered=False)
    assert best["booking"] > vague["booking"] and vague["question"] > best["question"]
    assert vague["drop_off"] > best["drop_off"] and abs(sum(best.values()) - 1) < 1e-9


@pytest.mark.django_db
def test_the_market_counts_steps_per_person_and_reports_opens(frozen_clock: Any) -> None:
    frozen_clock.set(TUESDAY_10_BERLIN + dt.timedelta(hours=6))  # US morning
    people = [p for p in _people() if p.email_status == "deliverable"][:40]
    SandboxRecord.objects.bulk_create([SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people])
    outreach = SandboxOutreach()
    footer = "\n\nSmarter Team, 100 Main Street, Austin TX 78701. Unsubscribe: https://agency.example/u"
    ids = []
    for n in (1, 2):
        for p in people:
            sent = outreach.send_email(
                idempotency_key=f"k:{p.email}:{n}", from_mailbox="old@agency.example", to=p.email,
                subject="Idea", body=f"Hi {p.first_name}{footer}", headers={},
            )  # fmt: skip
            ids.append(sent.message_id)
    steps = [r.data["step"] for r in SandboxRecord.objects.filter(kind="email").order_by("id")]
    assert steps == [1] * 40 + [2] * 40
    frozen_clock.set(TUESDAY_10_BERLIN + dt.timedelta(days=5))
    statuses = {outreach.get_message_status(i).status for i in ids}
    assert "opened" in statuses and "delivered" in statuses


@pytest.mark.django_db
def test_our_answer_to_someone_who_wrote_is_judged_on_what_it_answers(frozen_clock: Any) -> None:
    person = next(p for p in _people() if p.email_status == "deliverable" and p.company.fits)
    SandboxEvent.objects.create(
        key="t:q", provider="instantly", kind="reply_question", subject=person.email, due_at=frozen_clock.now,
        payload={"reply_text": "How much does something like this usually cost, and how long does it take?"},
    )  # fmt: skip
    assert inbox.has_written(person.email)
    good = inbox.answer_to_our_reply(person=person, our_body="$900 per month, 3 weeks. Tuesday at 10:00?")
    again = inbox.answer_to_our_reply(person=person, our_body="$900 per month, 3 weeks. Tuesday at 10:00?")
    assert good == again and good is not None and good.outcome in ("booking", "question", "drop_off")
    stranger = next(p for p in _people() if p.email != person.email)
    assert inbox.answer_to_our_reply(person=stranger, our_body="Tuesday at 10:00?") is None
