"""The offline reading of calls: turns, sides, questions, objections, next steps, promises, and what
the prospect needs. Fed real-sounding calls (transcripts.py) and the sandbox's, not one script."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from integrations.sandbox.conversation import call_course, discovery_call
from integrations.sandbox.world import search_people
from integrations.webhooks.inputs import TranscriptLine
from sales.agents.calls import _dialogue, _discovery
from sales.agents.calls._transcript import (
    UNKNOWN_SPEAKER,
    MalformedTranscript,
    Parties,
    Turn,
    assign_sides,
    parse,
    render,
    turns_from_lines,
)
from tests.sales.agents.calls.conftest import CALL_DAY, turns_of
from tests.sales.agents.calls.transcripts import CHAT_CALL, QUOTING_CALL, SUPPORT_CALL

MONDAY = CALL_DAY


def _line(speaker: str, text: str, at: str, email: str = "") -> TranscriptLine:
    return TranscriptLine(speaker=speaker, speaker_email=email, text=text, timestamp=at)


# --- turns -------------------------------------------------------------------------------------
def test_fathom_lines_become_turns_with_seconds_and_stored_text_reads_back_the_same() -> None:
    turns = turns_from_lines(
        [
            _line("Alex", "Thanks for making the time.", "00:00:05"),
            _line("Mary Smith", "Happy to.  Our budget is around $10,000.", "00:01:12", "Mary@Bright.com"),
            _line("Mary Smith", "   ", "00:01:20"),  # nothing said: dropped
            _line("", "Sorry, who joined?", "01:30"),
            _line("Mary: Smith <x>", "Just me.", "95.5"),
        ]
    )
    assert [(t.index, t.speaker, t.start, t.email) for t in turns] == [
        (0, "Alex", 5, ""),
        (1, "Mary Smith", 72, "mary@bright.com"),
        (2, UNKNOWN_SPEAKER, 90, ""),
        (3, "Mary Smith x", 95, ""),
    ]
    assert turns[1].text == "Happy to. Our budget is around $10,000."
    assert [(t.speaker, t.text, t.start, t.email) for t in parse(render(turns))] == [
        (t.speaker, t.text, t.start, t.email) for t in turns
    ]


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([], "no spoken lines"),
        ([_line("", "Hello?", "00:00:01"), _line("", "Hi.", "00:00:03")], "names its speaker"),
        ([_line("Alex", "Hi.", "00:00:01"), _line("Mary", "Hello.", "yesterday")], "unreadable timestamp"),
        ([_line("Alex", "Hi.", "00:00:01"), _line("Mary", "Hello.", "00:99:00")], "unreadable timestamp"),
        ([_line("Alex", "Hi.", "00:05:00"), _line("Mary", "Hello.", "00:01:00")], "goes back in time"),
    ],
)
def test_a_transcript_that_cannot_be_read_as_turns_is_refused_with_where(
    lines: list[TranscriptLine], problem: str
) -> None:
    with pytest.raises(MalformedTranscript, match=problem):
        turns_from_lines(lines)


def test_a_turn_after_the_recording_ended_is_a_bad_clock() -> None:
    lines = [_line("Alex", "Hi.", "00:00:01"), _line("Mary", "Bye.", "02:10:00")]
    with pytest.raises(MalformedTranscript, match="after the recording ended"):
        turns_from_lines(lines, duration=30 * 60)
    assert len(turns_from_lines(lines)) == 2


def test_sides_come_from_emails_names_and_who_is_left() -> None:
    who = Parties(
        our_emails=frozenset({"alex@agency.example"}),
        our_names=frozenset({"alex morgan"}),
        their_emails=frozenset({"mary@bright.com"}),
        their_names=frozenset({"mary smith"}),
        agency_name="smarter team",
        our_domain="agency.example",
    )
    turns = [
        Turn(0, "Alex (Smarter Team)", "Hi all.", 0),
        Turn(1, "Mary", "Hi.", 5),
        Turn(2, "Sam from Bright", "Hello.", 9, email="sam@bright.com"),
        Turn(3, "Jo", "Hey.", 12, email="jo@agency.example"),
    ]
    assert [t.side for t in assign_sides(turns, who)] == ["us", "them", "them", "us"]
    # Only the prospect is known: the other voice is our host.
    bare = Parties(frozenset(), frozenset(), frozenset({"mary@bright.com"}), frozenset(), "smarter team")
    two = [Turn(0, "Host", "Hi.", 0), Turn(1, "Mary", "Hi.", 3, email="mary@bright.com")]
    assert [t.side for t in assign_sides(two, bare)] == ["us", "them"]


# --- how the call went -------------------------------------------------------------------------
def test_our_questions_are_counted_with_or_without_a_question_mark() -> None:
    turns = turns_of(SUPPORT_CALL)
    assert len(_dialogue.questions(turns)) == 7
    assert _dialogue.is_question("tell me about your team") and not _dialogue.is_question("That makes sense.")


def test_an_objection_answered_with_substance_is_handled_and_a_nod_is_not() -> None:
    found = _dialogue.objections(turns_of(SUPPORT_CALL))
    assert [(o.label, o.handled) for o in found] == [("past failure", True), ("concern", True)]
    assert "approval step" in found[0].answer
    nod = [("them", "My worry is that the team will not adopt it."), ("us", "I hear you."), ("them", "Okay.")]
    assert [(o.label, o.handled) for o in _dialogue.objections(turns_of(nod))] == [("adoption", False)]
    competing = _dialogue.objections(turns_of(QUOTING_CALL))
    assert [(o.label, o.handled) for o in competing] == [("competition", False)]


def test_a_next_step_is_agreed_only_on_a_yes_without_a_hedge() -> None:
    agreed = _dialogue.next_step(turns_of(SUPPORT_CALL))
    assert agreed.agreed and "proposal by Thursday" in agreed.text and agreed.reply.startswith("That works")
    hedged = _dialogue.next_step(turns_of(QUOTING_CALL))
    assert not hedged.agreed and "we'll see" in hedged.reply
    assert not _dialogue.next_step(turns_of(CHAT_CALL)).agreed
    asked = [("them", "Can you send me a quote for the chatbot?"), ("us", "Will do, you'll have it by Friday.")]
    assert _dialogue.next_step(turns_of(asked)).agreed


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("I'll send it by Friday.", dt.date(2026, 3, 6)),
        ("by the end of the week", dt.date(2026, 3, 6)),
        ("tomorrow morning", dt.date(2026, 3, 3)),
        ("next Tuesday works", dt.date(2026, 3, 10)),
        ("next Thursday", dt.date(2026, 3, 12)),  # three days off, "next" means the week after
        ("in two weeks", dt.date(2026, 3, 16)),
        ("within 3 days", dt.date(2026, 3, 5)),
        ("early next week", dt.date(2026, 3, 9)),
        ("by March 20th", dt.date(2026, 3, 20)),
        ("before 2 February", dt.date(2027, 2, 2)),
        ("end of the month", dt.date(2026, 3, 31)),
        ("sometime soon", None),
    ],
)
def test_due_dates_are_read_from_the_call_day(said: str, due: dt.date | None) -> None:
    assert _dialogue.due_date(said, on=MONDAY) == due


def test_action_items_have_an_owner_on_each_side_and_a_date() -> None:
    items = _dialogue.action_items(turns_of(SUPPORT_CALL), on=MONDAY)
    mine = [(i.owner, i.due) for i in items]
    assert ("us", dt.date(2026, 3, 5)) in mine  # the proposal, by Thursday
    assert ("us", dt.date(2026, 3, 9)) in mine  # the call with Tom, early next week
    assert any(i.owner == "them" and "heads up" in i.text and i.owner_name == "Mary Smith" for i in items)
    asked = _dialogue.action_items(turns_of(CHAT_CALL), on=MONDAY)
    assert any(i.owner == "us" and "Send me something" in i.text for i in asked)


# --- what they need ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("said", "values", "currency"),
    [
        ("We were thinking somewhere between $16,000 and $29,000.", ["16000", "29000"], "USD"),
        ("Our budget is roughly $18k to $29k for a first phase.", ["18000", "29000"], "USD"),
        ("around 15 to 20 thousand euros", ["15000", "20000"], "EUR"),
        ("maybe £8-12k", ["8000", "12000"], "GBP"),
        ("twenty-five thousand dollars, tops", ["25000"], "USD"),
        ("Wir haben 15.000 € eingeplant", ["15000"], "EUR"),
        ("AUD 40k", ["40000"], "AUD"),
        ("about 40 people and 12 weeks", [], None),
    ],
)
def test_sums_of_money_are_read_in_the_ways_people_say_them(said: str, values: list[str], currency: str | None) -> None:
    found = _discovery.amounts(said)
    assert [
        str(a.value.normalize()) if a.value != a.value.to_integral() else str(int(a.value)) for a in found
    ] == values
    assert all(a.currency == currency for a in found) if found else currency is None


def test_the_budget_is_what_they_would_spend_not_their_revenue_or_a_tool_price() -> None:
    support = _discovery.budget(turns_of(SUPPORT_CALL), default_currency="USD")
    assert support is not None
    assert (support.low, support.high, support.currency, support.per, support.line) == (
        Decimal("15000"), Decimal("20000"), "EUR", "", 11,
    )  # fmt: skip
    monthly = _discovery.budget(turns_of(QUOTING_CALL), default_currency="USD")
    assert monthly is not None and (monthly.low, monthly.high, monthly.per) == (Decimal(2000), Decimal(2000), "month")
    noise = [("them", "We do about $4 million in revenue."), ("them", "We pay $300 a month for HubSpot.")]
    assert _discovery.budget(turns_of(noise), default_currency="USD") is None
    capped = [("us", "Any budget in mind?"), ("them", "Up to 12k.")]
    found = _discovery.budget(turns_of(capped), default_currency="GBP")
    assert found is not None and (found.low, found.high, found.currency) == (None, Decimal(12000), "GBP")


def test_the_timeline_is_when_they_want_it_live_in_weeks_from_the_call() -> None:
    support = _discovery.timeline(turns_of(SUPPORT_CALL), on=MONDAY)
    assert support is not None and support.line == 13 and support.weeks == 26
    said = [("us", "And a timeline?"), ("them", "Ideally by the end of next quarter.")]
    found = _discovery.timeline(turns_of(said), on=MONDAY)
    assert found is not None and found.weeks == 17  # 30 June
    pain_not_time = [("them", "Onboarding takes us three weeks of back and forth.")]
    assert _discovery.timeline(turns_of(pain_not_time), on=MONDAY) is None
    whenever = [("us", "When would you want this live?"), ("them", "No fixed date. Whenever it's ready.")]
    assert _discovery.timeline(turns_of(whenever), on=MONDAY) is None


def test_needs_are_the_problems_they_named_each_in_their_words() -> None:
    needs = _discovery.needs(turns_of(SUPPORT_CALL))
    assert [n.line for n in needs] == [3, 3, 5, 5]
    assert needs[0].text == "Honestly our support inbox is out of control" or "support inbox" in needs[0].text
    assert all(n.quote in SUPPORT_CALL[n.line][1] for n in needs)
    assert _discovery.needs(turns_of(CHAT_CALL)) == []
    scope = _discovery.scope(needs, services=["AI chatbot build", "Workflow automation"])
    assert {s.service for s in scope} == {"AI chatbot build", "Workflow automation"}


def test_decision_makers_named_with_their_role_or_as_the_speaker() -> None:
    found = _discovery.decision_makers(turns_of(SUPPORT_CALL))
    assert [(d.name, d.role, d.line) for d in found] == [("Tom Becker", "CFO", 15)]
    me = [("us", "Who else is involved in the decision?"), ("them", "Me and Priya Patel, our head of sales.")]
    found = _discovery.decision_makers(turns_of(me), speaker_role="Founder")
    assert {(d.name, d.role) for d in found} == {("Priya Patel", "head of sales"), ("Mary Smith", "Founder")}
    not_names = [("us", "Who decides?"), ("them", "I'll talk to our CFO about it.")]
    assert _discovery.decision_makers(turns_of(not_names)) == []


def test_the_sandboxs_calls_read_back_as_what_happened_on_them() -> None:
    people = search_people(query="dental clinics", location="", start=0, count=120)
    for number, person in enumerate(people):
        for prepared in (False, True):
            booking = f"bk_read_{number}"
            course = call_course(booking_id=booking, fit=person.company.fit, prepared=prepared)
            lines = discovery_call(booking_id=booking, person=person, host_name="Alex (Smarter Team)", minutes=30,
                                   prepared=prepared)  # fmt: skip
            turns = turns_of([("us" if line["email"] == "" else "them", line["text"]) for line in lines])
            assert bool(_discovery.needs(turns)) == course.needs_stated
            budget = _discovery.budget(turns, default_currency="USD")
            assert (budget is not None) == course.budget_stated
            if budget is not None:
                assert budget.high is not None and abs(budget.high - person.company.budget) <= 1000
            assert (_discovery.timeline(turns, on=MONDAY) is not None) == course.timeline_stated
            assert _dialogue.next_step(turns).agreed == course.next_step_agreed
            objections = _dialogue.objections(turns)
            assert len(objections) == (course.objection is not None)
            assert sum(o.handled for o in objections) == course.objection_handled
