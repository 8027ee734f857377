"""fathom_integration: a recorded call's content arrived from Fathom. Store it with its meeting.

Facts: the webhook's RecordingEvent (recording, invitees, times, Fathom's summary, transcript
lines), the recording if stored before (an operator may have linked it to its meeting), the
meeting it belongs to, and the transcript as speaker turns. When the event carries no
transcript (Fathom can be set to send none), it is read from the Recorder role.
Matching: the meeting whose join link is the recording's, else the meeting with one of the
invitees (its lead or a participant) that starts closest to the recording, within MATCH_WINDOW.
Does: stores the FathomRecording, the transcript as MeetingNote(kind=transcript) with every turn's
speaker and time, marks the meeting held (a recording proves it), and hands the meeting to
meeting_notes and call_performance_analytics.
Bad input: a recording that matches no meeting is stored unlinked and waits on an escalation
(link it in the admin and approve: the run goes on; reject: it ends). A transcript that cannot be
read as turns is refused whole (recording stored as failed, escalated, nothing else written).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q
from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Mailbox
from crm.services.agency import profile
from integrations.http.errors import PermanentError
from integrations.values import Transcript
from integrations.webhooks.inputs import RecordingEvent, TranscriptLine
from sales.agents.calls._transcript import MalformedTranscript, Turn, render, turns_from_lines
from sales.models import FathomRecording, Meeting, MeetingNote
from sales.services.calls import store_recording
from sales.services.meetings import mark_meeting_held, save_meeting_note

# How far from a meeting's start its recording may begin: hosts start late, calls overrun, and a
# meeting moved at the last minute may not have reached us yet.
MATCH_WINDOW = dt.timedelta(hours=6)
# Without any time on the recording: only a meeting of the last days, and only if it is the one.
UNDATED_LOOKBACK = dt.timedelta(days=14)
HELD_FROM = (Meeting.Status.SCHEDULED, Meeting.Status.RESCHEDULED, Meeting.Status.REMINDED)
S = FathomRecording.TranscriptStatus


class RecordingFacts(Facts):
    data: RecordingEvent
    recording: FathomRecording | None = None
    meeting: Meeting | None = None
    unmatched: str = ""  # why no meeting was found
    candidates: list[int] = []
    turns: list[Turn] = []
    malformed: str = ""
    stored: MeetingNote | None = None  # the transcript note as it is now


class RecordingStored(BaseModel):
    recording_id: str
    meeting_id: int | None = None
    transcript: Literal["stored", "unchanged", "rejected", "waiting"] = "stored"
    turns: int = 0
    reason: str = ""


def _ours() -> tuple[set[str], str]:
    agency = profile()
    emails = {agency.sender_email.lower(), *(e.lower() for e in Mailbox.objects.values_list("email", flat=True))}
    return emails, agency.sender_email.lower().rpartition("@")[2]


def _outside_emails(data: RecordingEvent) -> set[str]:
    ours, domain = _ours()
    found = {e.strip().lower() for e in data.invitee_emails} | {line.speaker_email for line in data.transcript}
    return {e for e in found if e and "@" in e and e not in ours and not (domain and e.endswith("@" + domain))}


def match_meeting(data: RecordingEvent, *, now: dt.datetime) -> tuple[Meeting | None, str, list[int]]:
    """The recording's meeting, or None with the reason and the meetings considered."""
    live = Meeting.objects.exclude(status__in=[Meeting.Status.CANCELED, Meeting.Status.PROPOSED])
    urls = [u for u in (data.url, data.share_url) if u]
    if urls:
        by_link = live.filter(join_url__in=urls).order_by("-starts_at").first()
        if by_link is not None:
            return by_link, "", [by_link.pk]
    emails = _outside_emails(data)
    if not emails:
        return None, "the recording names no invitee outside the agency", []
    with_them = live.filter(Q(lead__email__in=emails) | Q(participants__email__in=emails)).distinct()
    when = data.started_at or data.ended_at
    if when is not None:
        near = list(with_them.filter(starts_at__gte=when - MATCH_WINDOW, starts_at__lte=when + MATCH_WINDOW)[:20])
        if near:
            near.sort(key=lambda m: (abs((m.starts_at - when).total_seconds()), m.pk))  # type: ignore[operator]
            return near[0], "", [m.pk for m in near]
        others = list(with_them.order_by("-starts_at").values_list("pk", flat=True)[:10])
        reason = f"no meeting with {', '.join(sorted(emails))} starts within {MATCH_WINDOW} of {when.isoformat()}"
        return None, reason, others
    recent = list(with_them.filter(starts_at__gte=now - UNDATED_LOOKBACK, starts_at__lte=now)[:3])
    if len(recent) == 1:
        return recent[0], "", [recent[0].pk]
    what = "several meetings" if recent else "no recent meeting"
    return None, f"the recording has no time and {what} with {', '.join(sorted(emails))}", [m.pk for m in recent]


