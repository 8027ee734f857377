"""Retention, archival, erasure and integrity checks, for database_manager.

**Archival** is a gzipped JSON Lines export under ARCHIVE_DIR (var/archive/<table>/...), one file
per table and batch, written just before the batch is deleted: old rows leave the hot tables and
their indexes, stay readable with ``zcat`` and loadable with ``manage.py loaddata``, and can be
shipped to cold storage by ops; an archive table inside the same database would keep the bloat
and the backups' size. A batch whose transaction rolls back is exported again by the next pass
(the export is at-least-once; rows carry their primary key).

Every purge is a batch of at most ``batch`` primary keys: a short lock, never a scan-and-delete of
a whole hot table. What exactly-once depends on is kept at least ``MIN_KEY_DAYS`` (the providers
redeliver webhooks for days; an action's key must outlive any retry of its run), and nothing a
live record points to is deleted: a run with an unfinished child, a pending action, an open
escalation or the evidence of a rule still in force stays.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db import models
from django.db.models import Q, QuerySet

from agents.models import Action, AgentRun, Escalation, HealthCheck
from smarter_team import clock

# Webhook event ids and action keys deduplicate redeliveries and retries: never purged sooner.
MIN_KEY_DAYS = 30


def _days(name: str, default: int, *, minimum: int = 1) -> dt.timedelta:
    return dt.timedelta(days=max(int(getattr(settings, name, default)), minimum))


@dataclass(frozen=True)
class Purge:
    """One kind of row that ages out: which rows are old enough and unreferenced."""

    label: str
    candidates: Callable[[dt.datetime, dt.datetime], QuerySet]  # (business now, wall now) -> rows


def _old_runs(now: dt.datetime, wall: dt.datetime) -> QuerySet[AgentRun]:
    cutoff = now - _days("RETENTION_RUNS_DAYS", 90)
    live_children = AgentRun.objects.exclude(status__in=AgentRun.FINISHED).filter(parent=models.OuterRef("pk"))
    return (
        AgentRun.objects.filter(status__in=AgentRun.FINISHED, finished_at__lt=cutoff)
        .exclude(models.Exists(live_children))
        .exclude(actions__status=Action.Status.PENDING)
        .exclude(escalations__status=Escalation.Status.OPEN)
        .exclude(waiting_on__status=Escalation.Status.OPEN)
        # A rule in force is measured by its applications (deleting the run would cascade to them).
        .exclude(rule_applications__rule__status__in=["proposed", "active"])
    )


def _old_actions(now: dt.datetime, wall: dt.datetime) -> QuerySet[Action]:
    cutoff = now - _days("RETENTION_ACTIONS_DAYS", 90, minimum=MIN_KEY_DAYS)
    return Action.objects.filter(
        status__in=[Action.Status.DONE, Action.Status.FAILED, Action.Status.BLOCKED], updated_at__lt=cutoff
    )


def _old_webhook_events(now: dt.datetime, wall: dt.datetime) -> QuerySet:
    from integrations.models import WebhookEvent

    cutoff = now - _days("RETENTION_WEBHOOKS_DAYS", 60, minimum=MIN_KEY_DAYS)
    done = [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED, WebhookEvent.Status.REJECTED]
    return WebhookEvent.objects.filter(status__in=done, received_at__lt=cutoff)


def _old_sandbox_events(now: dt.datetime, wall: dt.datetime) -> QuerySet:
    from integrations.models import SandboxEvent

    cutoff = now - _days("RETENTION_SANDBOX_DAYS", 30, minimum=MIN_KEY_DAYS)  # their keys dedupe consequences
    ended = [SandboxEvent.Status.DELIVERED, SandboxEvent.Status.CANCELED]
    return SandboxEvent.objects.filter(status__in=ended, due_at__lt=cutoff)


def _old_health_checks(now: dt.datetime, wall: dt.datetime) -> QuerySet[HealthCheck]:
    # Written on the wall clock (liveness is infrastructure time).
    return HealthCheck.objects.filter(checked_at__lt=wall - _days("RETENTION_HEALTH_DAYS", 14))


PURGES = (
    Purge("agents.AgentRun", _old_runs),
    Purge("agents.Action", _old_actions),
    Purge("integrations.WebhookEvent", _old_webhook_events),
    Purge("integrations.SandboxEvent", _old_sandbox_events),
    Purge("agents.HealthCheck", _old_health_checks),
)


def candidate_ids(purge: Purge, *, batch: int) -> list[int]:
    """The oldest ``batch`` primary keys due for purging (an indexed, bounded read)."""
    rows = purge.candidates(clock.now(), clock.wall_now()).order_by("pk").values_list("pk", flat=True)
    return list(rows.distinct()[:batch])


def archive_and_delete(purge: Purge, ids: list[int], *, tag: str) -> int:
    """In the caller's transaction: lock the rows still due among ``ids``, export them, delete them."""
    if not ids:
        return 0
    due = purge.candidates(clock.now(), clock.wall_now()).filter(pk__in=ids)
    model = due.model
    rows = list(model._base_manager.select_for_update(skip_locked=True).filter(pk__in=due.values("pk")).order_by("pk"))
    if not rows:
        return 0
    _export(model._meta.label, rows, tag=tag)
    model._base_manager.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def archive_dir() -> Path:
    return Path(getattr(settings, "ARCHIVE_DIR", Path(settings.VAR_DIR) / "archive"))


