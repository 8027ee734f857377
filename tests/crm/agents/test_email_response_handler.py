"""email_response_handler: threading, intent, the lead and the sequence, and where each reply goes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from agents.models import AgentRun
from agents.testing import assert_idempotent, run_agent
from crm.models import Enrollment, Lead, Message, SuppressionEntry
from crm.services.suppression import is_suppressed
from integrations.webhooks.providers import instantly
from sales.models import Client
from tests.crm.agents.response_helpers import contacted, reply

pytestmark = pytest.mark.django_db

WEBHOOK_FIXTURES = Path(__file__).parents[2] / "integrations" / "webhooks" / "fixtures"
QUOTED = "\n\nOn Mon, Mar 3, 2025 at 9:14 AM Anna <anna@smarterteam.io> wrote:\n> Unsubscribe: https://x.io/u/1\n"


def test_an_interested_reply_joins_the_thread_stops_the_sequence_and_goes_to_drafting() -> None:
    thread = contacted()
    result = run_agent("email_response_handler", reply(thread, "Happy to jump on a call. Tuesday works." + QUOTED))
    assert result.status == "succeeded", result.error
    assert result.output["intent"] == "interested"
    inbound = Message.objects.get(direction="in")
    assert inbound.conversation == thread.conversation and inbound.intent == "interested"
    assert "Unsubscribe" not in inbound.body  # the quoted footer is not the reply
    thread.enrollment.refresh_from_db()
    thread.lead.refresh_from_db()
    thread.sent.refresh_from_db()
    assert thread.enrollment.status == Enrollment.Status.REPLIED and thread.enrollment.next_send_at is None
    assert thread.lead.status == Lead.Status.INTERESTED
    assert thread.sent.status == Message.Status.REPLIED
    assert sorted(result.output["routed"]) == ["conversation_intelligence", "meeting_scheduler", "reply_drafting"]
    assert not is_suppressed(thread.lead.email or "")


def test_a_question_goes_to_the_knowledge_base() -> None:
    thread = contacted()
    result = run_agent("email_response_handler", reply(thread, "How much does a chatbot cost?"))
    assert result.output["intent"] == "question"
    assert sorted(result.output["routed"]) == ["conversation_intelligence", "knowledge_base"]
    thread.lead.refresh_from_db()
    assert thread.lead.status == Lead.Status.REPLIED


def test_an_unsubscribe_is_suppressed_at_once_and_handed_to_compliance() -> None:
    thread = contacted()
    result = run_agent("email_response_handler", reply(thread, "Please remove me from your list."))
    assert result.output["intent"] == "unsubscribe"
    assert is_suppressed(thread.lead.email or "")
    thread.enrollment.refresh_from_db()
    assert thread.enrollment.status == Enrollment.Status.UNSUBSCRIBED
    assert result.output["routed"] == ["unsubscribe_compliance"]


def test_an_out_of_office_reply_moves_the_next_step_past_the_return_date() -> None:
    thread = contacted()
    data = reply(thread, "I am out of the office until 12 March.", occurred_at="2026-03-03T09:00:00Z", auto_reply=True)
    result = run_agent("email_response_handler", data)
    assert result.output["intent"] == "out_of_office"
    thread.enrollment.refresh_from_db()
    assert thread.enrollment.status == Enrollment.Status.ACTIVE
    assert thread.enrollment.next_send_at is not None
    assert thread.enrollment.next_send_at.date() >= dt.date(2026, 3, 13)
    assert result.output["routed"] == ["conversation_intelligence"]


def test_a_referral_creates_the_referred_lead_in_the_lead_flow() -> None:
    thread = contacted("luis@kestrel-labs.io")
    text = "I'm not the right person for this. Best person is Tom Becker, our CTO - tom.becker@kestrel-labs.io"
    result = run_agent("email_response_handler", reply(thread, text))
    assert result.output["intent"] == "referral"
    tom = Lead.objects.get(email="tom.becker@kestrel-labs.io")
    assert tom.source == "referral" and tom.first_name == "Tom"
    assert AgentRun.objects.filter(agent_name="data_validation", idempotency_key=f"lead_flow:lead:{tom.pk}").exists()


def test_a_hard_bounce_suppresses_the_address_and_a_soft_one_does_not() -> None:
    hard, soft = (
        contacted("a@bounce.example.com", message_id="<m-a@x>"),
        contacted("b@bounce.example.com", message_id="<m-b@x>"),
    )
    for thread, kind in ((hard, "hard"), (soft, "soft")):
        data = {"kind": "bounce", "lead_email": thread.lead.email, "bounce_type": kind,
                "in_reply_to": thread.sent.provider_message_id, "message_id": f"<dsn-{kind}@x>"}  # fmt: skip
        result = run_agent("email_response_handler", data)
        assert result.output["intent"] == "bounce"
    assert is_suppressed("a@bounce.example.com") and not is_suppressed("b@bounce.example.com")
    hard.sent.refresh_from_db()
    assert hard.sent.status == Message.Status.BOUNCED


def test_a_message_from_a_clients_contact_goes_to_the_clients_conversation() -> None:
    thread = contacted()
    colleague = Lead.objects.create(email="ops@brightline-dental.com", company=thread.lead.company)
    assert thread.lead.company is not None
    Client.objects.create(company=thread.lead.company, primary_contact=thread.lead)
    data = {"kind": "reply", "lead_email": colleague.email, "message_id": "<c-1@x>", "text": "Add a FAQ page?"}
    result = run_agent("email_response_handler", data)
    inbound = Message.objects.get(direction="in")
    assert inbound.conversation == thread.conversation
    assert result.output["routed"] == ["change_request", "conversation_intelligence"]


def test_an_unknown_sender_is_noted_not_recorded() -> None:
    result = run_agent("email_response_handler", {"kind": "reply", "lead_email": "who@nowhere.example", "text": "hi"})
    assert result.status == "succeeded" and "no lead" in result.output["note"]
    assert not Message.objects.exists()


def test_the_same_reply_twice_is_recorded_once() -> None:
    thread = contacted()
    assert_idempotent("email_response_handler", reply(thread, "Sounds good, let's talk."))
    assert Message.objects.filter(direction="in").count() == 1
    assert SuppressionEntry.objects.count() == 0


def test_an_opt_out_from_an_unknown_address_is_still_honoured() -> None:
    data = {"kind": "reply", "lead_email": "stranger@nowhere.example", "text": "Unsubscribe me please"}
    result = run_agent("email_response_handler", data)
    assert result.output["intent"] == "unsubscribe" and is_suppressed("stranger@nowhere.example")


def test_the_instantly_webhooks_reply_is_read_by_the_handler() -> None:
    thread = contacted("mary.smith@brightdental.com")
    payload = json.loads((WEBHOOK_FIXTURES / "instantly" / "reply_received.json").read_text())
    data = instantly._email_input(payload, "reply").model_dump(mode="json")
    result = run_agent("email_response_handler", data)
    assert result.output["intent"] == "interested"
    inbound = Message.objects.get(direction="in")
    assert inbound.conversation == thread.conversation and inbound.idempotency_key == "inbound:em_abc123"


def test_a_reply_naming_more_of_its_thread_than_a_query_may_bind_still_finds_ours() -> None:
    # A sender writes what it likes into References: 70,000 ids, ours (the thread's root) first.
    thread = contacted()
    filler = [f"<x-{n}@mail.example.com>" for n in range(70_000)]
    result = run_agent(
        "email_response_handler",
        reply(
            thread, "Sure, send me the details.", in_reply_to="", references=[thread.sent.provider_message_id, *filler]
        ),
    )
    assert result.status == "succeeded", result.error
    assert Message.objects.get(direction="in").conversation == thread.conversation
