"""The sandbox's offboarding reactions: exit survey answers and win-backs follow the client's mood."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

from integrations.models import SandboxEvent
from integrations.sandbox import accounts, offboarding
from integrations.sandbox.market import SandboxOutreach

pytestmark = pytest.mark.django_db


def test_content_clients_answer_the_exit_survey_more_often() -> None:
    assert offboarding.answer_chance(0.9) > offboarding.answer_chance(0.5) > offboarding.answer_chance(0.1)
    assert 0.2 < offboarding.answer_chance(0.0) < offboarding.answer_chance(1.0) <= 0.6


def test_the_exit_score_follows_the_mood() -> None:
    rng = random.Random(7)
    scores = {m: [offboarding.exit_score(m, rng=rng) for _ in range(300)] for m in (0.2, 0.5, 0.8)}

    means = [statistics.mean(scores[m]) for m in (0.2, 0.5, 0.8)]
    assert means[0] < means[1] < means[2]
    assert all(0 <= s <= 10 for m in (0.2, 0.5) for s in scores[m])


def test_only_delighted_clients_go_off_the_scale_and_only_now_and_then() -> None:
    rng = random.Random(3)
    delighted = [offboarding.exit_score(0.95, rng=rng) for _ in range(2000)]

    assert 0 < delighted.count(11) < 200
    assert 11 not in [offboarding.exit_score(0.6, rng=rng) for _ in range(2000)]


def test_the_reasons_given_follow_the_mood() -> None:
    unhappy = offboarding.exit_answer(email="a@x.example.com", mood=0.1, country="United States", key="m1")
    content = offboarding.exit_answer(email="a@x.example.com", mood=0.9, country="United States", key="m1")

    assert "4. No, probably not." in unhappy and "4. Yes, happy to talk again later." in content


def test_clients_in_germany_sometimes_answer_in_german_and_others_never_do() -> None:
    german = [
        offboarding.exit_answer(email=f"p{i}@x.example.com", mood=0.5, country="Germany", key="m") for i in range(60)
    ]
    american = [
        offboarding.exit_answer(email=f"p{i}@x.example.com", mood=0.5, country="United States", key="m")
        for i in range(60)
    ]

    assert 10 < sum("Vielleicht" in text for text in german) < 50
    assert not any("Vielleicht" in text for text in american)


def test_win_backs_land_more_with_clients_who_left_content_and_not_too_soon() -> None:
    content = offboarding.win_back_odds(mood=0.9, days_since_exit=120)
    unhappy = offboarding.win_back_odds(mood=0.2, days_since_exit=120)
    too_soon = offboarding.win_back_odds(mood=0.9, days_since_exit=20)

    assert content["interested"] > unhappy["interested"] > 0
    assert 0.35 <= content["interested"] <= 0.40 and unhappy["interested"] <= 0.2  # Griffin & Lowenstein's 20-40%
    assert too_soon["interested"] < content["interested"]
    assert unhappy["unsubscribe"] > content["unsubscribe"] and unhappy["not_interested"] > content["not_interested"]
    assert all(abs(sum(o.values()) - 1) < 1e-9 for o in (content, unhappy, too_soon))


def send(address: str, *, subject: str, body: str, key: str, campaign: str = "") -> None:
    headers = {"X-Campaign-Id": campaign} if campaign else {}
    SandboxOutreach().send_email(
        idempotency_key=key, from_mailbox="anna@smarterteam.io", to=address, subject=subject, body=body,
        headers=headers,
    )  # fmt: skip


@pytest.mark.usefixtures("frozen_clock")
def test_an_exit_survey_reaches_a_client_and_their_answer_comes_back_as_a_reply() -> None:
    answered = 0
    for n in range(12):
        address = f"client{n}@harborlaw.example.com"
        accounts.move(address, 1.0, key="delighted", reason="test")
        send(
            address,
            subject="Harbor Law: 4 quick questions (exit survey)",
            body="1. On a scale from 0 to 10",
            key=f"s{n}",
        )
        replies = SandboxEvent.objects.filter(subject=address, kind="reply_exit_survey")
        answered += replies.count()
        for event in replies:
            assert event.payload["event_type"] == "reply_received"
            assert event.payload["reply_text"].startswith("1. ")
    assert 4 <= answered <= 12  # 60% answer at the top of the mood scale
    assert offboarding.left_at("client0@harborlaw.example.com") is not None


@pytest.mark.usefixtures("frozen_clock")
def test_a_win_back_campaign_email_to_a_former_client_is_answered_by_their_mood(frozen_clock: Any) -> None:
    outcomes: dict[str, list[str]] = {"content": [], "unhappy": []}
    for n in range(40):
        for mood, delta in (("content", 1.0), ("unhappy", -1.0)):
            address = f"{mood}{n}@former.example.com"
            accounts.move(address, delta, key="how they left", reason="test")
            send(address, subject="Acme: handover of what we built", body="...", key=f"h{mood}{n}")
            send(address, subject="Acme and us: a catch-up?", body="Hi", key=f"w{mood}{n}", campaign="7")
            outcomes[mood] += list(SandboxEvent.objects.filter(subject=address).values_list("kind", flat=True))

    assert outcomes["content"].count("reply_interested") > outcomes["unhappy"].count("reply_interested")
    assert outcomes["unhappy"].count("reply_not_interested") > outcomes["content"].count("reply_not_interested")


@pytest.mark.usefixtures("frozen_clock")
def test_other_mail_to_clients_and_cold_mail_to_strangers_are_left_to_the_other_reactions() -> None:
    assert not offboarding.react({"to": "x@y.example.com", "subject": "Weekly report"}, body="All green")
    assert not offboarding.react({"to": "new@prospect.example.com", "subject": "Hi", "campaign_id": "3"}, body="..")
