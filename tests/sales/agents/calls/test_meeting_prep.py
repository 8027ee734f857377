"""meeting_prep: the host's briefing from stored facts only, every claim with its source."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Conversation, Lead, Message
from sales.models import Meeting, MeetingNote
from tests.factories.crm import PersonaFactory
from tests.factories.sales import MeetingFactory
from tests.sales.agents.calls.conftest import CALL_START, prospect

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

NEWS = "https://brightdental.example/news/new-clinic"
FINDING = {
    "kind": "signal",
    "claim": "Bright Dental Group opened a second clinic in Leipzig in January",
    "source_url": NEWS,
    "provider": "sandbox",
    "fetched_at": "2026-02-20T10:00:00+00:00",
}


def researched_lead() -> Lead:
    lead = prospect(persona=PersonaFactory.create(objections=["worried about patient data"], pains=["no-shows"]))
    assert lead.company is not None
    lead.company.enrichment = {"findings": [FINDING]}
    lead.company.save(update_fields=["enrichment"])
    conversation = Conversation.objects.create(
        lead=lead, insights={"objections": ["price"], "buying_signals": ["asked for a call"], "summary": "Keen."}
    )
    Message.objects.create(conversation=conversation, direction="in", body="Sounds useful, but is it expensive?",
                           status="delivered", sent_at=CALL_START, idempotency_key="in:1",
                           intent="objection")  # fmt: skip
    return lead


def upcoming(lead: Lead, **fields: Any) -> Meeting:
    start = CALL_START + dt.timedelta(days=1)
    defaults = {"lead": lead, "starts_at": start, "ends_at": start + dt.timedelta(minutes=30)}
    return MeetingFactory.create(**(defaults | fields))


def _prep(meeting: Meeting) -> MeetingNote:
    return MeetingNote.objects.get(meeting=meeting, kind=MeetingNote.Kind.PREP)


def test_the_briefing_is_built_from_what_we_stored_and_cites_it() -> None:
    lead = researched_lead()
    meeting = upcoming(lead)
    result = run_agent("meeting_prep", {"meeting_id": meeting.pk})
    assert result.status == "succeeded", result.error
    note = _prep(meeting)
    assert f"opened a second clinic in Leipzig in January [{NEWS}]" in note.content
    assert f"[company:{lead.company_id}]" in note.content and f"[lead:{lead.pk}]" in note.content
    assert "They last wrote: Sounds useful, but is it expensive?" in note.content
    assert "They raised price in writing" in note.content and "fixed-price pilot" in note.content
    assert "worried about patient data" in note.content  # the persona's usual worry
    assert "Agenda:" in note.content and "Budget range, timeline and who decides" in note.content
    assert "How do you use HubSpot today" in note.content
    assert NEWS in result.output["cited"]


def test_a_briefing_making_an_uncited_or_overstated_claim_is_replaced(caplog: pytest.LogCaptureFixture) -> None:
    lead = researched_lead()
    meeting = upcoming(lead)
    invented = {
        "summary": "Discovery call with Mary Smith of Bright Dental Group.",
        "points": [{"text": "They just raised a Series A", "source": "https://techcrunch.example/bright"}],
    }
    run_agent("meeting_prep", {"meeting_id": meeting.pk}, answers=[invented])
    assert "Series A" not in _prep(meeting).content and "not a stored source" in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        {"summary": "Call with Mary Smith of Bright Dental Group.",
         "points": [{"text": "They opened five clinics across Germany and Austria last year", "source": NEWS}]},
        {"summary": "Mary Smith of Bright Dental Group, who just hired Jonathan Pryce as CTO.", "points": []},
        {"summary": "Mary Smith of Bright Dental Group.", "points": [],
         "questions": ["How will the $5M raise be spent?"]},
    ],
)  # fmt: skip
def test_claims_beyond_the_sources_send_the_briefing_back_to_the_heuristic(answer: dict[str, Any]) -> None:
    meeting = upcoming(researched_lead())
    run_agent("meeting_prep", {"meeting_id": meeting.pk}, answers=[answer])
    content = _prep(meeting).content
    assert "five clinics" not in content and "Jonathan" not in content and "$5M" not in content
    assert "What we know:" in content


def test_a_grounded_briefing_from_the_model_is_stored_as_written() -> None:
    lead = researched_lead()
    meeting = upcoming(lead)
    answer = {
        "summary": "Discovery call with Mary Smith of Bright Dental Group: they expanded and worry about cost.",
        "points": [{"text": "Opened a second clinic in Leipzig", "source": NEWS}],
        "objections": [{"objection": "Cost", "answer": "Pilot first.",
                        "source": f"insights:conversation:{lead.conversations.get().pk}"}],
        "agenda": ["Their clinics and front desk", "Budget and timing", "Next step"],
        "questions": ["How do new patients book today?"],
    }  # fmt: skip
    result = run_agent("meeting_prep", {"meeting_id": meeting.pk}, answers=[answer])
    assert "- Opened a second clinic in Leipzig" in _prep(meeting).content and result.output["cited"] == [NEWS]


def test_one_briefing_per_meeting() -> None:
    meeting = upcoming(researched_lead())
    _, second = assert_idempotent("meeting_prep", {"meeting_id": meeting.pk})
    assert second.output["already"] is True


def test_a_meeting_that_will_not_happen_needs_no_briefing() -> None:
    meeting = upcoming(prospect(), status=Meeting.Status.CANCELED)
    result = run_agent("meeting_prep", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "canceled" in result.error
    assert run_agent("meeting_prep", {"meeting_id": 424242}).status == "skipped"


def test_a_lead_we_know_little_about_still_gets_a_useful_briefing() -> None:
    meeting = upcoming(prospect())
    run_agent("meeting_prep", {"meeting_id": meeting.pk})
    content = _prep(meeting).content
    assert "Mary Smith, COO at Bright Dental Group" in content and "Questions to ask:" in content
