"""Fathom: meeting recordings and their transcripts (the Recorder role).

API reference: https://developers.fathom.ai/api-reference
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pydantic

from integrations.http import BaseClient, NotFoundError, Rate
from integrations.http.pagination import by_cursor
from integrations.registry import register_provider
from integrations.values import Recording, Transcript, TranscriptSegment

MEETINGS = "meetings"  # https://developers.fathom.ai/api-reference/meetings/list-meetings
TRANSCRIPT = (
    "recordings/{recording_id}/transcript"  # https://developers.fathom.ai/api-reference/recordings/get-transcript
)
SCAN_PAGES = 20  # Fathom has no get-by-id for meetings: look through the recent ones


class Meeting(pydantic.BaseModel):
    recording_id: int | str
    title: str = ""
    meeting_title: str | None = None
    url: str = ""
    share_url: str = ""
    created_at: dt.datetime | None = None
    recording_start_time: dt.datetime | None = None
    recording_end_time: dt.datetime | None = None


class MeetingPage(pydantic.BaseModel):
    items: list[Meeting]
    next_cursor: str | None = None


class _Speaker(pydantic.BaseModel):
    display_name: str = ""


class _Line(pydantic.BaseModel):
    speaker: _Speaker = _Speaker()
    text: str
    timestamp: str = "00:00:00"


class TranscriptResponse(pydantic.BaseModel):
    transcript: list[_Line]


def _seconds(timestamp: str) -> float:
    seconds = 0.0
    for part in timestamp.split(":"):
        seconds = seconds * 60 + float(part or 0)
    return seconds


def _recording(meeting: Meeting) -> Recording:
    start, end = meeting.recording_start_time, meeting.recording_end_time
    return Recording(
        recording_id=str(meeting.recording_id),
        title=meeting.meeting_title or meeting.title,
        url=meeting.url,
        share_url=meeting.share_url,
        started_at=start,
        duration_seconds=int((end - start).total_seconds()) if start and end else 0,
    )


@register_provider("recorder", "fathom")
class FathomClient(BaseClient):
    name = "fathom"
    base_url = "https://api.fathom.ai/external/v1"
    api_key_name = "FATHOM_API_KEY"
    required_keys = ("FATHOM_API_KEY",)
    auth_style = "header"
    auth_header = "X-Api-Key"
    rate: ClassVar[Rate | None] = Rate(capacity=5, per_second=1.0)  # 60 requests/minute

    def meetings(self, *, since: dt.datetime | None = None, max_pages: int = 100) -> list[Meeting]:
        def fetch(cursor: str | None) -> tuple[list[Meeting], str | None]:
            params: dict[str, Any] = {}
            if since is not None:
                params["created_after"] = since.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            if cursor:
                params["cursor"] = cursor
            page = self.get(MEETINGS, operation="list_meetings", model=MeetingPage, params=params)
            return page.items, page.next_cursor

        return list(by_cursor(fetch, max_pages=max_pages))

    def list_recordings(self, *, since: dt.datetime | None = None) -> list[Recording]:
        return [_recording(m) for m in self.meetings(since=since)]

    def get_recording(self, recording_id: str) -> Recording:
        for meeting in self.meetings(max_pages=SCAN_PAGES):
            if str(meeting.recording_id) == str(recording_id):
                return _recording(meeting)
        raise NotFoundError(
            f"recording {recording_id} not among recent meetings", provider=self.name, operation="get_recording"
        )

    def get_transcript(self, recording_id: str) -> Transcript:
        response = self.get(
            TRANSCRIPT.format(recording_id=recording_id), operation="get_transcript", model=TranscriptResponse
        )
        return Transcript(
            recording_id=str(recording_id),
            segments=tuple(
                TranscriptSegment(
                    speaker=line.speaker.display_name, text=line.text, start_seconds=_seconds(line.timestamp)
                )
                for line in response.transcript
            ),
        )

    def ping(self) -> str:
        page = self.get(MEETINGS, operation="health_check", model=MeetingPage, attempts=1)
        return f"{len(page.items)} recent meetings readable"
