"""fathom_integration: a recording's content is stored with its meeting, or held for a human."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, drain, rerun, run_agent
from crm.services.agency import profile
from integrations.models import WebhookEvent
from integrations.sandbox.store import remember
from integrations.webhooks.services import process_event
from sales.agents.calls._transcript import parse
from sales.models import CallPerformance, FathomRecording, Meeting, MeetingNote
from tests.factories.sales import MeetingFactory
from tests.integrations.webhooks.conftest import (  # noqa: F401 - signed posting through the real endpoint
    _rejected_quota_out_of_the_way,
    post_signed,
    post_webhook,
    webhook_secrets,
)
from tests.sales.agents.calls.conftest import CALL_START, email_of, prospect

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

LINES = [
    {"speaker": speaker, "speaker_email": "", "text": text, "timestamp": at}
    for speaker, text, at in (
        ("Alex Morgan", "Thanks for making the time, Mary.", "00:00:04"),
        ("Mary Smith", "Happy to. Follow-ups fall through the cracks.", "00:00:40"),
        ("Alex Morgan", "Do you have a budget in mind?", "00:01:30"),
        ("Mary Smith", "Somewhere between $8,000 and $12,000.", "00:02:10"),
    )
]


def event(lead_email: str, **changes: Any) -> dict[str, Any]:
    data = {
        "recording_id": "rec_100",
        "title": "Discovery call",
        "url": "https://fathom.video/calls/rec_100",
        "share_url": "https://fathom.video/share/rec_100",
        "started_at": (CALL_START + dt.timedelta(minutes=3)).isoformat(),
        "ended_at": (CALL_START + dt.timedelta(minutes=33)).isoformat(),
        "invitee_emails": [lead_email, profile().sender_email],
        "summary": "Discussed follow-ups and budget.",
        "transcript": LINES,
    }
    return data | changes


def meeting_for(**fields: Any) -> Meeting:
    lead = fields.pop("lead", None) or prospect()
    defaults = {"lead": lead, "status": Meeting.Status.REMINDED, "starts_at": CALL_START,
                "ends_at": CALL_START + dt.timedelta(minutes=30)}  # fmt: skip
    return MeetingFactory.create(**(defaults | fields))


def test_a_recording_is_matched_by_invitee_and_time_and_stored_turn_by_turn() -> None:
    earlier = meeting_for(
        starts_at=CALL_START - dt.timedelta(days=7), ends_at=CALL_START - dt.timedelta(days=7, minutes=-30)
    )
    meeting = meeting_for(lead=earlier.lead)
    result = run_agent("fathom_integration", event(email_of(meeting)))
    assert result.status == "succeeded", result.error
    assert result.output["meeting_id"] == meeting.pk and result.output["turns"] == 4
    recording = FathomRecording.objects.get(recording_id="rec_100")
    assert recording.meeting == meeting and recording.transcript_status == "ready"
    assert recording.summary == "Discussed follow-ups and budget." and recording.url.endswith("rec_100")
    note = MeetingNote.objects.get(meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT)
    assert note.source == "rec_100"
    assert [(t.speaker, t.start, t.text) for t in parse(note.content)] == [
        ("Alex Morgan", 4, LINES[0]["text"]),
        ("Mary Smith", 40, LINES[1]["text"]),
        ("Alex Morgan", 90, LINES[2]["text"]),
        ("Mary Smith", 130, LINES[3]["text"]),
    ]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD  # a recording proves the call happened
    assert {(r.agent_name, r.input["meeting_id"]) for r in result.handoffs} == {
        ("meeting_notes", meeting.pk),
        ("call_performance_analytics", meeting.pk),
    }


def test_a_recording_is_matched_by_the_meetings_link_first() -> None:
    meeting = meeting_for(join_url="https://fathom.video/calls/rec_100")
    result = run_agent("fathom_integration", event("someone@else.example"))
    assert result.output["meeting_id"] == meeting.pk


def test_the_same_content_delivered_again_changes_nothing_and_starts_nothing() -> None:
    meeting = meeting_for()
    first, second = assert_idempotent("fathom_integration", event(email_of(meeting)))
    assert len(first.handoffs) == 2
    assert second.output["transcript"] == "unchanged" and second.handoffs == []


def test_a_recording_without_a_meeting_waits_for_an_operator_to_link_it() -> None:
    lead = prospect()
    assert lead.email
    result = run_agent("fathom_integration", event(lead.email))
    assert result.status == "escalated"
    assert result.output["transcript"] == "waiting" and "within" in result.output["reason"]
    recording = FathomRecording.objects.get(recording_id="rec_100")
    assert recording.meeting is None and recording.transcript_status == "pending"
    assert not MeetingNote.objects.exists()
    escalation = result.escalations[0]
    assert escalation.kind == Escalation.Kind.ERROR and "matches no meeting" in escalation.reason
    assert escalation.payload["recording_id"] == "rec_100"
    # The operator finds the meeting (booked under another address), links it and approves.
    meeting = meeting_for()
    FathomRecording.objects.filter(pk=recording.pk).update(meeting=meeting)
    decide(escalation=escalation, approve=True, user=None, note="linked by hand")
    AgentRun.objects.filter(pk=result.run.pk).update(due_at=CALL_START)
    again = rerun(result.run)
    assert again.status == "succeeded", again.error
    assert MeetingNote.objects.filter(meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT).exists()
    assert {r.agent_name for r in again.handoffs} == {"meeting_notes", "call_performance_analytics"}


@pytest.mark.parametrize(
    ("transcript", "problem"),
    [
        ([], "no spoken lines"),
        ([{"speaker": "", "text": "Hello?", "timestamp": "00:00:01"}], "names its speaker"),
        ([LINES[0], {**LINES[1], "timestamp": "half past"}], "unreadable timestamp"),
        ([LINES[2], LINES[1]], "goes back in time"),
    ],
)
def test_a_malformed_transcript_is_refused_whole_and_escalated(transcript: list[dict[str, str]], problem: str) -> None:
    meeting = meeting_for()
    result = run_agent("fathom_integration", event(email_of(meeting), recording_id="rec_bad", transcript=transcript))
    assert result.status == "succeeded", result.error
    assert result.output["transcript"] == "rejected" and problem in result.output["reason"]
    recording = FathomRecording.objects.get(recording_id="rec_bad")
    assert recording.meeting == meeting and recording.transcript_status == "failed"
    assert not MeetingNote.objects.exists() and result.handoffs == []
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.REMINDED
    assert [e.kind for e in result.escalations] == [Escalation.Kind.ERROR] and problem in result.escalations[0].reason
    again = run_agent("fathom_integration", event(email_of(meeting), recording_id="rec_bad", transcript=transcript))
    assert again.created == {} and again.escalations == []


def test_a_transcript_left_out_of_the_event_is_read_from_the_recorder() -> None:
    meeting = meeting_for()
    remember(kind="recording", ref="rec_100", data={
        "recording_id": "rec_100", "booking_id": "bk_x", "title": "Discovery call",
        "started_at": (CALL_START + dt.timedelta(minutes=3)).isoformat(), "duration_seconds": 1800,
        "lines": [{"speaker": line["speaker"], "email": "", "text": line["text"], "timestamp": line["timestamp"]}
                  for line in LINES],
    })  # fmt: skip
    result = run_agent("fathom_integration", event(email_of(meeting), transcript=[]))
    assert result.output["transcript"] == "stored" and result.output["turns"] == 4


def test_a_call_among_ourselves_is_not_a_sales_meeting() -> None:
    ours = profile().sender_email
    colleague = "jo@" + ours.rpartition("@")[2]
    result = run_agent("fathom_integration", event(ours, invitee_emails=[ours, colleague]))
    assert result.status == "skipped" and "internal" in result.error
    assert not FathomRecording.objects.exists()


def test_fathoms_signed_webhook_reaches_the_agent_and_the_call_is_processed(post_signed: Any) -> None:  # noqa: F811
    meeting = meeting_for()
    email = email_of(meeting)
    body = {
        "recording_id": 987654321,
        "meeting_title": "Discovery call",
        "url": "https://fathom.video/calls/987654321",
        "share_url": "https://fathom.video/share/xyz",
        "recording_start_time": (CALL_START + dt.timedelta(minutes=2)).isoformat(),
        "recording_end_time": (CALL_START + dt.timedelta(minutes=31)).isoformat(),
        "calendar_invitees": [{"name": "Mary Smith", "email": email_of(meeting).upper(), "is_external": True}],
        "default_summary": {"markdown_formatted": "## Summary\nFollow-ups and budget."},
        "transcript": [
            {"speaker": {"display_name": line["speaker"],
                         "matched_calendar_invitee_email": email if line["speaker"] == "Mary Smith" else None},
             "text": line["text"], "timestamp": line["timestamp"]}
            for line in LINES
        ],
    }  # fmt: skip
    response = post_signed("fathom", json.dumps(body).encode(), msg_id="msg_fathom_1")
    assert response.status_code == 200, response.content
    stored = WebhookEvent.objects.get(provider="fathom")
    process_event(event_pk=stored.pk)
    done = {run.agent_name: run.status for run in drain()}
    assert done["fathom_integration"] == "succeeded"
    assert done["meeting_notes"] == done["call_performance_analytics"] == "succeeded"
    recording = FathomRecording.objects.get(recording_id="987654321")
    assert recording.meeting == meeting and recording.summary.startswith("## Summary")
    note = MeetingNote.objects.get(meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT)
    assert parse(note.content)[1].email == email_of(meeting)
    assert CallPerformance.objects.get(meeting=meeting).questions_asked == 1