def _lines_from(transcript: Transcript) -> list[TranscriptLine]:
    return [
        TranscriptLine(speaker=s.speaker, text=s.text, timestamp=str(int(s.start_seconds))) for s in transcript.segments
    ]


@register
class FathomIntegration(Agent[RecordingEvent, RecordingStored]):
    name = "fathom_integration"
    category = "meeting"
    trigger = "event"
    queue = "sales"
    Input = RecordingEvent
    Facts = RecordingFacts
    Output = RecordingStored
    next = ("meeting_notes", "call_performance_analytics")

    def load(self, ctx: RunContext, data: RecordingEvent) -> RecordingFacts:
        if not data.recording_id.strip():
            raise SkipRun("the Fathom event names no recording")
        facts = RecordingFacts(data=data)
        facts.recording = (
            FathomRecording.objects.select_related("meeting").filter(recording_id=data.recording_id).first()
        )
        if facts.recording is not None and facts.recording.meeting is not None:
            facts.meeting = facts.recording.meeting  # linked before, maybe by an operator
        else:
            facts.meeting, facts.unmatched, facts.candidates = match_meeting(data, now=ctx.now())
            if facts.meeting is None and data.invitee_emails and not _outside_emails(data):
                raise SkipRun("everyone invited is from the agency: an internal call, not a sales meeting")
        lines = data.transcript or self._fetched(ctx, data.recording_id)
        duration = None
        if data.started_at is not None and data.ended_at is not None and data.ended_at > data.started_at:
            duration = int((data.ended_at - data.started_at).total_seconds())
        try:
            facts.turns = turns_from_lines(lines, duration=duration)
        except MalformedTranscript as exc:
            facts.malformed = str(exc)
        if facts.meeting is not None:
            facts.stored = MeetingNote.objects.filter(meeting=facts.meeting, kind=MeetingNote.Kind.TRANSCRIPT).first()
        return facts

    def _fetched(self, ctx: RunContext, recording_id: str) -> list[TranscriptLine]:
        recorder = ctx.roles.recorder
        try:
            transcript = ctx.cached(
                f"recorder:{recorder.name}:transcript:{recording_id}",
                lambda: recorder.get_transcript(recording_id),
                model=Transcript,
            )
        except PermanentError as exc:
            ctx.log.warning("no transcript for %s from the recorder: %s", recording_id, exc)
            return []
        return _lines_from(transcript)

    def act(self, ctx: RunContext, facts: RecordingFacts) -> RecordingStored:
        data, meeting = facts.data, facts.meeting
        out = RecordingStored(recording_id=data.recording_id, meeting_id=meeting.pk if meeting else None)
        if meeting is None:
            store_recording(recording_id=data.recording_id, meeting=None, url=data.url, share_url=data.share_url,
                            summary=data.summary)  # fmt: skip
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"Fathom recording {data.recording_id} ({data.title or 'untitled'}) matches no meeting: "
                f"{facts.unmatched}. Link it to its meeting in the admin and approve to store the transcript, "
                "or reject to leave it unlinked.",
                payload={
                    "recording_id": data.recording_id,
                    "invitees": data.invitee_emails,
                    "started_at": data.started_at.isoformat() if data.started_at else None,
                    "candidates": facts.candidates,
                },
                dedupe_key=f"fathom:{data.recording_id}:unmatched",
                wait=True,
            )
            out.transcript, out.reason = "waiting", facts.unmatched
            return out
        if facts.malformed:
            _, changed = store_recording(
                recording_id=data.recording_id,
                meeting=meeting,
                url=data.url,
                share_url=data.share_url,
                summary=data.summary,
                transcript_status=S.FAILED,
            )
            if changed:
                ctx.escalate(
                    Escalation.Kind.ERROR,
                    f"Fathom's transcript of {meeting} (recording {data.recording_id}) is unreadable: "
                    f"{facts.malformed}. Nothing was stored from it; check the recording in Fathom.",
                    payload={"recording_id": data.recording_id, "meeting_id": meeting.pk, "problem": facts.malformed},
                    dedupe_key=f"fathom:{data.recording_id}:malformed",
                )
            out.transcript, out.reason = "rejected", facts.malformed
            return out
        content = render(facts.turns)
        out.turns = len(facts.turns)
        unchanged = facts.stored is not None and facts.stored.source == data.recording_id
        if unchanged and facts.stored is not None and facts.stored.content == content:
            out.transcript = "unchanged"
            return out  # a redelivery: notes and measures were made from this transcript already
        store_recording(recording_id=data.recording_id, meeting=meeting, url=data.url, share_url=data.share_url,
                        summary=data.summary, transcript_status=S.READY)  # fmt: skip
        save_meeting_note(
            meeting=meeting, kind=MeetingNote.Kind.TRANSCRIPT, content=content, source=data.recording_id[:128]
        )
        if meeting.status in HELD_FROM:
            mark_meeting_held(meeting=meeting)
        ctx.handoff("meeting_notes", {"meeting_id": meeting.pk})
        ctx.handoff("call_performance_analytics", {"meeting_id": meeting.pk})
        return out
