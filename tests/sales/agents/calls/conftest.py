"""Calls held and recorded: a meeting with its host and prospect, and its stored transcript."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from agents import registry
from agents.base import Agent, Empty
from agents.errors import UnknownAgent
from crm.models import Lead
from crm.services.agency import profile
from sales.agents.calls._transcript import Parties, Turn, assign_sides, render
from sales.models import Meeting, MeetingNote, MeetingParticipant
from sales.services.meetings import add_participant, save_meeting_note
from tests.factories.crm import CompanyFactory, LeadFactory
from tests.factories.sales import MeetingFactory

# Monday 2 March 2026, 09:00 UTC (the frozen clock); the call was 08:00-08:30 UTC, 09:00 in Berlin.
CALL_START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
CALL_DAY = dt.date(2026, 3, 2)
SECONDS_PER_TURN = 40


def prospect(**fields: Any) -> Lead:
    company = CompanyFactory.create(name=fields.pop("company_name", "Bright Dental Group"), tech_stack=["HubSpot"])
    defaults = {"first_name": "Mary", "last_name": "Smith", "title": "COO", "company": company}
    return LeadFactory.create(**(defaults | fields))


def email_of(meeting: Meeting) -> str:
    """The address of whom the meeting is with (always there in these tests)."""
    assert meeting.lead is not None and meeting.lead.email
    return meeting.lead.email


def turns_of(script: Sequence[tuple[str, str]], *, host: str = "Alex Morgan", guest: str = "Mary Smith") -> list[Turn]:
    """A script of ("us" | "them", text) as sided turns, SECONDS_PER_TURN apart."""
    turns = [
        Turn(index=n, speaker=host if who == "us" else guest, text=text, start=n * SECONDS_PER_TURN)
        for n, (who, text) in enumerate(script)
    ]
    who = Parties(
        our_emails=frozenset(),
        our_names=frozenset({host.lower()}),
        their_emails=frozenset(),
        their_names=frozenset({guest.lower()}),
        agency_name="smarter team",
    )
    return assign_sides(turns, who)


def held_call(
    script: Sequence[tuple[str, str]],
    *,
    lead: Lead | None = None,
    kind: str = Meeting.Kind.DISCOVERY,
    status: str = Meeting.Status.HELD,
    recording_id: str = "rec_test_1",
) -> Meeting:
    """A meeting that took place, with its participants and its transcript stored as Fathom's."""
    lead = lead or prospect()
    meeting = MeetingFactory.create(
        lead=lead,
        kind=kind,
        status=status,
        starts_at=CALL_START,
        ends_at=CALL_START + dt.timedelta(minutes=30),
        time_zone="Europe/Berlin",
    )
    agency = profile()
    add_participant(
        meeting=meeting, email=agency.sender_email, name=agency.sender_name, role=MeetingParticipant.Role.HOST
    )
    add_participant(meeting=meeting, email=lead.email or "", name=lead.full_name, role=MeetingParticipant.Role.PROSPECT)
    turns = turns_of(script, host=agency.sender_name, guest=lead.full_name)
    stored = [Turn(t.index, t.speaker, t.text, t.start, email=(lead.email or "") if t.theirs else "") for t in turns]
    save_meeting_note(meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT, content=render(stored), source=recording_id)
    return meeting


class ProposalOrChange(BaseModel):
    proposal_id: int | None = None
    change_request_id: int | None = None


@pytest.fixture
def pricing_stub() -> Iterator[None]:
    """pricing is another engineer's: a stand-in with its input contract takes our handoffs."""
    try:
        registry.get("pricing")
    except UnknownAgent:
        stub = type(
            "StubPricing",
            (Agent,),
            {
                "name": "pricing",
                "category": "proposal",
                "trigger": "handoff",
                "Input": ProposalOrChange,
                "act": lambda self, ctx, facts: Empty(),
                "__module__": __name__,
            },
        )
        registry.register(stub)
        yield
        registry.unregister("pricing")
    else:
        yield
