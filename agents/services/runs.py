"""Write paths of AgentRun: start, publish, retry, cancel, dispatch the due, recover the lost."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction

from agents import registry
from agents.base import AgentBase
from agents.models import AgentRun
from agents.services import pauses
from smarter_team import broker, clock
from smarter_team.db import insert_new

logger = logging.getLogger(__name__)

# What an operator may retry (a fresh set of attempts) and cancel.
RETRYABLE = frozenset({AgentRun.Status.FAILED, AgentRun.Status.ESCALATED})
CANCELABLE = frozenset({AgentRun.Status.QUEUED, AgentRun.Status.ESCALATED})
# A queued run whose message was published this long ago (wall clock) and is still not claimed is
# published again (the broker lost it, or the publish after commit failed).
REPUBLISH_AFTER = dt.timedelta(minutes=10)
DISPATCH_BATCH = 500
# The soft time limit comes this much before the hard one, so the attempt fails as transient, cleanly.
SOFT_LIMIT_MARGIN = 30


# Set while the simulated-time driver (agents.testing: advance, drain) works every due run in this
# process itself: a message for a worker would never be consumed, and each cost a broker round trip
# (a bench of 1,000 leads published ten thousand messages nobody read).
_worked_here: ContextVar[bool] = ContextVar("runs_worked_here", default=False)


@contextmanager
def worked_here() -> Iterator[None]:
    """Runs started inside are worked by this process (the simulated-time driver): none is
    published to the broker. Their rows are the same as a worker's would be."""
    token = _worked_here.set(True)
    try:
        yield
    finally:
        _worked_here.reset(token)


def payload_hash(data: Any) -> str:
    """sha256 of the canonical JSON of ``data``: equal payloads, equal hashes."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def start_run(
    *,
    agent_name: str,
    input: dict[str, Any],
    trigger: str,
    idempotency_key: str | None = None,
    parent: AgentRun | None = None,
    correlation_id: uuid.UUID | None = None,
    due_at: dt.datetime | None = None,
    client_key: str = "",
    campaign_key: str = "",
    enqueue: bool = True,
) -> AgentRun:
    """Create a queued run inside the caller's transaction; publish it on commit when due now.

    Idempotent: a second call with the same key returns the first run, whatever its state.
    Runs due later are published by ``dispatch_due`` (a beat task), never by a broker ETA.
    """
    agent_cls = registry.get(agent_name)
    # Bad input is the caller's bug: refuse it here rather than fail later in a worker.
    data = agent_cls.Input.model_validate(input).model_dump(mode="json")
    now = clock.now()
    due = due_at or now
    held = pauses.paused_until(
        agent_name=agent_name,
        category=agent_cls.category,
        client_key=client_key or (parent.client_key if parent else ""),
        campaign_key=campaign_key or (parent.campaign_key if parent else ""),
        now=now,
    )
    if held is not None and held > due:
        due = held  # a paused budget holds it: queued, started when the pause lifts
    publish = enqueue and due <= now and not _answered_by_batch(agent_cls)
    run = AgentRun(
        agent_name=agent_name,
        trigger=trigger,
        input=data,
        idempotency_key=idempotency_key or f"{agent_name}:{uuid.uuid4().hex}",
        payload_hash=payload_hash(data),
        parent=parent,
        correlation_id=correlation_id or (parent.correlation_id if parent else uuid.uuid4()),
        depth=parent.depth + 1 if parent else 0,
        queue=agent_cls.queue,
        max_attempts=agent_cls.max_attempts,
        priority=agent_cls.priority,
        due_at=due,
        enqueued_at=now if publish else None,
        client_key=client_key or (parent.client_key if parent else ""),
        campaign_key=campaign_key or (parent.campaign_key if parent else ""),
    )
    if not _insert_new(run):
        existing = AgentRun.objects.filter(idempotency_key=run.idempotency_key).first()
        if existing is None:  # gone again between the two statements
            raise IntegrityError(f"run {run.idempotency_key!r} conflicted with a run that no longer exists")
        return existing
    if publish:
        publish_on_commit(run)
    return run


def _insert_new(run: AgentRun) -> bool:
    """Insert ``run`` unless a run with its idempotency key exists: True (``run.pk`` set) when it
    is new. One statement (smarter_team.db.insert_new): a duplicate key no longer aborts the
    caller's transaction, so the insert needs no savepoint around it (two round trips more per
    handoff, every handoff being inside an act's transaction)."""
    run.updated_at = clock.now()  # what TimeStampedModel.save sets
    return insert_new(run, unique=["idempotency_key"])


def start_run_by_hand(*, agent_name: str, input: dict[str, Any], user: AbstractBaseUser | None) -> AgentRun:
    """An operator's run from the console: queued and worked like any other run (trigger ``admin``),
    with who started it and with what input in the audit trail."""
    from agents.services.audit import record_change

    with transaction.atomic():
        run = start_run(agent_name=agent_name, input=input, trigger=AgentRun.Trigger.ADMIN)
        record_change(
            action="run.start", target=run, after={"status": run.status, "input": run.input}, run=run, user=user
        )
    return run


