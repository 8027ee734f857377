"""The sandbox's "calls" reaction (SANDBOX.md: calls react to fit and to whether prep happened):
a prepared host draws out needs, budget and timeline and agrees a next step more often."""

from __future__ import annotations

import re

import pytest

from integrations.sandbox.conversation import call_course, discovery_call, host_prepared
from integrations.sandbox.world import Person, search_people
from sales.models import MeetingNote
from tests.factories.sales import MeetingFactory, MeetingNoteFactory

HOST = "Alex (Smarter Team)"


def _people(count: int = 300) -> list[Person]:
    return search_people(query="dental clinics", location="", start=0, count=count)


def _share(people: list[Person], *, prepared: bool, what: str = "qualifies") -> float:
    courses = [call_course(booking_id=f"bk_{p.email}", fit=p.company.fit, prepared=prepared) for p in people]
    return sum(bool(getattr(c, what)) for c in courses) / len(courses)


def test_prep_clearly_raises_the_share_of_calls_that_qualify_for_a_proposal() -> None:
    people = _people()
    without, with_prep = _share(people, prepared=False), _share(people, prepared=True)
    # Measured on this seed: about 22% without a briefing, about 60% with one.
    assert with_prep - without >= 0.25 and with_prep >= 2 * without


@pytest.mark.parametrize("what", ["needs_stated", "budget_stated", "timeline_stated", "deciders_named"])
def test_a_prepared_host_draws_out_each_part_of_the_picture_more_often(what: str) -> None:
    people = _people()
    assert _share(people, prepared=True, what=what) > _share(people, prepared=False, what=what) + 0.1


def test_a_prepared_host_answers_objections_and_closes_on_a_next_step_more_often() -> None:
    people = _people()
    raised = [
        p
        for p in people
        if call_course(booking_id=f"bk_{p.email}", fit=p.company.fit, prepared=False).objection is not None
    ]
    assert (
        _share(raised, prepared=True, what="objection_handled")
        > _share(raised, prepared=False, what="objection_handled") + 0.25
    )
    assert (
        _share(people, prepared=True, what="next_step_agreed")
        > _share(people, prepared=False, what="next_step_agreed") + 0.15
    )


def test_on_one_seed_prep_only_ever_improves_a_call() -> None:
    """Common random numbers: the same booking's call is compared with and without prep."""
    for person in _people(150):
        bare = call_course(booking_id=f"bk_{person.email}", fit=person.company.fit, prepared=False)
        prepped = call_course(booking_id=f"bk_{person.email}", fit=person.company.fit, prepared=True)
        assert prepped.qualifies >= bare.qualifies
        assert prepped.budget_stated >= bare.budget_stated and prepped.needs_stated >= bare.needs_stated


def test_a_better_fitting_prospect_qualifies_more_often() -> None:
    ids = [f"bk_{n}" for n in range(400)]
    for prepared in (False, True):
        weak = sum(call_course(booking_id=b, fit=0.2, prepared=prepared).qualifies for b in ids)
        strong = sum(call_course(booking_id=b, fit=0.9, prepared=prepared).qualifies for b in ids)
        assert strong > weak * 1.3


def test_the_same_booking_names_the_same_budget_and_people_with_or_without_prep() -> None:
    person = next(
        p for p in _people() if call_course(booking_id=f"bk_{p.email}", fit=p.company.fit, prepared=False).budget_stated
    )
    booking = f"bk_{person.email}"
    bare, prepped = (
        " ".join(
            line["text"]
            for line in discovery_call(booking_id=booking, person=person, host_name=HOST, minutes=30, prepared=prepared)
        )
        for prepared in (False, True)
    )
    assert re.findall(r"\$[\d,]+k?", bare) == re.findall(r"\$[\d,]+k?", prepped) != []


def test_the_transcript_is_fathom_shaped_and_its_clock_only_moves_forward() -> None:
    person = _people(5)[0]
    lines = discovery_call(booking_id="bk_shape", person=person, host_name=HOST, minutes=30, prepared=True)
    assert {line["speaker"] for line in lines} == {HOST, person.full_name}
    assert all(line["email"] == (person.email if line["speaker"] == person.full_name else "") for line in lines)
    seconds = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in (line["timestamp"].split(":") for line in lines)]
    assert seconds == sorted(seconds) and seconds[-1] < 30 * 60
    assert lines == discovery_call(booking_id="bk_shape", person=person, host_name=HOST, minutes=30, prepared=True)


@pytest.mark.django_db
def test_the_host_counts_as_prepared_when_our_briefing_for_that_booking_exists() -> None:
    meeting = MeetingFactory.create(booking_uid="bk_prepared")
    MeetingFactory.create(booking_uid="bk_other")
    assert not host_prepared("bk_prepared")
    MeetingNoteFactory.create(meeting=meeting, kind=MeetingNote.Kind.PREP, content="Briefing")
    assert host_prepared("bk_prepared") and not host_prepared("bk_other")
    person = _people(5)[0]
    read = discovery_call(booking_id="bk_prepared", person=person, host_name=HOST, minutes=30)
    assert read == discovery_call(booking_id="bk_prepared", person=person, host_name=HOST, minutes=30, prepared=True)
