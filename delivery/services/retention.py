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
    """Record a churn-risk verdict; a high risk marks an active client at risk."""
    if level not in ChurnRiskAssessment.Level.values:
        raise ValidationError(f"Unknown risk level {level!r}", code="invalid_level")
    with transaction.atomic():
        assessment = ChurnRiskAssessment.objects.create(
            client=client, level=level, factors=list(factors), save_play=save_play, snapshot=snapshot
        )
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if level == ChurnRiskAssessment.Level.HIGH and locked.status == Client.Status.ACTIVE:
            locked.transition_to(Client.Status.AT_RISK)
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


def record_survey_response(
    *,
    client: Client,
    kind: str,
    score: int | None,
    answers: Mapping[str, Any] | None = None,
    responded_at: dt.datetime | None = None,
) -> SurveyResponse:
    scale: dict[str, tuple[int, int]] = {SurveyResponse.Kind.NPS: (0, 10), SurveyResponse.Kind.CSAT: (1, 5)}
    if kind not in SurveyResponse.Kind.values:
        raise ValidationError(f"Unknown survey kind {kind!r}", code="invalid_kind")
    if score is not None and kind in scale and not scale[kind][0] <= score <= scale[kind][1]:
        low, high = scale[kind]
        raise ValidationError(f"A {kind} score is between {low} and {high}", code="score_out_of_range")
    return SurveyResponse.objects.create(
        client=client, kind=kind, score=score, answers=dict(answers or {}), responded_at=responded_at or clock.now()
    )
