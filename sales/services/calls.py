"""Recorded calls: the recording as Fathom reports it, and how the call went (CallPerformance)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from sales.models import CallPerformance, FathomRecording, Meeting

RATIO = Decimal("0.001")


def store_recording(
    *,
    recording_id: str,
    meeting: Meeting | None,
    url: str = "",
    share_url: str = "",
    summary: str = "",
    transcript_status: str = FathomRecording.TranscriptStatus.PENDING,
) -> tuple[FathomRecording, bool]:
    """Create or update the recording (one row per Fathom recording id); returns ``(row, changed)``.

    A recording linked to a meeting (by us, or by an operator in the admin) stays linked: a later
    delivery that cannot match it does not unlink it.
    """
    if not recording_id.strip():
        raise ValidationError("A recording needs its Fathom id", code="missing_recording_id")
    values = {
        "url": url[:500],
        "share_url": share_url[:500],
        "summary": summary,
        "transcript_status": transcript_status,
    }
    recording = FathomRecording.objects.select_for_update().filter(recording_id=recording_id).first()
    if recording is None:
        return FathomRecording.objects.create(recording_id=recording_id, meeting=meeting, **values), True
    if meeting is not None and recording.meeting_id is None:
        values["meeting"] = meeting  # type: ignore[assignment]
    changed = [name for name, value in values.items() if value and getattr(recording, name) != value]
    for name in changed:
        setattr(recording, name, values[name])
    if changed:
        recording.save(update_fields=changed)
    return recording, bool(changed)


def save_call_performance(
    *,
    meeting: Meeting,
    talk_ratio: Decimal,
    questions_asked: int,
    longest_monologue_seconds: int,
    objections_raised: int,
    objections_handled: int,
    next_step_agreed: bool,
) -> tuple[CallPerformance, bool]:
    """The call's measures (one row per meeting; measuring again replaces them). ``(row, changed)``."""
    if not Decimal(0) <= talk_ratio <= Decimal(1):
        raise ValidationError("The talk ratio is a share between 0 and 1", code="invalid_ratio")
    if objections_handled > objections_raised:
        raise ValidationError("More objections handled than raised", code="invalid_objections")
    values = {
        "talk_ratio": talk_ratio.quantize(RATIO),
        "questions_asked": questions_asked,
        "longest_monologue_seconds": longest_monologue_seconds,
        "objections_raised": objections_raised,
        "objections_handled": objections_handled,
        "next_step_agreed": next_step_agreed,
    }
    row = CallPerformance.objects.select_for_update().filter(meeting=meeting).first()
    if row is None:
        return CallPerformance.objects.create(meeting=meeting, **values), True
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return row, bool(changed)
