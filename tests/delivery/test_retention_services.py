"""Health snapshots, churn risk, upsells and surveys (delivery/services/retention.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from delivery.models import HealthSnapshot, UpsellOpportunity
from delivery.services import retention
from sales.models import Client
from smarter_team import clock
from smarter_team.models import InvalidTransition
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_a_snapshot_is_one_per_client_and_day_and_the_latest_wins() -> None:
    client = ClientFactory.create()

    retention.record_health_snapshot(client=client, score=80, components={"payments": 100})
    snapshot = retention.record_health_snapshot(client=client, score=65, components={"payments": 50})

    assert HealthSnapshot.objects.filter(client=client).count() == 1
    assert (snapshot.taken_on, snapshot.score, snapshot.components) == (clock.today(), 65, {"payments": 50})
    client.refresh_from_db()
    assert client.health_score == 65


def test_a_backfilled_snapshot_does_not_overwrite_the_current_score() -> None:
    client = ClientFactory.create()
    retention.record_health_snapshot(client=client, score=70)

    retention.record_health_snapshot(client=client, score=20, taken_on=clock.today() - dt.timedelta(days=7))

    client.refresh_from_db()
    assert client.health_score == 70
    assert HealthSnapshot.objects.filter(client=client).count() == 2


def test_a_score_outside_0_100_is_refused() -> None:
    with pytest.raises(ValidationError):
        retention.record_health_snapshot(client=ClientFactory.create(), score=101)


def test_a_high_churn_risk_marks_an_active_client_at_risk() -> None:
    client = ClientFactory.create(status=Client.Status.ACTIVE)

    retention.record_churn_assessment(client=client, level="high", factors=["late invoices"])

    client.refresh_from_db()
    assert client.status == Client.Status.AT_RISK


def test_an_upsell_moves_through_its_statuses() -> None:
    upsell = retention.identify_upsell(client=ClientFactory.create(), title="Voice", estimated_value=Decimal("1200"))

    upsell = retention.change_upsell_status(upsell=upsell, status=UpsellOpportunity.Status.PROPOSED)
    upsell = retention.change_upsell_status(upsell=upsell, status=UpsellOpportunity.Status.WON)

    assert upsell.status == UpsellOpportunity.Status.WON
    with pytest.raises(InvalidTransition):
        retention.change_upsell_status(upsell=upsell, status=UpsellOpportunity.Status.LOST)


@pytest.mark.parametrize(("kind", "score"), [("nps", 11), ("csat", 0), ("csat", 6)])
def test_a_survey_score_outside_its_scale_is_refused(kind: str, score: int) -> None:
    with pytest.raises(ValidationError, match="between"):
        retention.record_survey_response(client=ClientFactory.create(), kind=kind, score=score)


def test_an_nps_answer_is_recorded() -> None:
    response = retention.record_survey_response(
        client=ClientFactory.create(), kind="nps", score=10, answers={"why": "fast"}
    )

    assert (response.score, response.responded_at) == (10, clock.now())


def test_a_low_risk_brings_an_at_risk_client_back_to_active() -> None:
    client = ClientFactory.create(status=Client.Status.AT_RISK)
    retention.record_churn_assessment(client=client, level="medium")
    client.refresh_from_db()
    assert client.status == Client.Status.AT_RISK
    retention.record_churn_assessment(client=client, level="low")
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE


def test_a_survey_is_opened_once_per_key_and_waits_for_its_answer() -> None:
    client = ClientFactory.create()
    survey = retention.open_survey(
        client=client, kind="csat", key="survey:client:1:2026-03", subject="Q", sent_at=clock.now()
    )
    again = retention.open_survey(
        client=client, kind="csat", key="survey:client:1:2026-03", subject="Q", sent_at=clock.now()
    )
    assert again == survey and survey.score is None
    assert retention.survey_awaiting_answer(company_id=client.company_id, now=clock.now()) == survey
    later = clock.now() + retention.SURVEY_ANSWER_WINDOW + dt.timedelta(days=1)
    assert retention.survey_awaiting_answer(company_id=client.company_id, now=later) is None
    with pytest.raises(ValidationError):
        retention.open_survey(client=client, kind="exit", key="k", subject="Q", sent_at=clock.now())


def test_an_answer_out_of_scale_is_kept_with_its_reason_not_as_the_score() -> None:
    client = ClientFactory.create()
    survey = retention.open_survey(client=client, kind="nps", key="k", subject="Q", sent_at=clock.now())

    survey, problem = retention.record_survey_answer(
        survey=survey, score=11, text="11/10!", message_id=None, responded_at=clock.now()
    )

    assert problem == "a nps score is between 0 and 10, not 11"
    assert survey.score is None and survey.answers["given_score"] == 11 and survey.answers["text"] == "11/10!"
    survey, problem = retention.record_survey_answer(
        survey=survey, score=9, text="9", message_id=None, responded_at=clock.now()
    )
    assert (problem, survey.score, survey.analysis) == ("", 9, "promoter")
