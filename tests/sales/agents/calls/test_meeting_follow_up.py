"""meeting_follow_up: one recap per meeting; a qualifying discovery call goes on to a proposal."""

from __future__ import annotations

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from sales.models import Meeting, MeetingNote
from tests.sales.agents.calls.conftest import email_of, held_call, prospect
from tests.sales.agents.calls.transcripts import CHAT_CALL, QUOTING_CALL, SUPPORT_CALL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _recap() -> Message:
    return Message.objects.get(idempotency_key__endswith=":follow_up")


def test_a_qualifying_discovery_call_gets_its_recap_and_goes_on_to_a_proposal() -> None:
    meeting = held_call(SUPPORT_CALL)
    run_agent("meeting_notes", {"meeting_id": meeting.pk})
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert result.status == "succeeded", result.error
    assert result.output["qualifies"] is True and result.output["proposal_next"] is True
    recap = _recap()
    assert recap.idempotency_key == f"meeting:{meeting.pk}:follow_up" and recap.to_email == email_of(meeting)
    assert recap.status == Message.Status.SENT and recap.intent == "meeting_follow_up"
    assert "support inbox is out of control" in recap.body and "15 to 20 thousand euros" in recap.body
    assert "I'll send you a short proposal by Thursday" in recap.body and "(by Monday 09 March)" in recap.body
    assert [a.kind for a in result.acts] == ["email.reply"]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.FOLLOWED_UP
    assert [(r.agent_name, r.input) for r in result.handoffs] == [("transcript_processing", {"meeting_id": meeting.pk})]


@pytest.mark.parametrize(
    ("script", "missing"),
    [
        (QUOTING_CALL, ["no next step was agreed"]),
        (CHAT_CALL, ["no need was stated", "no budget was stated", "no next step was agreed"]),
    ],
)
def test_a_call_that_does_not_qualify_gets_a_recap_asking_for_what_is_missing(
    script: list[tuple[str, str]], missing: list[str]
) -> None:
    meeting = held_call(script)
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert result.output["qualifies"] is False and result.handoffs == []
    assert result.output["reason"] == "not qualified for a proposal: " + "; ".join(missing)
    assert any(w.action == "meeting.not_qualified" for w in result.writes)
    body = _recap().body
    assert "proposal" not in body.lower() and "could you share" in body
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.FOLLOWED_UP


def test_a_recap_that_promises_a_proposal_the_call_did_not_earn_is_replaced() -> None:
    meeting = held_call(QUOTING_CALL)
    answer = {"subject": "Your proposal", "body": "Hi Raj, great call. Your proposal with two options is on its way!"}
    run_agent("meeting_follow_up", {"meeting_id": meeting.pk}, answers=[answer])
    recap = _recap()
    assert recap.subject != "Your proposal" and "proposal" not in recap.body.lower()


def test_the_models_recap_is_sent_when_it_holds() -> None:
    meeting = held_call(SUPPORT_CALL)
    answer = {
        "subject": "Thanks, Dana: next steps",
        "body": "Hi Dana,\n\nThanks for today. Proposal by Thursday.\n\nAlex",
    }
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk}, answers=[answer])
    assert _recap().subject == "Thanks, Dana: next steps" and result.output["proposal_next"] is True


def test_the_recap_goes_out_once_per_meeting() -> None:
    meeting = held_call(SUPPORT_CALL)
    _, second = assert_idempotent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert second.output["already"] is True and second.handoffs == [] and second.acts == []
    assert Message.objects.count() == 1


def test_someone_who_may_not_be_contacted_gets_no_recap_and_no_proposal() -> None:
    meeting = held_call(SUPPORT_CALL, lead=prospect(do_not_contact=True))
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "may not be contacted" in result.error
    assert not Message.objects.exists() and result.handoffs == []


def test_other_meetings_get_a_recap_but_no_qualification() -> None:
    meeting = held_call(SUPPORT_CALL, kind=Meeting.Kind.CHECK_IN)
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert result.output["qualifies"] is False and result.handoffs == [] and "check_in" in result.output["reason"]
    assert _recap().to_email == email_of(meeting)


def test_a_no_show_is_not_followed_up_here() -> None:
    meeting = held_call(SUPPORT_CALL, status=Meeting.Status.NO_SHOW)
    result = run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    assert result.status == "skipped" and "no_show" in result.error


def test_a_meeting_still_marked_upcoming_is_held_then_followed_up() -> None:
    meeting = held_call(SUPPORT_CALL, status=Meeting.Status.REMINDED)
    run_agent("meeting_follow_up", {"meeting_id": meeting.pk})
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.FOLLOWED_UP
    assert MeetingNote.objects.filter(meeting=meeting, kind="transcript").exists()
