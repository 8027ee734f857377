"""Health of the agency's moving parts: probes, and recording their results.

A probe never raises: a failure is a result (down, with the reason), timed on the wall clock
(latency and liveness are infrastructure time). ``record_probes`` writes one HealthCheck row per
component; a component down on two checks in a row raises one escalation (deduplicated by
component), and its next good check resolves it: outages are told once and recover on their own.

Who probes what: the health_check agent (a worker) checks the database, the broker, beat's last
tick and each configured integration; beat itself pings the workers (``watch_workers``), because
an agent cannot report that no worker is left to run it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from pydantic import BaseModel

from agents.models import AgentRun, Escalation, HealthCheck, LookupCache, StaffGroup
from agents.services.audit import record_change
from agents.services.escalations import raise_escalation
from smarter_team import clock

logger = logging.getLogger(__name__)

BEAT_HEARTBEAT_KEY = "heartbeat:beat"
# A check must never hang the probing process: each probe waits at most this long (wall seconds).
PROBE_TIMEOUT = 2.0


class Probe(BaseModel):
    component: str
    status: str  # HealthCheck.Status
    latency_ms: int | None = None
    detail: str = ""

    @property
    def down(self) -> bool:
        return self.status == HealthCheck.Status.DOWN


def _timed(component: str, check: Callable[[], str]) -> Probe:
    started = time.monotonic()
    try:
        detail = check()
    except Exception as exc:  # a probe reports, it does not raise
        ms = int((time.monotonic() - started) * 1000)
        return Probe(component=component, status=HealthCheck.Status.DOWN, latency_ms=ms, detail=_why(exc))
    ms = int((time.monotonic() - started) * 1000)
    return Probe(component=component, status=HealthCheck.Status.OK, latency_ms=ms, detail=detail)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def probe_database() -> Probe:
    def check() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor

    return _timed("database", check)


def probe_broker(url: str | None = None) -> Probe:
    """Connect to the broker (Celery's own transport, any broker) within PROBE_TIMEOUT."""
    from kombu import Connection

    target = url or str(settings.CELERY_BROKER_URL)

    def check() -> str:
        options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
        if target.startswith(("redis://", "rediss://")):
            options.update(socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT)
        with Connection(target, connect_timeout=PROBE_TIMEOUT, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=int(PROBE_TIMEOUT))
            if target.startswith(("redis://", "rediss://")):
                conn.default_channel.client.ping()  # type: ignore[attr-defined]  # a connected socket is not yet a serving Redis
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"

    return _timed("broker", check)


def probe_workers(app: Any = None, *, timeout: float = 1.0) -> Probe | None:
    """Celery's ping to every worker; None where the broker cannot broadcast (the embedded one)."""
    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        return None
    if app is None:
        from smarter_team.celery import app as celery_app

        app = celery_app

    def check() -> str:
        replies = app.control.ping(timeout=timeout) or []
        if not replies:
            raise RuntimeError(f"no worker answered a ping within {timeout:.0f}s")
        return f"{len(replies)} worker(s): " + ", ".join(sorted(name for reply in replies for name in reply))[:400]

    return _timed("workers", check)


def note_beat_alive() -> None:
    """Beat's liveness, written by its business tick (at most every few seconds: one small UPSERT)."""
    LookupCache.objects.update_or_create(
        key=BEAT_HEARTBEAT_KEY, defaults={"value": {"wall": clock.wall_now().isoformat()}, "expires_at": None}
    )


def probe_beat() -> Probe:
    stale_after = dt.timedelta(seconds=int(getattr(settings, "HEALTH_BEAT_STALE_SECONDS", 180)))

    def check() -> str:
        row = LookupCache.objects.filter(key=BEAT_HEARTBEAT_KEY).first()
        if row is None:
            raise RuntimeError("beat has never ticked")
        last = dt.datetime.fromisoformat(str(row.value["wall"]))
        age = clock.wall_now() - last
        if age > stale_after:
            raise RuntimeError(f"beat's last tick was {int(age.total_seconds())}s ago")
        return f"last tick {int(age.total_seconds())}s ago"

    return _timed("beat", check)


def probe_integrations() -> list[Probe]:
    """Each configured real provider's cheapest authenticated call (integrations/health.py)."""
    from integrations.health import check_configured_providers

    try:
        results = check_configured_providers()
    except Exception as exc:
        return [Probe(component="integrations", status=HealthCheck.Status.DOWN, detail=_why(exc))]
    return [
        Probe(
            component=f"integration:{h.provider}"[:64],
            status=HealthCheck.Status.OK if h.result.ok else HealthCheck.Status.DOWN,
            latency_ms=h.result.latency_ms,
            detail=h.result.detail[:500],
        )
        for h in results
    ]


def latest_statuses(components: list[str]) -> dict[str, str]:
    """The last recorded status per component (one indexed lookup each: a handful of components)."""
    found: dict[str, str] = {}
    for component in components:
        last = (
            HealthCheck.objects.filter(component=component)
            .order_by("-checked_at", "-pk")
            .values_list("status", flat=True)
            .first()
        )
        if last is not None:
            found[component] = last
    return found


def _dedupe_key(component: str) -> str:
    return f"health:{component}"[:200]


def record_probes(probes: list[Probe], *, previous: dict[str, str], run: AgentRun | None) -> dict[str, list[str]]:
    """Write the rows; escalate a component down twice in a row (once), resolve it when it is back.
    Call inside a transaction (the agent's act, or ``watch_workers``). Returns what was decided."""
    now = clock.wall_now()
    decided: dict[str, list[str]] = {"escalated": [], "recovered": []}
    HealthCheck.objects.bulk_create(
        [
            HealthCheck(
                component=p.component, status=p.status, latency_ms=p.latency_ms, detail=p.detail, checked_at=now
            )
            for p in probes
        ]
    )
    for probe in probes:
        key = _dedupe_key(probe.component)
        if probe.down and previous.get(probe.component) == HealthCheck.Status.DOWN:
            if Escalation.objects.filter(dedupe_key=key, status=Escalation.Status.OPEN).exists():
                continue  # told already: once per outage
            raise_escalation(
                kind=Escalation.Kind.ERROR,
                reason=f"{probe.component} is down (two checks in a row): {probe.detail}",
                payload={"component": probe.component, "detail": probe.detail},
                run=run,
                group=StaffGroup.ADMIN,
                dedupe_key=key,
            )
            decided["escalated"].append(probe.component)
        elif probe.status == HealthCheck.Status.OK:
            for open_one in Escalation.objects.select_for_update().filter(
                dedupe_key=key, status=Escalation.Status.OPEN
            ):
                open_one.decided_at = clock.now()
                open_one.decision_note = f"recovered: {probe.component} answered again ({probe.detail})"[:500]
                open_one.transition_to(Escalation.Status.RESOLVED, also=["decided_at", "decision_note"])
                record_change(
                    action="escalation.resolve",
                    target=open_one,
                    before={"status": "open"},
                    after={"status": "resolved", "note": open_one.decision_note},
                    run=run,
                )
                decided["recovered"].append(probe.component)
    return decided


def watch_workers() -> Probe | None:
    """Beat's check of the worker pool (beat runs it every few minutes): a dead pool is reported
    although no agent can run. Never raises: beat must keep ticking."""
    try:
        probe = probe_workers()
        if probe is None:
            return None
        previous = latest_statuses([probe.component])
        with transaction.atomic():
            record_probes([probe], previous=previous, run=None)
        return probe
    except Exception:
        logger.exception("the workers' health check failed")
        return None
