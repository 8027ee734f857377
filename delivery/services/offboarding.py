"""Offboarding: the checklist when a client leaves, and the door left open for later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery.models import Offboarding, SurveyResponse
from sales.models import Client
from smarter_team import clock

S = Offboarding.Status


def start_offboarding(
    *, client: Client, reason: str, checklist: Sequence[str], reactivation_after: dt.date | None = None
) -> Offboarding:
    """Open the client's offboarding (the client is churned from now on).

    Idempotent: an offboarding already in progress is returned unchanged.
    """
    items = [item.strip() for item in checklist if item.strip()]
    if len(set(items)) != len(items):
        raise ValidationError("Checklist items must be unique", code="duplicate_items")
    if not reason.strip():
        raise ValidationError("An offboarding needs a reason", code="missing_reason")
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        existing = Offboarding.objects.filter(client=locked, status=S.IN_PROGRESS).first()
        if existing is not None:
            return existing
        if locked.status not in (Client.Status.CHURNED, Client.Status.OFFBOARDED):
            locked.transition_to(Client.Status.CHURNED)
        return Offboarding.objects.create(
            client=locked,
            reason=reason.strip(),
            checklist=[{"item": item, "done_at": None} for item in items],
            reactivation_after=reactivation_after,
        )


def complete_offboarding_item(*, offboarding: Offboarding, item: str) -> Offboarding:
    """Tick one checklist item (idempotent: a ticked item keeps its first time)."""
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.status != S.IN_PROGRESS:
            raise ValidationError("The offboarding is already completed", code="offboarding_closed")
        for entry in offboarding.checklist:
            if entry.get("item") == item:
                if not entry.get("done_at"):
                    entry["done_at"] = clock.now().isoformat()
                    offboarding.save(update_fields=["checklist"])
                return offboarding
        raise ValidationError(f"{item!r} is not on the offboarding checklist", code="unknown_item")


def record_access_revoked(*, offboarding: Offboarding) -> Offboarding:
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.access_revoked_at is None:
            offboarding.access_revoked_at = clock.now()
            offboarding.save(update_fields=["access_revoked_at"])
        return offboarding


def complete_offboarding(*, offboarding: Offboarding, handover_document: str | None = None) -> Offboarding:
    """Close the offboarding once every checklist item is done; the client is offboarded."""
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.status == S.COMPLETED:
            return offboarding
        open_items = [e["item"] for e in offboarding.checklist if not e.get("done_at")]
        if open_items:
            raise ValidationError(f"Checklist items still open: {', '.join(open_items)}", code="items_open")
        also = ["completed_at"]
        if handover_document is not None:
            offboarding.handover_document = handover_document
            also.append("handover_document")
        offboarding.completed_at = clock.now()
        offboarding.transition_to(S.COMPLETED, also=also)
        client = Client.objects.select_for_update().get(pk=offboarding.client_id)
        client.transition_to(Client.Status.OFFBOARDED)
        return offboarding


EXIT_SCALE = (0, 10)  # the exit survey's first question: how likely to recommend us, 0-10 (NPS-like)


def exit_survey_of(*, offboarding: Offboarding) -> SurveyResponse | None:
    """The exit survey sent for this offboarding (the client's exit survey sent since it started)."""
    return (
        SurveyResponse.objects.filter(
            client_id=offboarding.client_id, kind=SurveyResponse.Kind.EXIT, sent_at__gte=offboarding.created_at
        )
        .order_by("-sent_at", "-pk")
        .first()
    )


def open_exit_survey(*, offboarding: Offboarding, questions: Sequence[str]) -> SurveyResponse:
    """The exit survey as sent (its questions), waiting for answers; one per offboarding."""
    if not [q for q in questions if q.strip()]:
        raise ValidationError("An exit survey asks at least one question", code="no_questions")
    with transaction.atomic():
        Offboarding.objects.select_for_update().get(pk=offboarding.pk)  # one survey per offboarding, even racing
        existing = exit_survey_of(offboarding=offboarding)
        if existing is not None:
            return existing
        return SurveyResponse.objects.create(
            client_id=offboarding.client_id,
            kind=SurveyResponse.Kind.EXIT,
            answers={"offboarding_id": offboarding.pk, "questions": [q.strip() for q in questions if q.strip()]},
            sent_at=clock.now(),
        )


def record_exit_answers(
    *,
    survey: SurveyResponse,
    score: int | None,
    answers: Mapping[str, Any],
    analysis: str,
    responded_at: dt.datetime | None = None,
) -> SurveyResponse:
    """Store an exit survey's answers (merged into what was sent: the questions stay).

    ``score`` is the 0-10 answer or None when none could be read; a score outside the scale is
    refused here (the caller records the raw answer and the reason instead).
    """
    if survey.kind != SurveyResponse.Kind.EXIT:
        raise ValidationError(f"Survey #{survey.pk} is not an exit survey", code="not_exit")
    if score is not None and not EXIT_SCALE[0] <= score <= EXIT_SCALE[1]:
        raise ValidationError(
            f"An exit score is between {EXIT_SCALE[0]} and {EXIT_SCALE[1]}, not {score}", code="score_out_of_range"
        )
    with transaction.atomic():
        survey = SurveyResponse.objects.select_for_update().get(pk=survey.pk)
        survey.score = score
        survey.answers = {**survey.answers, **dict(answers)}
        survey.analysis = analysis
        survey.responded_at = responded_at or clock.now()
        survey.save(update_fields=["score", "answers", "analysis", "responded_at"])
        return survey
