"""A sandbox call end to end: booked, briefed (or not), held, recorded by Fathom through the signed
webhook, then notes + measures -> recap -> requirements and a draft proposal for pricing."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.models import AgentRun
from agents.testing import advance, run_agent
from crm.models import Message
from crm.services.agency import profile
from integrations.roles import get_role
from integrations.sandbox.attendance import Reminders, shows_up
from integrations.sandbox.behaviour import meeting_fate
from integrations.sandbox.conversation import call_course
from integrations.sandbox.meetings import booking_identity
from integrations.sandbox.world import Person, search_people
from sales.models import CallPerformance, FathomRecording, Meeting, MeetingNote, Proposal
from sales.requirements import Requirements
from sales.services.meetings import create_meeting
from smarter_team import clock
from tests.crm.agents.conftest import market_lead
from tests.integrations.webhooks.conftest import event_agents  # noqa: F401 - stand-ins for unbuilt event agents
from tests.sales.agents.calls.conftest import email_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_world", "pricing_stub", "event_agents")]

TOMORROW_3PM = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)


def _key(person: Person) -> str:
    return f"meeting:{person.email}:discovery"


def _booking(person: Person) -> str:
    """The sandbox's id of the call (who meets when), as its calendar gives it."""
    return booking_identity(person.email, TOMORROW_3PM, _key(person))


def prep_decides(count: int) -> list[Person]:
    """People whose call will be held, and qualify with a briefed host but not without one."""
    found = []
    for person in search_people(query="dental clinics", location="", start=0, count=300):
        booking = _booking(person)
        fit = person.company.fit
        # Kept and attended even without reminders (a reminder only ever turns a no-show into a show).
        kept = meeting_fate(attendee_email=person.email, start=TOMORROW_3PM, fit=fit).kind == "keeps"
        comes = shows_up(attendee_email=person.email, start=TOMORROW_3PM, fit=fit, reminders=Reminders())
        if not (kept and comes) or person.email_status != "deliverable":
            continue
        if (
            call_course(booking_id=booking, fit=fit, prepared=True).qualifies
            and not call_course(booking_id=booking, fit=fit, prepared=False).qualifies
        ):
            found.append(person)
        if len(found) == count:
            return found
    raise AssertionError("the seeded market has too few such calls")


def booked(person: Person) -> Meeting:
    lead = market_lead(person)
    agency = profile()
    meeting = create_meeting(
        lead=lead,
        title="Discovery call",
        starts_at=TOMORROW_3PM,
        ends_at=TOMORROW_3PM + dt.timedelta(minutes=30),
        time_zone="America/New_York",
        booking_uid=_booking(person),
        participants=[
            {"email": agency.sender_email, "name": agency.sender_name, "role": "host"},
            {"email": person.email, "name": person.full_name, "role": "prospect"},
        ],
    )
    return meeting


def book_in_the_sandbox(person: Person, meeting: Meeting) -> None:
    booking = get_role("calendar").book(
        idempotency_key=_key(person),
        start=TOMORROW_3PM,
        duration_minutes=30,
        attendee_email=person.email,
        attendee_name=person.full_name,
        title="Discovery call",
        timezone="America/New_York",
    )
    assert booking.booking_id == meeting.booking_uid


def test_a_briefed_call_reaches_a_draft_proposal_and_an_unbriefed_one_a_recap(frozen_clock: clock.FrozenClock) -> None:
    briefed_person, bare_person = prep_decides(2)
    briefed, bare = booked(briefed_person), booked(bare_person)
    assert run_agent("meeting_prep", {"meeting_id": briefed.pk}).status == "succeeded"
    for person, meeting in ((briefed_person, briefed), (bare_person, bare)):
        book_in_the_sandbox(person, meeting)

    advance(frozen_clock, until=TOMORROW_3PM + dt.timedelta(hours=1), step=dt.timedelta(hours=2))

    runs = {(r.agent_name, r.status) for r in AgentRun.objects.all()}
    for name in ("fathom_integration", "meeting_notes", "call_performance_analytics", "meeting_follow_up"):
        assert (name, "succeeded") in runs, sorted(runs)
    for meeting in (briefed, bare):
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.FOLLOWED_UP
        assert FathomRecording.objects.get(meeting=meeting).transcript_status == "ready"
        kinds = set(MeetingNote.objects.filter(meeting=meeting).values_list("kind", flat=True))
        assert {"transcript", "summary"} <= kinds
        recap = Message.objects.get(idempotency_key=f"meeting:{meeting.pk}:follow_up")
        assert recap.status == Message.Status.SENT and recap.to_email == email_of(meeting)

    # The briefed call: a next step agreed, requirements read from the call, a draft for pricing.
    assert CallPerformance.objects.get(meeting=briefed).next_step_agreed is True
    proposal = Proposal.objects.get(meeting=briefed)
    found = Requirements.from_proposal(proposal)
    assert found.needs and found.scope and found.budget is not None
    assert found.budget.high is not None and abs(found.budget.high - briefed_person.company.budget) <= 1000
    assert AgentRun.objects.filter(agent_name="pricing", input__proposal_id=proposal.pk).exists()

    # The same market without a briefing: no proposal, and the reason is on record.
    assert not Proposal.objects.filter(meeting=bare).exists()
    follow_up = AgentRun.objects.get(agent_name="meeting_follow_up", input__meeting_id=bare.pk)
    assert isinstance(follow_up.output, dict) and follow_up.output["reason"].startswith("not qualified for a proposal")
