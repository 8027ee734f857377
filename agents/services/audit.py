"""The audit trail: who (an agent, a user, the system) changed what, with before and after."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Required, TypedDict, Unpack

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from agents.models import AgentRun, AuditLog
from smarter_team import clock


class EntryFields(TypedDict, total=False):
    """What an audit entry says: the action and its target (None for what has no single row, such
    as a whole import) are required; before/after are the changed values; run and user name the actor."""

    action: Required[str]
    target: Required[models.Model | None]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    run: AgentRun | None
    user: AbstractBaseUser | None


def audit_entry(**fields: Unpack[EntryFields]) -> AuditLog:
    """An unsaved entry. The actor is the user if given, else the run's agent, else the system."""
    user, run, target = fields.get("user"), fields.get("run"), fields["target"]
    if user is not None:
        actor_type, actor = AuditLog.ActorType.USER, user.get_username()
    elif run is not None:
        actor_type, actor = AuditLog.ActorType.AGENT, run.agent_name
    else:
        actor_type, actor = AuditLog.ActorType.SYSTEM, "system"
    return AuditLog(
        actor_type=actor_type,
        actor=actor,
        user=user if user is not None and user.pk else None,  # type: ignore[misc]  # the project's user model
        run=run,
        action=fields["action"],
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        before=fields.get("before"),
        after=fields.get("after"),
        at=clock.now(),
    )


def record_change(**fields: Unpack[EntryFields]) -> AuditLog:
    """One append-only entry (see ``audit_entry``)."""
    entry = audit_entry(**fields)
    entry.save(force_insert=True)
    return entry


def record_entries(entries: Iterable[AuditLog]) -> int:
    """Many entries in one INSERT (a bulk deletion, an import): the trail costs no query per row."""
    return len(AuditLog.objects.bulk_create(list(entries)))
