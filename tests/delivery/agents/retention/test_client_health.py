"""client_health: a daily 0-100 score per current client, its factors shown, churn_risk called when it matters."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.testing import assert_idempotent, run_agent
from delivery.agents.retention import _health, client_health
from delivery.models import HealthSnapshot
from sales.models import Client, Invoice
from smarter_team import clock
from tests.delivery.agents.retention.conftest import a_client, client_said, thriving, troubled
from tests.factories.delivery import (
    ChangeRequestFactory,
    HealthSnapshotFactory,
)
from tests.factories.sales import InvoiceFactory

pytestmark = pytest.mark.django_db


def test_a_troubled_client_scores_low_with_every_factor_shown_and_goes_to_churn_risk() -> None:
    client = troubled()

    result = run_agent("client_health", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    snapshot = HealthSnapshot.objects.get(client=client, taken_on=clock.today())
    assert snapshot.score < client_health.LOW
    client.refresh_from_db()
    assert client.health_score == snapshot.score
    parts = snapshot.components
    assert set(parts) == {"payments", "sentiment", "delivery", "engagement"}
    assert all({"value", "weight", "facts"} <= set(p) for p in parts.values())
    assert sum(p["weight"] for p in parts.values()) == pytest.approx(1.0)
    assert any("overdue by 35 days" in f for f in parts["payments"]["facts"])
    assert any("failed payment" in f for f in parts["payments"]["facts"])
    assert any("slipping by 12 days" in f for f in parts["delivery"]["facts"])
    assert parts["sentiment"]["data"]["conversation"] == "negative"
    assert [(r.agent_name, r.input) for r in result.handoffs] == [
        ("churn_risk", {"client_id": client.pk, "snapshot_id": snapshot.pk})
    ]


def test_a_thriving_client_scores_high_and_churn_risk_is_left_alone() -> None:
    client = thriving()

    result = run_agent("client_health", {"client_id": client.pk})

    snapshot = HealthSnapshot.objects.get(client=client)
    assert snapshot.score >= 80, snapshot.components
    assert snapshot.components["sentiment"]["data"]["nps"] == 9
    assert snapshot.components["engagement"]["data"]["meetings_60d"] == 1
    assert result.handoffs == []


def test_once_per_client_per_day() -> None:
    troubled()
    first, second = assert_idempotent("client_health")
    assert len(first.output["scored"]) == 1 and second.output["scored"] == {}
    assert HealthSnapshot.objects.count() == 1


def test_a_fall_since_yesterday_calls_churn_risk_even_above_the_low_line() -> None:
    client = thriving()
    InvoiceFactory.create(client=client, due_on=clock.today() - dt.timedelta(days=20))  # new since yesterday
    HealthSnapshotFactory.create(client=client, taken_on=clock.today() - dt.timedelta(days=1), score=100)

    result = run_agent("client_health", {"client_id": client.pk})

    score = HealthSnapshot.objects.get(client=client, taken_on=clock.today()).score
    assert client_health.LOW <= score <= 100 - client_health.FALL_DAY
    assert [r.agent_name for r in result.handoffs] == ["churn_risk"]


def test_an_at_risk_client_is_reassessed_every_day_so_it_can_recover() -> None:
    client = thriving()
    Client.objects.filter(pk=client.pk).update(status=Client.Status.AT_RISK)
    result = run_agent("client_health", {"client_id": client.pk})
    assert [r.agent_name for r in result.handoffs] == ["churn_risk"]


def test_churned_clients_are_not_scored() -> None:
    client = a_client(status=Client.Status.CHURNED)
    result = run_agent("client_health")
    assert result.output["scored"] == {} and not HealthSnapshot.objects.filter(client=client).exists()


def test_a_full_batch_hands_the_rest_to_a_run_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_health, "BATCH", 2)
    clients = [a_client() for _ in range(3)]

    result = run_agent("client_health")

    assert set(result.output["scored"]) == {str(c.pk) for c in clients[:2]}
    assert [(r.agent_name, r.input) for r in result.handoffs] == [
        ("client_health", {"client_id": None, "after_id": clients[1].pk})
    ]
    rest = run_agent("client_health", result.handoffs[0].input)
    assert set(rest.output["scored"]) == {str(clients[2].pk)} and rest.output["continued_after"] is None


def test_readings_move_the_right_way() -> None:
    now = clock.now()
    late, later = a_client(), a_client()
    InvoiceFactory.create(client=late, due_on=clock.today() - dt.timedelta(days=3))
    InvoiceFactory.create(client=later, due_on=clock.today() - dt.timedelta(days=40))
    assert _health.payments(later, now=now).value < _health.payments(late, now=now).value < 100

    waiting, answered = a_client(), a_client()
    ChangeRequestFactory.create(project__client=waiting)
    ChangeRequestFactory.create(project__client=answered, status="approved")
    from delivery.models import ChangeRequest

    ChangeRequest.objects.filter(project__client__in=[waiting, answered]).update(created_at=now - dt.timedelta(days=10))
    assert _health.delivery(waiting, now=now).value < _health.delivery(answered, now=now).value

    quiet, talking = a_client(), a_client()
    client_said(quiet, "hello", days_ago=50)
    client_said(talking, "hello", days_ago=2)
    assert _health.engagement(quiet, now=now).value < _health.engagement(talking, now=now).value
    assert _health.payments(a_client(), now=now).facts == ["no invoices yet"]
    assert Invoice.objects.count() == 2


def test_a_batch_reads_each_table_once_and_gives_each_client_its_own_readings() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = clock.now()
    clients = [troubled(), thriving(), a_client(), a_client()]
    client_said(clients[2], "hello", days_ago=2)
    InvoiceFactory.create(client=clients[3], due_on=clock.today() - dt.timedelta(days=40))

    alone = {c.pk: _health.read_all(c, now=now) for c in clients}
    with CaptureQueriesContext(connection) as two:
        _health.read_many(clients[:2], now=now)
    with CaptureQueriesContext(connection) as four:
        together = _health.read_many(clients, now=now)

    assert together == alone
    assert len(four.captured_queries) == len(two.captured_queries) <= 12
    assert together[clients[0].pk]["payments"].value < together[clients[1].pk]["payments"].value
