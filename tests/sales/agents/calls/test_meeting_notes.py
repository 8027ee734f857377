"""meeting_notes: summary, decisions and action items with owners and due dates, from the transcript."""

from __future__ import annotations

import pytest

from agents.testing import assert_idempotent, run_agent
from sales.models import MeetingNote
from tests.sales.agents.calls.conftest import held_call
from tests.sales.agents.calls.transcripts import CHAT_CALL, QUOTING_CALL, SUPPORT_CALL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _summary(meeting_id: int) -> MeetingNote:
    return MeetingNote.objects.get(meeting_id=meeting_id, kind=MeetingNote.Kind.SUMMARY)


def test_the_notes_say_what_was_asked_for_and_who_does_what_by_when() -> None:
    meeting = held_call(SUPPORT_CALL)
    result = run_agent("meeting_notes", {"meeting_id": meeting.pk})
    assert result.status == "succeeded", result.error
    note = _summary(meeting.pk)
    assert "support inbox is out of control" in note.content and "15 to 20 thousand euros" in note.content
    assert "Tom Becker (CFO)" in note.content and "Next step agreed" in note.content
    assert "answered" in note.content  # the skeptic was answered
    owners = {(i["owner"], i["due"]) for i in note.action_items}
    assert ("us", "2026-03-05") in owners and ("us", "2026-03-09") in owners
    assert any(i["owner"] == "them" and i["owner_name"] == "Mary Smith" for i in note.action_items)
    assert note.source == "rec_test_1"
    assert [(r.agent_name, r.input) for r in result.handoffs] == [("meeting_follow_up", {"meeting_id": meeting.pk})]


def test_a_call_without_substance_is_noted_as_such() -> None:
    meeting = held_call(CHAT_CALL)
    run_agent("meeting_notes", {"meeting_id": meeting.pk})
    content = _summary(meeting.pk).content
    assert "No specific problem was named" in content and "No budget was stated" in content
    assert "No next step agreed" in content and "Send me something" in content


def test_the_models_notes_are_used_when_they_hold_together() -> None:
    meeting = held_call(QUOTING_CALL)
    answer = {
        "summary": "Raj's estimators lose half a day per quote; budget about 2k a month; comparing agencies.",
        "decisions": [],
        "action_items": [
            {"text": "Send two proposal options", "owner": "us", "owner_name": "Alex", "due": "2026-03-04", "line": 8}
        ],
    }
    result = run_agent("meeting_notes", {"meeting_id": meeting.pk}, answers=[answer])
    note = _summary(meeting.pk)
    assert note.content.startswith("Raj's estimators") and note.action_items[0]["due"] == "2026-03-04"
    assert result.output["ours"] == 1


def test_an_action_item_due_before_the_call_sends_the_notes_back_to_the_heuristic() -> None:
    meeting = held_call(QUOTING_CALL)
    answer = {
        "summary": "A quoting assistant is wanted.",
        "action_items": [{"text": "Send the proposal", "owner": "us", "due": "2025-01-01", "line": 8}],
    }
    run_agent("meeting_notes", {"meeting_id": meeting.pk}, answers=[answer])
    note = _summary(meeting.pk)
    assert not note.content.startswith("A quoting assistant")
    assert all(i["due"] is None or i["due"] >= "2026-03-02" for i in note.action_items)
    assert "half a day" in note.content


def test_notes_are_made_once_per_transcript() -> None:
    meeting = held_call(SUPPORT_CALL)
    _, second = assert_idempotent("meeting_notes", {"meeting_id": meeting.pk})
    assert second.output["already"] is True and second.handoffs == []


def test_without_a_transcript_there_is_nothing_to_note() -> None:
    meeting = held_call(SUPPORT_CALL)
    meeting.notes.all().delete()
    result = run_agent("meeting_notes", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "no transcript" in result.error
