"""Write path for ErrorLog: every failed run and failed integration call gets a row."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser

from learning.facts_record import record_facts
from learning.fingerprint import error_type_of, fingerprint
from learning.models import ErrorLog
from smarter_team import clock
from smarter_team.context import current_agent_name, current_run_id
from smarter_team.db import update_in_chunks
from smarter_team.logging import redact as redact_all

if TYPE_CHECKING:
    from agents.models import AgentRun

MAX_MESSAGE = 4000
# The attribute of a run (the runtime's instance) holding the facts its load read, set by before_run.
FACTS_ATTR = "_learning_facts"
# The flat record of the facts as the guards saw them (learning.services.application.before_run).
RECORD_ATTR = "_learning_facts_record"
_SECRET_KEYS = re.compile(r"(key|token|secret|password|passwd|authorization|auth|cookie|signature)", re.IGNORECASE)
_ENTITY_KEYS = ("lead", "company", "client", "campaign", "deal", "proposal", "invoice", "meeting", "project")

AUTH_WORDS = ("auth", "permission", "forbidden", "unauthori", "credential", "policy", "suppress")
TRANSIENT_WORDS = (
    "timeout",
    "timedout",
    "ratelimit",
    "rate_limit",
    "throttl",
    "unavailable",
    "connection",
    "transient",
)


def redact(text: str) -> str:
    """The text without secrets or email addresses: an error message must never carry either
    (the one rule set of smarter_team.logging, shared with the log lines)."""
    return redact_all(text)


def _clean_context(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return "..."
    if isinstance(value, dict):
        return {
            str(k): "[redacted]" if _SECRET_KEYS.search(str(k)) else _clean_context(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean_context(v, depth + 1) for v in list(value)[:50]]
    if isinstance(value, str):
        return redact(value[:2000])
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value)[:500])


def affected_entities(data: Any) -> list[dict[str, Any]]:
    """[{type, id}] for the ids a run's input names (lead_id, company_id, ...)."""
    if not isinstance(data, dict):
        return []
    found = []
    for name in _ENTITY_KEYS:
        value = data.get(f"{name}_id")
        if value not in (None, ""):
            found.append({"type": name, "id": value})
    return found


def severity_for(error_type: str, *, transient: bool) -> str:
    lowered = error_type.lower()
    if transient:
        return ErrorLog.Severity.LOW
    if any(word in lowered for word in AUTH_WORDS):
        return ErrorLog.Severity.HIGH
    return ErrorLog.Severity.MEDIUM


def record_failure(
    *,
    run: AgentRun | None,
    agent_name: str,
    exc: BaseException,
    step: str = "",
    provider: str = "",
    transient: bool = False,
    context: dict[str, Any] | None = None,
    facts: Any = None,
) -> ErrorLog:
    """One ErrorLog row for a failure, fingerprinted so alike errors group together.

    ``facts``: what the run's ``load`` read (the runtime passes them). They are kept with the
    failure as a privacy-safe record (learning/facts_record.py): extraction derives rule conditions
    from them, e.g. ``lead.company.domain`` missing for an agent whose input is only ``lead_id``.
    """
    run_id = run.pk if run is not None else current_run_id.get()
    agent = agent_name or (run.agent_name if run is not None else "") or current_agent_name.get()
    error_type = error_type_of(exc)
    message = redact(str(exc) or error_type)[:MAX_MESSAGE]
    step = step_of(exc, step=step, provider=provider)
    # An integration failure is grouped per provider as well: the same error from two vendors is two problems.
    fp_step = f"{provider}:{step}" if provider else step
    fp = fingerprint(agent_name=agent, error_type=error_type, step=fp_step, message=message)
    cleaned = _clean_context(context or {})
    if run is not None:
        cleaned.setdefault("attempt", run.attempts)
        recorded = getattr(run, RECORD_ATTR, None)
        if recorded is None:
            if facts is None:
                facts = getattr(run, FACTS_ATTR, None)
            if facts is not None:
                recorded = record_facts(run.input if isinstance(run.input, dict) else {}, facts)
        if recorded is not None:
            cleaned["facts"] = recorded
        # One failure, one row: a provider error logged by the HTTP client and then again by the runtime
        # when it fails the run is the same occurrence (same run, attempt and fingerprint).
        existing = ErrorLog.objects.filter(run_id=run.pk, fingerprint=fp, context__attempt=run.attempts).first()
        if existing is not None:
            existing.context = {**existing.context, **cleaned}
            existing.transient = existing.transient or transient
            existing.save(update_fields=["context", "transient"])
            return existing
    return ErrorLog.objects.create(
        agent_name=agent[:64],
        provider=provider[:32],
        run_id=run_id,
        error_type=error_type[:128],
        step=step[:128],
        message=message,
        fingerprint=fp,
        context=cleaned,
        affected_entities=affected_entities(run.input if run is not None else context),
        severity=severity_for(error_type, transient=transient),
        transient=transient,
        occurred_at=clock.now(),
    )


def step_of(exc: BaseException, *, step: str, provider: str) -> str:
    """Where a failure happened. A provider's error is placed at its operation whoever reports it:
    the HTTP client (step = the operation) and the runtime failing the run with the same exception
    (step "run", "act"...) then log one row under one fingerprint, and a rule derived from that row
    answers the run's failure."""
    operation = getattr(exc, "operation", "")
    if provider and isinstance(operation, str) and operation:
        return operation
    return step


def fingerprint_of(*, agent_name: str, exc: BaseException, step: str = "", provider: str = "") -> str:
    """The fingerprint record_failure would give this exception (for callers holding no ErrorLog)."""
    message = redact(str(exc) or error_type_of(exc))[:MAX_MESSAGE]
    step = step_of(exc, step=step, provider=provider)
    fp_step = f"{provider}:{step}" if provider else step
    return fingerprint(agent_name=agent_name, error_type=error_type_of(exc), step=fp_step, message=message)


def resolve_errors(*, errors: Iterable[ErrorLog], user: AbstractBaseUser | None, note: str = "") -> int:
    """Mark errors resolved by an operator (the ones already resolved keep their first resolution)."""
    now = clock.now()
    return update_in_chunks(
        ErrorLog.objects.filter(resolved_at__isnull=True),
        (e.pk for e in errors),
        resolved_at=now,
        resolved_by=user if user is not None and user.pk else None,
        resolution_notes=note.strip(),
        updated_at=now,
    )


def record_webhook_failure(*, provider: str, event_type: str, event_pk: int, exc: BaseException) -> ErrorLog:
    """The ErrorLog of a webhook event whose processing failed (no agent for it, its handler raised):
    error_monitoring and extraction see it like any other failure. Call inside the transaction that
    marks the event failed, so the row and the mark commit together."""
    return record_failure(
        run=None,
        agent_name="",
        exc=exc,
        step=f"webhook:{event_type}"[:128],
        provider=provider,
        transient=False,
        context={"webhook_event": event_pk, "event_type": event_type},
    )
