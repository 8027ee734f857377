"""health_check: a row per component with its latency; down twice -> one escalation; back -> resolved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from agents.models import Escalation, HealthCheck, LookupCache
from agents.services import health
from agents.testing import run_agent
from smarter_team import beat, clock
from tests.agents.test_broker_outage import PrivateRedis

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(tmp_path: Path, settings) -> Iterator[PrivateRedis]:
    """The broker the check looks at: a redis-server of this test's own (never the shared one)."""
    server = PrivateRedis(tmp_path)
    server.start()
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    yield server
    server.kill()


def _by_component(result) -> dict[str, dict]:
    return {c["component"]: c for c in result.output["components"]}


def test_every_component_gets_a_row_with_its_latency(own_redis) -> None:
    health.note_beat_alive()
    result = run_agent("health_check")
    assert result.status == "succeeded", result.error
    components = _by_component(result)
    assert {"database", "broker", "beat"} <= set(components)
    assert all(components[c]["status"] == "ok" for c in ("database", "broker", "beat"))
    rows = {h.component: h for h in HealthCheck.objects.all()}
    assert rows["database"].latency_ms is not None and rows["broker"].latency_ms is not None
    assert result.output["down"] == [] and not result.escalations


def test_a_stopped_broker_is_reported_down_escalated_once_then_recovers(own_redis) -> None:
    health.note_beat_alive()
    assert _by_component(run_agent("health_check"))["broker"]["status"] == "ok"

    own_redis.kill()
    first = run_agent("health_check")
    assert _by_component(first)["broker"]["status"] == "down"
    assert first.output["down"] == ["broker"] and not first.escalations  # once may be a blip
    second = run_agent("health_check")
    assert second.output["escalated"] == ["broker"]
    third = run_agent("health_check")  # still down: told once per outage
    assert third.output["escalated"] == [] and not third.escalations
    (escalation,) = Escalation.objects.filter(dedupe_key="health:broker")
    assert escalation.status == Escalation.Status.OPEN and escalation.assigned_group == "admin"

    own_redis.start()  # back on the same port
    back = run_agent("health_check")
    assert _by_component(back)["broker"]["status"] == "ok"
    assert back.output["recovered"] == ["broker"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.RESOLVED and escalation.decided_at is not None
    statuses = list(HealthCheck.objects.filter(component="broker").order_by("pk").values_list("status", flat=True))
    assert statuses == ["ok", "down", "down", "down", "ok"]


def test_beat_silent_too_long_is_down(own_redis, settings) -> None:
    settings.HEALTH_BEAT_STALE_SECONDS = 60
    assert _by_component(run_agent("health_check"))["beat"]["detail"].endswith("beat has never ticked")
    old = (clock.wall_now() - dt.timedelta(minutes=5)).isoformat()
    LookupCache.objects.update_or_create(key=health.BEAT_HEARTBEAT_KEY, defaults={"value": {"wall": old}})
    beat_row = _by_component(run_agent("health_check"))["beat"]
    assert beat_row["status"] == "down" and "ago" in beat_row["detail"]
    beat.heartbeat()  # beat's tick writes its mark
    assert _by_component(run_agent("health_check"))["beat"]["status"] == "ok"


def test_beat_reports_a_worker_pool_that_answers_no_ping(own_redis, settings) -> None:
    app = Celery("health-test", broker=own_redis.url)  # no worker listens on this broker
    probe = health.probe_workers(app, timeout=0.5)
    assert probe is not None and probe.status == "down" and "no worker answered" in probe.detail

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(health, "probe_workers", lambda: health.Probe(component="workers", status="down", detail="x"))
        health.watch_workers()
        health.watch_workers()
        mp.setattr(health, "probe_workers", lambda: health.Probe(component="workers", status="ok", detail="1 worker"))
        health.watch_workers()
    (escalation,) = Escalation.objects.filter(dedupe_key="health:workers")
    assert escalation.status == Escalation.Status.RESOLVED and escalation.run is None


def test_the_embedded_broker_cannot_be_pinged_and_is_not_reported(settings) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    assert health.probe_workers() is None
    assert health.watch_workers() is None


def test_a_configured_integration_that_fails_its_check_is_down(own_redis, monkeypatch) -> None:
    from integrations import health as integrations_health
    from integrations.values import HealthResult

    down = integrations_health.ProviderHealth(
        provider="stripe", roles=("payments",), result=HealthResult(ok=False, latency_ms=12, detail="401 bad key")
    )
    monkeypatch.setattr(integrations_health, "check_configured_providers", lambda: [down])
    row = _by_component(run_agent("health_check"))["integration:stripe"]
    assert row == {"component": "integration:stripe", "status": "down", "latency_ms": 12, "detail": "401 bad key"}
