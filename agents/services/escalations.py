"""Escalations: work that waits for a human, and the human's decision resuming or ending it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from agents.models import AgentRun, Escalation
from agents.services.audit import record_change
from agents.services.runs import requeue
from smarter_team import clock


def raise_escalation(
    *,
    kind: str,
    reason: str,
    payload: dict[str, Any] | None = None,
    run: AgentRun | None = None,
    group: str = Escalation._meta.get_field("assigned_group").default,
    dedupe_key: str = "",
    subject: models.Model | None = None,
    due_by: dt.datetime | None = None,
) -> Escalation:
    """Open an escalation; with a ``dedupe_key``, an open one with the same key is returned instead."""
    if kind not in Escalation.Kind.values:
        raise ValueError(f"unknown escalation kind {kind!r}")
    escalation = Escalation(
        run=run,
        kind=kind,
        reason=reason,
        payload=payload or {},
        assigned_group=group,
        dedupe_key=dedupe_key,
        due_by=due_by,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
    )
    try:
        with transaction.atomic():
            escalation.save(force_insert=True)
    except IntegrityError:
        if not dedupe_key:
            raise
        existing = Escalation.objects.filter(dedupe_key=dedupe_key, status=Escalation.Status.OPEN).first()
        if existing is None:
            raise
        return existing
    return escalation


def decide(*, escalation: Escalation, approve: bool, user: AbstractBaseUser | None, note: str = "") -> Escalation:
    """Approve or reject. Every run waiting on it is re-queued (its ``ctx.approved`` or
    ``ctx.require_approval`` then passes) or canceled.

    Deciding twice (a double click, two operators) changes nothing the second time.
    """
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if escalation.status != Escalation.Status.OPEN:
            return escalation
        escalation.decided_by = user if user is not None and user.pk else None  # type: ignore[assignment]
        escalation.decided_at = clock.now()
        escalation.decision_note = note
        new = Escalation.Status.APPROVED if approve else Escalation.Status.REJECTED
        escalation.transition_to(new, also=["decided_by", "decided_at", "decision_note"])
        run = AgentRun.objects.select_for_update().filter(pk=escalation.run_id).first() if escalation.run_id else None
        # Every run parked on it (several runs may ask for the same approval key) resumes or ends.
        waiting = AgentRun.objects.select_for_update().filter(
            Q(waiting_on=escalation) | Q(pk=escalation.run_id), status=AgentRun.Status.ESCALATED
        )
        for parked in waiting:
            if approve:
                requeue(parked)
            else:
                parked.finished_at = clock.now()
                parked.error = f"rejected by {_name(user)}: {note}".strip().rstrip(":")
                parked.transition_to(AgentRun.Status.CANCELED, also=["finished_at", "error"])
        record_change(
            action="escalation.approve" if approve else "escalation.reject",
            target=escalation,
            before={"status": Escalation.Status.OPEN},
            after={"status": new, "note": note},
            run=run,
            user=user,
        )
    return escalation


def _name(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "system"
