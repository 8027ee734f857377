"""churn_risk: a level with readable factors; at high risk one save play and one escalation per episode."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.models import Action, Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.retention._health import Reading
from delivery.agents.retention.churn_risk import HIGH, LOW, MEDIUM, assess
from delivery.models import ChurnRiskAssessment, HealthSnapshot
from sales.models import Client
from smarter_team import clock
from tests.delivery.agents.retention.conftest import a_client
from tests.factories.delivery import HealthSnapshotFactory

pytestmark = pytest.mark.django_db


def reading(value: int, *facts: str, weight: float = 0.25, **data: Any) -> dict[str, Any]:
    return {"value": value, "weight": weight, "facts": list(facts), "data": data}


def readings(
    *, payments: int = 90, sentiment: int = 80, delivery: int = 85, engagement: int = 80, nps: int | None = None
) -> dict[str, Any]:
    return {
        "payments": reading(payments, "INV-2026-00001 overdue by 30 days" if payments < 50 else "all paid"),
        "sentiment": reading(sentiment, "conversation sentiment negative" if sentiment < 50 else "fine", nps=nps),
        "delivery": reading(delivery, "milestone 'Pilot' slipping by 14 days" if delivery < 50 else "on time"),
        "engagement": reading(engagement, "40 days since the last contact" if engagement < 50 else "recent"),
    }


def snapshot_of(client: Client, score: int, *, days_ago: int = 0, **parts: Any) -> HealthSnapshot:
    return HealthSnapshotFactory.create(
        client=client, score=score, taken_on=clock.today() - dt.timedelta(days=days_ago), components=readings(**parts)
    )


def assess_input(snapshot: HealthSnapshot) -> dict[str, int]:
    return {"client_id": snapshot.client_id, "snapshot_id": snapshot.pk}


def test_high_risk_puts_the_client_at_risk_tells_the_account_owner_and_offers_a_check_in_call() -> None:
    client = a_client()
    snapshot = snapshot_of(client, 38, delivery=20)

    result = run_agent("churn_risk", assess_input(snapshot))

    assert result.status == "succeeded", result.error
    assessment = ChurnRiskAssessment.objects.get(snapshot=snapshot)
    assert assessment.level == HIGH
    assert "health 38/100" in assessment.factors
    assert any("delivery 20/100" in f and "slipping by 14 days" in f for f in assessment.factors)
    assert "recovery plan" in assessment.save_play
    client.refresh_from_db()
    assert client.status == Client.Status.AT_RISK
    escalation = Escalation.objects.get(dedupe_key=f"churn:client:{client.pk}:episode:{clock.today()}")
    assert escalation.assigned_group == "manager" and escalation.kind == "policy"
    assert escalation.payload["save_play"] == assessment.save_play
    offer = Message.objects.get(pk=result.output["offer_message_id"])
    assert offer.to_email == client.primary_contact.email and "check-in call" in offer.body  # type: ignore[union-attr]
    assert "run later than we planned" in offer.body
    assert [a.kind for a in result.acts] == ["email.reply"]


def test_one_escalation_and_one_offer_per_episode_however_long_it_lasts() -> None:
    client = a_client()
    run_agent("churn_risk", assess_input(snapshot_of(client, 35, days_ago=2, payments=10)))
    run_agent("churn_risk", assess_input(snapshot_of(client, 50, days_ago=1, payments=30)))  # medium: same episode
    again = run_agent("churn_risk", assess_input(snapshot_of(client, 33, payments=10)))

    assert again.output["level"] == HIGH and not again.output["escalated"]
    assert "told about this episode already" in again.output["note"]
    assert Escalation.objects.filter(dedupe_key__startswith=f"churn:client:{client.pk}:").count() == 1
    assert Message.objects.filter(intent="save_play").count() == 1


def test_a_low_risk_ends_the_episode_and_a_new_fall_starts_another() -> None:
    client = a_client()
    run_agent("churn_risk", assess_input(snapshot_of(client, 35, days_ago=20, engagement=10)))
    recovered = run_agent("churn_risk", assess_input(snapshot_of(client, 88, days_ago=10)))
    assert recovered.output["level"] == LOW
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE

    relapse = run_agent("churn_risk", assess_input(snapshot_of(client, 36, engagement=10)))

    assert relapse.output["escalated"] is True
    assert Escalation.objects.filter(dedupe_key__startswith=f"churn:client:{client.pk}:").count() == 2
    assert Message.objects.filter(intent="save_play").count() == 2


def test_medium_risk_is_recorded_without_a_save_play() -> None:
    client = a_client()
    result = run_agent("churn_risk", assess_input(snapshot_of(client, 62)))
    assert result.output["level"] == MEDIUM and result.output["save_play"] == ""
    assert not Escalation.objects.exists() and not Message.objects.exists()
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE


def test_a_contact_who_may_not_be_contacted_gets_no_offer_but_the_owner_is_told() -> None:
    client = a_client()
    assert client.primary_contact is not None
    client.primary_contact.do_not_contact = True
    client.primary_contact.save(update_fields=["do_not_contact"])
    result = run_agent("churn_risk", assess_input(snapshot_of(client, 30, sentiment=10)))
    assert result.output["escalated"] and result.output["offer_message_id"] is None
    assert "may not be contacted" in result.output["note"] and not Message.objects.exists()


def test_each_snapshot_is_assessed_once() -> None:
    snapshot = snapshot_of(a_client(), 30, delivery=10)
    first, second = assert_idempotent("churn_risk", assess_input(snapshot))
    assert first.status == "succeeded" and second.status == "skipped"
    assert ChurnRiskAssessment.objects.count() == 1 and Action.objects.count() == 1


def test_a_snapshot_of_another_client_fails_with_a_clear_error_and_writes_nothing() -> None:
    snapshot = snapshot_of(a_client(), 30)
    other = a_client()
    result = run_agent("churn_risk", {"client_id": other.pk, "snapshot_id": snapshot.pk})
    assert result.status == "failed" and f"belongs to client {snapshot.client_id}" in result.error
    assert not ChurnRiskAssessment.objects.exists()
    gone = run_agent("churn_risk", {"client_id": other.pk, "snapshot_id": 999_999})
    assert gone.status == "skipped"


def test_the_levels_follow_score_trend_and_weak_readings() -> None:
    def level(score: int, best: int | None = None, **parts: Any) -> str:
        found = {name: Reading.model_validate(r) for name, r in readings(**parts).items()}
        return assess(score=score, readings=found, best_30d=best).level

    assert level(85) == LOW
    assert level(40) == HIGH
    assert level(60) == MEDIUM
    assert level(52) == MEDIUM
    assert level(52, best=70) == HIGH  # falling fast
    assert level(52, payments=25) == HIGH  # one reading collapsed
    assert level(52, nps=3) == HIGH  # a detractor
    assert level(80, nps=5) == MEDIUM