def _answered_by_batch(agent_cls: type) -> bool:
    # Bulk LLM agents wait for the batch submitter instead of a worker when a real model answers.
    return bool(getattr(agent_cls, "batch", False)) and settings.BRAIN_DEFAULT == "anthropic"


def publish_on_commit(run: AgentRun) -> None:
    """Publish ``agents.run`` for the run once the current transaction commits (at once outside one)."""
    if _worked_here.get():
        return
    run_id, queue, priority = run.pk, run.queue, run.priority
    agent_cls = registry.get(run.agent_name) if registry.is_registered(run.agent_name) else AgentBase
    limit = agent_cls.time_limit

    def publish() -> None:
        from agents.tasks import run_agent

        def send() -> None:
            run_agent.apply_async(
                (run_id,), queue=queue, priority=priority, time_limit=limit, soft_time_limit=limit - SOFT_LIMIT_MARGIN
            )

        if run_agent.app.conf.task_always_eager:  # runs inline: its errors are the run's, not the broker's
            send()
            return
        try:
            if broker.looks_down():
                raise broker.BrokerLooksDown("a publish failed moments ago")
            send()
        except Exception as exc:
            # The run is committed: its caller must not see the broker's error. Unmarked as
            # published, so the next dispatch_due (every few seconds) publishes it again.
            broker.note_publish_failed()
            logger.warning("publishing run %s failed (%s); dispatch_due will publish it", run_id, type(exc).__name__)
            _unmark_published(run_id)

    transaction.on_commit(publish)


def _unmark_published(run_id: int) -> None:
    try:
        AgentRun.objects.filter(pk=run_id, status=AgentRun.Status.QUEUED).update(enqueued_at=None)
    except Exception as exc:  # the database down too: REPUBLISH_AFTER still catches the run
        logger.warning("could not unmark run %s as published (%s)", run_id, type(exc).__name__)


def requeue(run: AgentRun, *, due_at: dt.datetime | None = None, error: str = "", also: tuple[str, ...] = ()) -> None:
    """Back to queued (retry, pause, approval), saving ``also`` too. Due now: published on commit;
    due later: left for ``dispatch_due``."""
    now = clock.now()
    due = due_at or now
    run.due_at = due
    run.lease_expires_at = None
    run.enqueued_at = now if due <= now else None
    fields = ["due_at", "lease_expires_at", "enqueued_at", *also]
    if error:
        run.error = error
        fields.append("error")
    run.transition_to(AgentRun.Status.QUEUED, also=fields)
    if due <= now:
        publish_on_commit(run)


def retry_run(*, run: AgentRun, user: AbstractBaseUser | None = None) -> AgentRun:
    """An operator's retry of a failed or escalated run: a fresh set of attempts."""
    with transaction.atomic():
        run = AgentRun.objects.select_for_update().get(pk=run.pk)
        run.attempts = 0
        run.finished_at = None
        requeue(run, also=("attempts", "finished_at"))
        _audit(run=run, user=user, action="run.retry")
    return run


def cancel_run(*, run: AgentRun, user: AbstractBaseUser | None = None, reason: str = "") -> AgentRun:
    with transaction.atomic():
        run = AgentRun.objects.select_for_update().get(pk=run.pk)
        if run.status == AgentRun.Status.CANCELED:
            return run
        before = run.status
        run.finished_at = clock.now()
        if reason:
            run.error = reason
        run.transition_to(AgentRun.Status.CANCELED, also=["finished_at", "error"])
        _audit(run=run, user=user, action="run.cancel", before={"status": before})
    return run


def dispatch_due(*, limit: int = DISPATCH_BATCH) -> int:
    """Publish queued runs that are due and not (recently) published. Returns how many.

    After a broker restart (its messages may be gone) every queued run counts as unpublished.
    """
    now = clock.now()
    lost = broker.lost_messages_since_last_look("runs")
    with transaction.atomic():
        if lost:
            logger.warning("the broker restarted: every queued run is published again")
            AgentRun.objects.filter(status=AgentRun.Status.QUEUED, enqueued_at__isnull=False).update(enqueued_at=None)
        runs = list(
            AgentRun.objects.select_for_update(skip_locked=True)
            .filter(status=AgentRun.Status.QUEUED, due_at__lte=now)
            .exclude(enqueued_at__gt=clock.wall_ago(REPUBLISH_AFTER))
            .exclude(agent_name__in=_batch_agent_names())
            .only("pk", "queue", "priority", "status")
            .order_by("due_at")[:limit]
        )
        if runs:
            AgentRun.objects.filter(pk__in=[r.pk for r in runs]).update(enqueued_at=now)
        for run in runs:
            publish_on_commit(run)
    return len(runs)


def _batch_agent_names() -> list[str]:
    return [a.name for a in registry.all_agents() if _answered_by_batch(a)]


def _audit(*, run: AgentRun, user: AbstractBaseUser | None, action: str, before: dict[str, Any] | None = None) -> None:
    from agents.services.audit import record_change

    record_change(action=action, target=run, before=before, after={"status": run.status}, run=run, user=user)