def _export(label: str, rows: list[models.Model], *, tag: str) -> Path:
    folder = archive_dir() / label.lower()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{clock.now():%Y-%m-%d}-{tag}.jsonl.gz"
    with gzip.open(path, "at", encoding="utf-8") as out:
        out.write(serializers.serialize("jsonl", rows))
    return path


# --- personal data past retention ---------------------------------------------------------------
# Statuses of a prospect nobody is working with any more (a live deal, meeting or client keeps it).
FORMER_PROSPECT = ("new", "enriched", "verified", "qualified", "disqualified", "contacted", "replied", "lost",
                   "unsubscribed", "bounced")  # fmt: skip


def prospects_to_erase(*, batch: int) -> list[int]:
    from crm.models import Enrollment, Lead
    from sales.models import Client

    cutoff = clock.now() - _days("RETENTION_PROSPECT_DAYS", 730)
    running = Enrollment.objects.filter(lead=models.OuterRef("pk"), status__in=["active", "paused"])
    return list(
        Lead.objects.filter(status__in=FORMER_PROSPECT, updated_at__lt=cutoff, email__isnull=False)
        .exclude(models.Exists(running))
        .exclude(pk__in=Client.objects.filter(primary_contact__isnull=False).values("primary_contact_id"))
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )


def erase_prospects(ids: list[int]) -> int:
    """GDPR-style erasure through crm's one erasure path: the lead is blanked, its address survives
    only as a suppression hash (so a re-import is never contacted). Call in a transaction."""
    from crm.models import Lead
    from crm.services.suppression import erase

    erased = 0
    for email in Lead.objects.filter(pk__in=ids, email__isnull=False).values_list("email", flat=True):
        if email:
            erase(email=email, source="retention")
            erased += 1
    return erased


def forget_suppressed_addresses(*, batch: int) -> int:
    """Suppression entries past retention keep their hash only (they still block the address)."""
    from crm.models import SuppressionEntry

    cutoff = clock.now() - _days("RETENTION_PROSPECT_DAYS", 730)
    ids = list(
        SuppressionEntry.objects.filter(kind="email", created_at__lt=cutoff)
        .exclude(value="")
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    return SuppressionEntry.objects.filter(pk__in=ids).update(value="", note="") if ids else 0


# --- integrity: reported, never silently fixed ------------------------------------------------
def integrity_findings(*, registered: set[str], sample: int = 10) -> dict[str, list[int]]:
    """Rows in states nothing will move them out of (ids, at most ``sample`` each)."""
    from integrations.models import WebhookEvent

    now, wall = clock.now(), clock.wall_now()
    checks: dict[str, QuerySet] = {
        # The sweeper recovers a lost lease within a minute: an hour past it, something is wrong.
        "runs_stuck_running": AgentRun.objects.filter(
            status=AgentRun.Status.RUNNING, lease_expires_at__lt=wall - dt.timedelta(hours=1)
        ),
        "runs_waiting_on_nothing": AgentRun.objects.filter(status=AgentRun.Status.ESCALATED).filter(
            Q(waiting_on__isnull=True) | ~Q(waiting_on__status=Escalation.Status.OPEN)
        ),
        "runs_of_unknown_agents": AgentRun.objects.filter(status=AgentRun.Status.QUEUED).exclude(
            agent_name__in=registered
        ),
        "actions_pending_a_day": Action.objects.filter(
            status=Action.Status.PENDING, created_at__lt=now - dt.timedelta(days=1)
        ),
        "webhooks_unprocessed_a_day": WebhookEvent.objects.filter(
            status=WebhookEvent.Status.RECEIVED, received_at__lt=now - dt.timedelta(days=1)
        ),
    }
    return {name: list(qs.order_by("pk").values_list("pk", flat=True)[:sample]) for name, qs in checks.items()}
