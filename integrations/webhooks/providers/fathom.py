"""Fathom: a recorded meeting's content is ready -> fathom_integration.

Verification: Standard Webhooks (https://www.standardwebhooks.com/): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (space-separated ``v1,<base64>`` values), the
base64 HMAC-SHA256 of ``"<id>.<timestamp>.<raw body>"`` keyed with the ``whsec_`` secret
(https://developers.fathom.ai/webhooks). The ``webhook-id`` is the event id.
Fathom sends one kind of event (new meeting content), so the type is fixed unless the body names one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    MalformedEvent,
    WebhookProvider,
    require_object,
    sub_objects,
    tolerance_seconds,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import RecordingEvent, TranscriptLine, parse_when
from integrations.webhooks.signatures import verify_standard_webhooks

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

MEETING_CONTENT_READY = "meeting_content_ready"


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_standard_webhooks(
        body=request.body,
        msg_id=request.header("webhook-id"),
        timestamp=request.header("webhook-timestamp"),
        signature_header=request.header("webhook-signature"),
        secrets=secrets,
        now=request.now,
        tolerance_seconds=tolerance_seconds(),
    )


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    body = require_object(payload, "a Fathom event")
    msg_id = request.header("webhook-id") or ""
    event_type = body.get("type") if isinstance(body.get("type"), str) else MEETING_CONTENT_READY
    if not msg_id:  # verification demands it; kept for callers that identify without verifying
        raise MalformedEvent("a Fathom event needs a webhook-id header")
    return EventIdentity(event_id=msg_id, event_type=str(event_type))


def _segments(transcript: Any) -> list[TranscriptLine]:
    lines = []
    for item in transcript if isinstance(transcript, list) else []:
        if not isinstance(item, dict):
            continue
        speaker = item.get("speaker")
        speaker = speaker if isinstance(speaker, dict) else {"display_name": speaker or ""}
        lines.append(
            TranscriptLine(
                speaker=str(speaker.get("display_name") or ""),
                speaker_email=str(speaker.get("matched_calendar_invitee_email") or "").lower(),
                text=str(item.get("text", "")),
                timestamp=str(item.get("timestamp", "")),
            )
        )
    return lines


def handle_meeting_content(event: WebhookEvent, payload: Any) -> bool:
    summary = payload.get("default_summary")
    recording_id = str(payload.get("recording_id") or payload.get("id") or event.event_id)
    action_items = payload.get("action_items")
    start_event_run(
        event=event,
        agent_name="fathom_integration",
        # One run per recording: Fathom may resend the same content under a new webhook-id.
        key=f"recording:{recording_id}",
        input=RecordingEvent(
            recording_id=recording_id,
            title=str(payload.get("meeting_title") or payload.get("title") or ""),
            url=str(payload.get("url") or ""),
            share_url=str(payload.get("share_url") or ""),
            started_at=parse_when(payload.get("recording_start_time") or payload.get("scheduled_start_time")),
            ended_at=parse_when(payload.get("recording_end_time")),
            invitee_emails=[str(i.get("email", "")).lower() for i in sub_objects(payload, "calendar_invitees")],
            summary=str(summary.get("markdown_formatted", "")) if isinstance(summary, dict) else str(summary or ""),
            action_items=action_items if isinstance(action_items, list) else [],
            transcript=_segments(payload.get("transcript")),
        ),
    )
    return True


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=("fathom_integration",),
    name="fathom",
    key_name="FATHOM_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={MEETING_CONTENT_READY: handle_meeting_content},
    secret_headers=("webhook-signature",),
    scheme="Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
)
