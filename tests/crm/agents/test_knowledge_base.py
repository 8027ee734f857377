"""knowledge_base: answers from approved FAQ entries with the entry cited; escalates the rest."""

from __future__ import annotations

import pytest

from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.models import Message
from learning.models import FAQ
from learning.services.faq import save_faq
from tests.crm.agents.response_helpers import Thread, contacted
from tests.factories.crm import MessageFactory

pytestmark = pytest.mark.django_db


def question(thread: Thread, text: str) -> Message:
    return MessageFactory.create(
        conversation=thread.conversation, direction="in", body=text, intent="question", mailbox=None,
        provider_message_id="<q-1@x>", status="delivered",
    )  # fmt: skip


@pytest.fixture
def faqs() -> list[FAQ]:
    return [
        save_faq(
            question="How much does an AI chatbot cost?", answer="A chatbot build starts at $18,000.", approved=True
        ),
        save_faq(question="How long does a workflow automation take?", answer="Two to four weeks.", approved=True),
        save_faq(question="Do you offer free chatbot trials?", answer="Yes, for a month.", approved=False),
    ]


def test_a_question_with_an_approved_answer_cites_the_entry_and_goes_to_drafting(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "What would a chatbot cost us roughly?")
    result = run_agent("knowledge_base", {"message_id": asked.pk})
    assert result.status == "succeeded", result.error
    assert result.output["faq_id"] == faqs[0].pk and result.output["cited_question"] == faqs[0].question
    assert [(r.agent_name, r.input) for r in result.handoffs] == [
        ("reply_drafting", {"message_id": asked.pk, "faq_id": faqs[0].pk})
    ]
    faqs[0].refresh_from_db()
    assert faqs[0].times_used == 1


def test_an_unapproved_entry_never_answers(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "Do you offer free trials of the chatbot?")
    result = run_agent("knowledge_base", {"message_id": asked.pk}, answers=[{"faq_id": faqs[2].pk}])
    assert result.output["faq_id"] != faqs[2].pk


def test_a_brain_citing_an_entry_it_was_not_given_escalates(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "How much does a chatbot cost?")
    result = run_agent("knowledge_base", {"message_id": asked.pk}, answers=[{"faq_id": 9999}])
    assert result.run.status == AgentRun.Status.ESCALATED
    assert not result.handoffs


def test_a_question_without_an_answer_escalates_and_the_operators_answer_becomes_a_faq(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "Do you integrate with SAP on premise?")
    result = run_agent("knowledge_base", {"message_id": asked.pk})
    assert result.run.status == AgentRun.Status.ESCALATED
    escalation = result.escalations[0]
    assert escalation.kind == Escalation.Kind.APPROVAL and escalation.payload["question"] == asked.body
    decide(escalation=escalation, approve=True, user=None, note="Yes: through SAP's OData APIs, on premise too.")
    again = rerun(result.run)
    assert again.status == "succeeded", again.error
    new = FAQ.objects.get(pk=again.output["faq_id"])
    assert new.approved and new.question == asked.body and "OData" in new.answer
    assert [r.agent_name for r in again.handoffs] == ["reply_drafting"]


def test_a_rejected_question_is_dropped(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "Do you integrate with SAP on premise?")
    result = run_agent("knowledge_base", {"message_id": asked.pk})
    decide(escalation=result.escalations[0], approve=False, user=None, note="not a prospect")
    again = rerun(result.run)
    assert again.status == "canceled" and not again.handoffs  # a rejection cancels the waiting run


def test_answering_twice_hands_off_the_same_draft(faqs: list[FAQ]) -> None:
    asked = question(contacted(), "How long does a workflow automation take?")
    assert_idempotent("knowledge_base", {"message_id": asked.pk})
    faqs[1].refresh_from_db()
    assert faqs[1].times_used == 1
