"""Retention: health snapshots, churn risk, upsells and surveys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery.models import ChurnRiskAssessment, HealthSnapshot, SurveyResponse, UpsellOpportunity
from sales.models import Client, Proposal
from smarter_team import clock


def record_health_snapshot(
    *, client: Client, score: int, components: Mapping[str, Any] | None = None, taken_on: dt.date | None = None
) -> HealthSnapshot:
    """The client's health for a day (one row per client and day: a recomputation the same day
    replaces it) and the client's current health score."""
    if not 0 <= score <= 100:
        raise ValidationError("A health score is between 0 and 100", code="score_out_of_range")
    day = taken_on or clock.today()
    with transaction.atomic():
        snapshot, _ = HealthSnapshot.objects.update_or_create(
            client=client, taken_on=day, defaults={"score": score, "components": dict(components or {})}
        )
        latest = HealthSnapshot.objects.filter(client=client).order_by("-taken_on").values_list("taken_on", flat=True)
        if latest.first() == day:
            Client.objects.filter(pk=client.pk).update(health_score=score, updated_at=clock.now())
        return snapshot


def record_churn_assessment(
    *,
    client: Client,
    level: str,
    factors: Sequence[Any] = (),
    save_play: str = "",
    snapshot: HealthSnapshot | None = None,
) -> ChurnRiskAssessment:
    """Record a churn-risk verdict; a high risk marks an active client at risk, a low one brings an
    at-risk client back to active (the episode is over)."""
    if level not in ChurnRiskAssessment.Level.values:
        raise ValidationError(f"Unknown risk level {level!r}", code="invalid_level")
    with transaction.atomic():
        assessment = ChurnRiskAssessment.objects.create(
            client=client, level=level, factors=list(factors), save_play=save_play, snapshot=snapshot
        )
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if level == ChurnRiskAssessment.Level.HIGH and locked.status == Client.Status.ACTIVE:
            locked.transition_to(Client.Status.AT_RISK)
        elif level == ChurnRiskAssessment.Level.LOW and locked.status == Client.Status.AT_RISK:
            locked.transition_to(Client.Status.ACTIVE)
        return assessment


def identify_upsell(
    *, client: Client, title: str, estimated_value: Decimal, currency: str = "USD", rationale: str = ""
) -> UpsellOpportunity:
    if not isinstance(estimated_value, Decimal) or estimated_value < 0:
        raise ValidationError("The estimated value must be a Decimal >= 0", code="invalid_value")
    return UpsellOpportunity.objects.create(
        client=client, title=title, estimated_value=estimated_value, currency=currency.upper(), rationale=rationale
    )


def change_upsell_status(
    *, upsell: UpsellOpportunity, status: str, proposal: Proposal | None = None
) -> UpsellOpportunity:
    with transaction.atomic():
        upsell = UpsellOpportunity.objects.select_for_update().get(pk=upsell.pk)
        also = []
        if proposal is not None:
            upsell.proposal = proposal
            also.append("proposal")
        upsell.transition_to(status, also=also)
        return upsell


SCALES: dict[str, tuple[int, int]] = {SurveyResponse.Kind.NPS: (0, 10), SurveyResponse.Kind.CSAT: (1, 5)}


def out_of_scale(kind: str, score: int) -> str:
    """Why ``score`` cannot be a ``kind`` answer ("" when it can)."""
    if kind not in SCALES:
        return ""
    low, high = SCALES[kind]
    return "" if low <= score <= high else f"a {kind} score is between {low} and {high}, not {score}"


def record_survey_response(
    *,
    client: Client,
    kind: str,
    score: int | None,
    answers: Mapping[str, Any] | None = None,
    responded_at: dt.datetime | None = None,
) -> SurveyResponse:
    if kind not in SurveyResponse.Kind.values:
        raise ValidationError(f"Unknown survey kind {kind!r}", code="invalid_kind")
    if score is not None and (problem := out_of_scale(kind, score)):
        raise ValidationError(problem[0].upper() + problem[1:], code="score_out_of_range")
    return SurveyResponse.objects.create(
        client=client, kind=kind, score=score, answers=dict(answers or {}), responded_at=responded_at or clock.now()
    )


# A survey older than this no longer waits for an answer (a reply then is just a message).
SURVEY_ANSWER_WINDOW = dt.timedelta(days=45)


def survey_awaiting_answer(*, company_id: int, now: dt.datetime) -> SurveyResponse | None:
    """The latest scored survey sent to this company's client that still waits for an answer."""
    return (
        SurveyResponse.objects.filter(
            client__company_id=company_id,
            kind__in=list(SCALES),
            responded_at__isnull=True,
            sent_at__gte=now - SURVEY_ANSWER_WINDOW,
        )
        .order_by("-sent_at", "-pk")
        .first()
    )


def open_survey(*, client: Client, kind: str, key: str, subject: str, sent_at: dt.datetime) -> SurveyResponse:
    """The survey we sent (no answer yet), once per ``key`` (``survey:client:12:2026-03``): the row
    the answer is written onto when it comes."""
    if kind not in SCALES:
        raise ValidationError(f"{kind!r} is not a scored survey", code="invalid_kind")
    existing = SurveyResponse.objects.filter(client=client, answers__survey_key=key).first()
    if existing is not None:
        return existing
    return SurveyResponse.objects.create(
        client=client, kind=kind, sent_at=sent_at, answers={"survey_key": key, "subject": subject}
    )


def record_survey_answer(
    *, survey: SurveyResponse, score: int | None, text: str, message_id: int | None, responded_at: dt.datetime
) -> tuple[SurveyResponse, str]:
    """Write an answer onto an open survey; returns it and the problem ("" when none).

    A score outside the survey's scale is not stored as the score (the database refuses it) but
    kept, with the reply's words and the reason, so nothing the client said is lost and an
    operator can read what they meant ("11/10!")."""
    problem = out_of_scale(survey.kind, score) if score is not None else "no score found in the answer"
    with transaction.atomic():
        survey = SurveyResponse.objects.select_for_update().get(pk=survey.pk)
        answers = dict(survey.answers)
        answers.update({"text": text[:2000], "message_id": message_id})
        if problem:
            answers.update({"problem": problem, "given_score": score})
        survey.answers = answers
        survey.score = None if problem else score
        survey.responded_at = responded_at
        survey.analysis = _analysis(survey.kind, survey.score) if not problem else f"not scored: {problem}"
        survey.save(update_fields=["answers", "score", "responded_at", "analysis"])
        return survey, problem


def _analysis(kind: str, score: int | None) -> str:
    if score is None:
        return ""
    if kind == SurveyResponse.Kind.NPS:
        # Reichheld's bands (The Ultimate Question, 2006).
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    return "satisfied" if score >= 4 else "neutral" if score == 3 else "dissatisfied"
