"""bench/lifecycle's funnel breakdown: replies by first intent, our answers and their times, bookings."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.lifecycle.arm import funnel, outcomes
from crm.models import Conversation, Message
from integrations.models import SandboxRecord
from smarter_team import clock
from tests.factories.crm import ConversationFactory, MessageFactory
from tests.factories.sales import MeetingFactory

pytestmark = pytest.mark.django_db


def said(conversation: Conversation, intent: str, minutes: int) -> Message:
    return MessageFactory.create(
        conversation=conversation, direction="in", intent=intent, mailbox=None, status="delivered",
        sent_at=clock.now() + dt.timedelta(minutes=minutes),
    )  # fmt: skip


def answered(message: Message, body: str, *, status: str = "sent") -> None:
    MessageFactory.create(
        conversation=message.conversation, intent=message.intent, body=body, status=status,
        idempotency_key=f"reply:{message.pk}",
    )  # fmt: skip


def test_the_funnel_counts_first_replies_answers_with_times_and_bookings() -> None:
    asked, objected = ConversationFactory.create(), ConversationFactory.create()
    question = said(asked, "question", 0)
    answered(question, "It starts at $2,500. Would Tuesday 08 December, 14:00 work?")
    booking = said(asked, "interested", 60)  # their second reply: the lead still counts by its first
    answered(booking, "Great, see you then.")
    objection = said(objected, "objection", 5)
    answered(objection, "Fair point. Monday 14:00?", status="awaiting_approval")  # not sent: not counted
    MeetingFactory.create(lead=asked.lead)
    assert funnel() == {
        "first reply": {"question": 1, "objection": 1},
        "answers": {"question": 1, "interested": 1},
        "answers offering times": {"question": 1, "interested": 0},
        "booked by first reply": {"question": 1},
        "clients' mood at the end": {"clients": 0, "mean %": 0, "content (0.6 and up)": 0, "unhappy (under 0.4)": 0},
    }


def test_the_clients_mood_is_read_from_the_market_and_every_missed_call_counts() -> None:
    for n, mood in enumerate((0.72, 0.31, 0.5)):
        SandboxRecord.objects.create(kind="client_mood", ref=f"c{n}@client.example", data={"mood": mood, "moves": []})
    missed_twice = MeetingFactory.create(no_show_attempts=2, status="held")  # recovered: not a no-show at the end
    MeetingFactory.create(lead=missed_twice.lead, no_show_attempts=1, status="no_show")

    assert funnel()["clients' mood at the end"] == {
        "clients": 3, "mean %": 51, "content (0.6 and up)": 1, "unhappy (under 0.4)": 1,
    }  # fmt: skip
    reached = outcomes(clock.now())
    assert (reached["calls missed"], reached["no-shows"]) == (3, 1)
