"""transcript_processing: requirements with the line each came from, a draft proposal, then pricing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from integrations.sandbox.conversation import call_course, discovery_call
from integrations.sandbox.world import search_people
from sales.models import Proposal
from sales.requirements import Requirements
from tests.sales.agents.calls.conftest import held_call, prospect
from tests.sales.agents.calls.transcripts import CHAT_CALL, QUOTING_CALL, SUPPORT_CALL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock", "pricing_stub")]


def _requirements(proposal: Proposal) -> Requirements:
    found = Requirements.from_proposal(proposal)
    assert found.needs, proposal.requirements  # read back through the schema, not as loose JSON
    return found


def test_a_discovery_call_becomes_a_draft_proposal_with_cited_requirements() -> None:
    meeting = held_call(SUPPORT_CALL)
    result = run_agent("transcript_processing", {"meeting_id": meeting.pk})
    assert result.status == "succeeded", result.error
    proposal = Proposal.objects.get(meeting=meeting)
    assert proposal.status == Proposal.Status.DRAFT and proposal.lead == meeting.lead
    assert meeting.lead is not None and proposal.company == meeting.lead.company and proposal.currency == "EUR"
    assert proposal.title == "Bright Dental Group: AI chatbot build"
    found = _requirements(proposal)
    for item in found.evidence():
        assert item.quote.rstrip(".") in SUPPORT_CALL[item.line][1]
    assert found.budget is not None
    assert (found.budget.low, found.budget.high, found.budget.currency) == (Decimal(15000), Decimal(20000), "EUR")
    assert found.timeline is not None and found.timeline.line == 13
    assert [(d.name, d.role) for d in found.decision_makers] == [("Tom Becker", "CFO")]
    assert {s.service for s in found.scope} <= {"AI chatbot build", "Workflow automation"} and found.scope
    assert found.meeting_id == meeting.pk and found.recording_id == "rec_test_1"
    assert [(r.agent_name, r.input) for r in result.handoffs] == [
        ("pricing", {"proposal_id": proposal.pk, "change_request_id": None})
    ]


def test_a_monthly_budget_and_a_want_are_kept_as_said() -> None:
    meeting = held_call(QUOTING_CALL, lead=prospect(first_name="Raj", last_name="Patel"))
    run_agent("transcript_processing", {"meeting_id": meeting.pk})
    found = _requirements(Proposal.objects.get(meeting=meeting))
    assert found.budget is not None and (found.budget.high, found.budget.per) == (Decimal(2000), "month")
    assert any("assistant" in n.text for n in found.needs)


def test_the_models_reading_is_used_when_every_quote_is_in_its_line() -> None:
    meeting = held_call(SUPPORT_CALL)
    overloaded = {"line": 3, "quote": "my two agents can't keep up"}
    answer = {
        "needs": [overloaded | {"text": "Support team overloaded"}],
        "scope": [overloaded | {"text": "Support assistant", "service": "AI chatbot build"}],
        "budget": {"line": 11, "quote": "around 15 to 20 thousand euros", "low": "15000", "high": "20000",
                   "currency": "EUR"},
        "decision_makers": [{"line": 15, "quote": "Our CFO, Tom Becker, has the final say", "name": "Tom Becker",
                             "role": "CFO"}],
    }  # fmt: skip
    run_agent("transcript_processing", {"meeting_id": meeting.pk}, answers=[answer])
    found = _requirements(Proposal.objects.get(meeting=meeting))
    assert [n.text for n in found.needs] == ["Support team overloaded"] and found.timeline is None


@pytest.mark.parametrize(
    "bad",
    [
        {"needs": [{"line": 3, "quote": "we lose a million a year", "text": "Losing money"}]},  # never said
        {"needs": [{"line": 99, "quote": "out of control", "text": "Inbox"}]},  # no such line
        {"needs": [{"line": 3, "quote": "out of control", "text": "Inbox"}],
         "budget": {"line": 11, "quote": "around 15 to 20 thousand euros", "low": "50000", "high": "90000",
                    "currency": "EUR"}},  # amounts the quote does not name
    ],
)  # fmt: skip
def test_a_reading_that_quotes_what_was_not_said_falls_back_to_the_heuristic(bad: dict[str, Any]) -> None:
    meeting = held_call(SUPPORT_CALL)
    run_agent("transcript_processing", {"meeting_id": meeting.pk}, answers=[bad])
    found = _requirements(Proposal.objects.get(meeting=meeting))
    assert len(found.needs) == 4 and found.budget is not None and found.budget.high == Decimal(20000)


def test_one_proposal_per_discovery_call() -> None:
    meeting = held_call(SUPPORT_CALL)
    _, second = assert_idempotent("transcript_processing", {"meeting_id": meeting.pk})
    assert second.output["already"] is True and Proposal.objects.count() == 1


def test_a_call_that_names_no_need_drafts_nothing() -> None:
    meeting = held_call(CHAT_CALL)
    result = run_agent("transcript_processing", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "no need" in result.error and not Proposal.objects.exists()


def test_the_sandboxs_discovery_call_is_read_into_its_hidden_budget() -> None:
    person = next(
        p
        for p in search_people(query="dental clinics", location="", start=0, count=200)
        if call_course(booking_id=f"bk_{p.email}", fit=p.company.fit, prepared=True).qualifies
    )
    lines = discovery_call(booking_id=f"bk_{person.email}", person=person, host_name="Alex Morgan", minutes=30,
                           prepared=True)  # fmt: skip
    lead = prospect(first_name=person.first_name, last_name=person.last_name, email=person.email)
    meeting = held_call([("them" if line["email"] else "us", line["text"]) for line in lines], lead=lead)
    run_agent("transcript_processing", {"meeting_id": meeting.pk})
    found = _requirements(Proposal.objects.get(meeting=meeting))
    assert found.budget is not None and found.budget.currency == "USD"
    assert found.budget.high is not None and abs(found.budget.high - person.company.budget) <= 1000
    assert len(found.needs) == 2 and found.scope
