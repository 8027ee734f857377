"""reply_drafting: the draft per intent, sourced facts only, and autopilot versus approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.models import Action, AgentRun
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.models import Message
from crm.services.agency import profile, update_profile
from integrations.sandbox import sending
from learning.services.faq import save_faq
from smarter_team import clock
from tests.crm.agents.response_helpers import Thread, contacted
from tests.factories.crm import MessageFactory

pytestmark = pytest.mark.django_db

FINDING = {
    "kind": "signal",
    "claim": "Brightline is hiring two patient coordinators.",
    "source_url": "https://brightline-dental.com/careers",
    "provider": "sandbox",
    "fetched_at": "2026-03-01T00:00:00Z",
}


def inbound(thread: Thread, text: str, intent: str) -> Message:
    return MessageFactory.create(
        conversation=thread.conversation, direction="in", body=text, intent=intent, mailbox=None,
        to_email="anna@smarterteam.io", provider_message_id=f"<in-{intent}@x>", status="delivered",
        subject="Re: Quick question",
    )  # fmt: skip


def autopilot(*intents: str) -> None:
    profile()
    update_profile(autopilot={"auto_send_intents": list(intents)})


def test_an_answer_with_a_cited_faq_is_sent_on_autopilot() -> None:
    autopilot("question")
    entry = save_faq(
        question="How much does a chatbot cost?", answer="A chatbot build starts at $18,000.", approved=True
    )
    asked = inbound(contacted(), "How much does a chatbot cost?", "question")
    result = run_agent("reply_drafting", {"message_id": asked.pk, "faq_id": entry.pk})
    assert result.status == "succeeded", result.error
    assert result.output["sent"] and result.output["faq_id"] == entry.pk
    reply = Message.objects.get(idempotency_key=f"reply:{asked.pk}")
    assert "$18,000" in reply.body and reply.subject == "Re: Quick question"
    assert reply.status == Message.Status.SENT and reply.provider_message_id
    assert [(a.kind, a.status) for a in result.acts] == [("email.reply", Action.Status.DONE)]


def test_an_interested_reply_offers_slots_and_waits_for_approval_when_the_policy_says_so() -> None:
    autopilot("question")
    thread = contacted()
    thread.lead.research = {"findings": [FINDING]}
    thread.lead.save(update_fields=["research"])
    said = inbound(thread, "Happy to jump on a call.", "interested")
    result = run_agent("reply_drafting", {"message_id": said.pk})
    assert result.run.status == AgentRun.Status.ESCALATED
    assert result.output["waiting_for_approval"] and not result.acts
    draft = Message.objects.get(idempotency_key=f"reply:{said.pk}")
    assert draft.status == Message.Status.AWAITING_APPROVAL
    assert "30-minute call" in draft.body and "hiring two patient coordinators" in draft.body
    assert result.output["cites"] == [FINDING["source_url"]]
    decide(escalation=result.escalations[0], approve=True, user=None)
    sent = rerun(result.run)
    assert sent.status == "succeeded", sent.error
    draft.refresh_from_db()
    assert draft.status == Message.Status.SENT
    assert [a.kind for a in sent.acts] == ["email.reply"]


def test_a_rejected_draft_is_never_sent() -> None:
    autopilot()
    said = inbound(contacted(), "Too expensive for us right now.", "objection")
    result = run_agent("reply_drafting", {"message_id": said.pk})
    draft = Message.objects.get(idempotency_key=f"reply:{said.pk}")
    assert "budget" in draft.body
    decide(escalation=result.escalations[0], approve=False, user=None)
    again = rerun(result.run)
    assert again.status == "canceled" and not Action.objects.exists()
    draft.refresh_from_db()
    assert draft.status == Message.Status.AWAITING_APPROVAL


def test_a_claim_citing_an_unstored_source_is_replaced_by_the_heuristic_draft() -> None:
    autopilot("objection")
    said = inbound(contacted(), "We already use another vendor.", "objection")
    invented = {"subject": "Re: x", "body": "I saw you raised $5M.", "cites": ["https://news.example.com/raise"]}
    result = run_agent("reply_drafting", {"message_id": said.pk}, answers=[invented])
    reply = Message.objects.get(idempotency_key=f"reply:{said.pk}")
    assert "$5M" not in reply.body and "existing tools" in reply.body
    assert "unknown sources" in result.output["note"]


def test_a_lead_who_opted_out_meanwhile_gets_no_reply() -> None:
    autopilot("question")
    thread = contacted()
    asked = inbound(thread, "How much?", "question")
    thread.lead.do_not_contact = True
    thread.lead.save(update_fields=["do_not_contact"])
    result = run_agent("reply_drafting", {"message_id": asked.pk})
    assert not result.acts and not Message.objects.filter(idempotency_key=f"reply:{asked.pk}").exists()


def test_drafting_twice_sends_once() -> None:
    autopilot("question")
    asked = inbound(contacted(), "How long does it take?", "question")
    first, _second = assert_idempotent("reply_drafting", {"message_id": asked.pk})
    assert first.output["sent"]
    assert Message.objects.filter(idempotency_key=f"reply:{asked.pk}").count() == 1


@pytest.mark.parametrize(
    ("intent", "text", "faq"),
    [
        ("question", "How much does something like this usually cost?", True),
        ("objection", "We already work with an agency for this and we're fairly happy with them.", False),
        ("objection", "Honestly this feels expensive for a company our size. Why would it pay off for us?", False),
    ],
)
def test_an_answer_to_a_question_or_objection_also_offers_concrete_times(intent: str, text: str, faq: bool) -> None:
    autopilot("question", "objection")
    entry = save_faq(question="What does it cost?", answer="Pilots start at $2,500.", approved=True) if faq else None
    said = inbound(contacted(), text, intent)
    result = run_agent("reply_drafting", {"message_id": said.pk, "faq_id": entry.pk if entry else None})
    assert result.status == "succeeded", result.error
    body = Message.objects.get(idempotency_key=f"reply:{said.pk}").body
    # What the prospect reads: concrete times to pick from, and what they asked answered.
    assert "30-minute call" in body and sending.offers_slot(body)
    assert sending.addressed(their_text=text, our_body=body)


def _booked_call(thread: Thread, *, booked_at: dt.datetime) -> Any:
    from tests.factories.sales import MeetingFactory

    with clock.frozen(booked_at):
        return MeetingFactory.create(
            lead=thread.lead, status="scheduled", starts_at=booked_at + dt.timedelta(days=2), client=None
        )


def test_an_answer_to_someone_with_a_booked_call_names_that_call_and_offers_no_other_times() -> None:
    autopilot("question", "interested")
    thread = contacted()
    thread.lead.time_zone = "America/New_York"
    thread.lead.save(update_fields=["time_zone"])
    said = inbound(thread, "Sounds good, let's talk.", "interested")
    # meeting_scheduler runs first in the same chain: the call is booked after the message arrived.
    _booked_call(thread, booked_at=said.created_at + dt.timedelta(seconds=1))
    result = run_agent("reply_drafting", {"message_id": said.pk})
    assert result.status == "succeeded", result.error
    body = Message.objects.get(idempotency_key=f"reply:{said.pk}").body
    assert "Our call is booked for" in body and ("(EST)" in body or "(EDT)" in body)
    assert "Would one of these times work" not in body
    assert sending.offers_slot(body)  # the market reads the named time as an answer


def test_a_confirmation_written_after_the_booking_gets_no_answer() -> None:
    autopilot("question", "interested")
    thread = contacted()
    call = _booked_call(thread, booked_at=clock.now() - dt.timedelta(hours=3))
    said = inbound(thread, "Tuesday at 10:00 works for me, I've put it in my calendar. Talk then.", "interested")
    result = run_agent("reply_drafting", {"message_id": said.pk})
    assert result.run.status == AgentRun.Status.SKIPPED and "calendar invitation" in result.run.error
    assert not Message.objects.filter(idempotency_key=f"reply:{said.pk}").exists() and not result.acts
    # A question still gets its answer, with the booked call named instead of new times.
    asked = MessageFactory.create(
        conversation=thread.conversation, direction="in", body="Who would we be working with?", intent="question",
        mailbox=None, to_email="anna@smarterteam.io", provider_message_id="<in-q2@x>", status="delivered",
        subject="Re: Quick question",
    )  # fmt: skip
    answered = run_agent("reply_drafting", {"message_id": asked.pk})
    body = Message.objects.get(idempotency_key=f"reply:{asked.pk}").body
    assert answered.status == "succeeded" and "Our call is booked for" in body and "Would one of" not in body
    # The day as the prospect reads it: near midnight UTC their day is not UTC's.
    from sales.agents.meeting.common import zone_of

    assert call.starts_at.astimezone(zone_of(thread.lead)).strftime("%A") in body
