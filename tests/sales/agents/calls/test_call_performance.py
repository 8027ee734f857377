"""call_performance_analytics: talk ratio, questions, monologue, objections and next step, from turns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.testing import assert_idempotent, run_agent
from sales.agents.calls.call_performance import longest_monologue, measure, talk_ratio
from sales.models import CallPerformance
from tests.sales.agents.calls.conftest import SECONDS_PER_TURN, held_call, turns_of
from tests.sales.agents.calls.transcripts import QUOTING_CALL, SUPPORT_CALL

pytestmark = pytest.mark.django_db

MONOLOGUE = [
    ("them", "So tell me how it works."),
    ("us", "Sure. First we map your process."),
    ("us", "Then we build the assistant and connect it to your tools."),
    ("us", "And then we run a pilot for four weeks."),
    ("them", "Okay."),
    ("us", "Any questions?"),
]


def test_the_talk_ratio_is_our_words_over_all_words() -> None:
    turns = turns_of([("us", "one two three"), ("them", "four five six seven eight nine"), ("us", "ten")])
    assert talk_ratio(turns) == Decimal("0.400")
    assert talk_ratio([]) == Decimal("0.000")


def test_the_longest_monologue_runs_from_our_first_words_to_the_next_speaker() -> None:
    turns = turns_of(MONOLOGUE)
    assert longest_monologue(turns) == 3 * SECONDS_PER_TURN
    # The call's last words last as long as they take to say (about 2.5 words a second).
    closing = turns_of([("them", "Right."), ("us", " ".join(["word"] * 50))])
    assert longest_monologue(closing) == 20


def test_a_whole_call_is_measured_and_stored() -> None:
    meeting = held_call(SUPPORT_CALL)
    result = run_agent("call_performance_analytics", {"meeting_id": meeting.pk})
    assert result.status == "succeeded", result.error
    stored = CallPerformance.objects.get(meeting=meeting)
    expected = measure(turns_of(SUPPORT_CALL))
    assert stored.talk_ratio == expected.talk_ratio and Decimal("0.3") < stored.talk_ratio < Decimal("0.6")
    assert (stored.questions_asked, stored.objections_raised, stored.objections_handled) == (7, 2, 2)
    assert stored.next_step_agreed is True
    assert stored.longest_monologue_seconds == SECONDS_PER_TURN


def test_an_unanswered_objection_and_a_hedged_next_step_show() -> None:
    meeting = held_call(QUOTING_CALL)
    result = run_agent("call_performance_analytics", {"meeting_id": meeting.pk})
    assert result.output["objections_raised"] == 1 and result.output["objections_handled"] == 0
    assert result.output["next_step_agreed"] is False and result.output["questions_asked"] == 3


def test_measuring_twice_writes_nothing_new() -> None:
    meeting = held_call(SUPPORT_CALL)
    first, second = assert_idempotent("call_performance_analytics", {"meeting_id": meeting.pk})
    assert first.output["changed"] is True and second.output["changed"] is False


def test_a_meeting_without_a_transcript_is_skipped_with_the_reason() -> None:
    meeting = held_call(SUPPORT_CALL)
    meeting.notes.all().delete()
    result = run_agent("call_performance_analytics", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "no transcript" in result.error
    assert run_agent("call_performance_analytics", {"meeting_id": 999_999}).status == "skipped"
