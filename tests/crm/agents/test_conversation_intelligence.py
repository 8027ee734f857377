"""conversation_intelligence: insights over the whole thread, each message read once."""

from __future__ import annotations

import pytest

from agents.testing import assert_idempotent, run_agent
from integrations.models import MemoryEntry
from tests.crm.agents.response_helpers import contacted
from tests.factories.crm import MessageFactory

pytestmark = pytest.mark.django_db


def test_objections_and_signals_accumulate_across_the_thread_and_history_is_read_once() -> None:
    thread = contacted()
    MessageFactory.create(conversation=thread.conversation, direction="in", intent="objection", mailbox=None,
                          body="Honestly it sounds expensive for a clinic our size.")  # fmt: skip
    first = run_agent("conversation_intelligence", {"conversation_id": thread.conversation.pk})
    assert first.status == "succeeded", first.error
    assert first.output["messages_read"] == 2 and "price" in first.output["objections"]
    assert first.output["sentiment"] == "neutral"
    assert MemoryEntry.objects.filter(session_id=f"conversation:{thread.conversation.pk}").count() == 2

    MessageFactory.create(conversation=thread.conversation, direction="in", intent="interested", mailbox=None,
                          body="OK, we lost two coordinators last month. Can we do a call this week?")  # fmt: skip
    second = run_agent("conversation_intelligence", {"conversation_id": thread.conversation.pk})
    assert second.output["messages_read"] == 1  # only the new one
    thread.conversation.refresh_from_db()
    insights = thread.conversation.insights
    assert insights["objections"] == ["price"]
    assert {"asked for a call", "named a pain"} <= set(insights["buying_signals"])
    assert thread.conversation.sentiment == "positive" and insights["messages_read"] == 3


def test_reading_an_unchanged_thread_again_writes_nothing() -> None:
    thread = contacted()
    assert_idempotent("conversation_intelligence", {"conversation_id": thread.conversation.pk})
