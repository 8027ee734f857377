"""A prospect's question, from the reply to the answer sent: handler -> knowledge_base -> reply_drafting."""

from __future__ import annotations

import pytest

from agents.models import AgentRun
from agents.testing import drain, run_agent
from crm.models import Message
from learning.services.faq import save_faq
from tests.crm.agents.response_helpers import contacted, reply

pytestmark = pytest.mark.django_db


def test_a_question_is_answered_from_the_faq_and_sent_on_autopilot() -> None:
    entry = save_faq(question="How much does an AI chatbot cost?", answer="A chatbot starts at $18,000.", approved=True)
    thread = contacted()
    result = run_agent("email_response_handler", reply(thread, "Interesting. How much does a chatbot cost?"))
    assert result.output["intent"] == "question"
    drain()
    runs = dict(AgentRun.objects.exclude(pk=result.run.pk).values_list("agent_name", "status"))
    assert runs == {
        "knowledge_base": "succeeded",
        "reply_drafting": "succeeded",
        "conversation_intelligence": "succeeded",
    }
    answer = Message.objects.get(direction="out", idempotency_key__startswith="reply:")
    assert "$18,000" in answer.body and answer.status == Message.Status.SENT
    assert answer.conversation == thread.conversation and answer.to_email == thread.lead.email
    entry.refresh_from_db()
    assert entry.times_used == 1
