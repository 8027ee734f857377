"""The outbox: every external side effect is an Action row, performed once per idempotency key.

The order is the whole point. The intent (a pending Action) is committed before the provider is
called, so a worker that dies mid-act leaves evidence. On the next attempt a done action returns
its stored result without acting; a pending one is first reconciled (the performer asks the
provider whether it already happened) and otherwise performed again with the same key, which
providers that accept idempotency keys deduplicate. Performers that reconcile can never act twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from agents.errors import OutboxInTransaction
from agents.models import Action, AgentRun
from smarter_team import clock

logger = logging.getLogger(__name__)


class Performer(Protocol):
    def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]: ...


@runtime_checkable
class Reconciler(Protocol):
    def reconcile(self, payload: dict[str, Any], key: str) -> dict[str, Any] | None: ...


class _FunctionPerformer:
    def __init__(self, func: Callable[[dict[str, Any], str], dict[str, Any]]) -> None:
        self.func = func

    def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        return self.func(payload, key)


_performers: dict[str, Performer] = {}


def register_performer(kind: str) -> Callable[[Any], Any]:
    """Decorator for a performer class (instantiated once) or a ``(payload, key) -> dict`` function."""

    def decorator(obj: Any) -> Any:
        existing = _performers.get(kind)
        if existing is not None and _origin(existing) != (obj.__module__, obj.__qualname__):
            raise ValueError(f"a performer for {kind!r} is already registered")
        _performers[kind] = obj() if isinstance(obj, type) else _FunctionPerformer(obj)
        return obj

    return decorator


def _origin(performer: Performer) -> tuple[str, str]:
    # Re-importing a module (autoreload, tests) registers the same performer again: not a clash.
    obj: Any = performer.func if isinstance(performer, _FunctionPerformer) else type(performer)
    return obj.__module__, obj.__qualname__


def unregister_performer(kind: str) -> None:
    _performers.pop(kind, None)


def performer_for(kind: str) -> Performer:
    try:
        return _performers[kind]
    except KeyError:
        raise LookupError(f"no performer registered for action kind {kind!r}") from None


def _in_real_transaction() -> bool:
    # The test runner's own wrapping transaction does not count: it is how tests isolate data.
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def act(*, run: AgentRun | None, kind: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Perform ``kind`` once for ``key`` and return its result (the stored one if already done)."""
    if _in_real_transaction():
        raise OutboxInTransaction(
            f"ctx.act({kind!r}) inside a transaction: the intent must commit before acting "
            "(set atomic = False on the agent and keep transactions around database writes only)"
        )
    performer = performer_for(kind)
    full_key = f"{kind}:{key}"
    action = _record_intent(run=run, kind=kind, key=full_key, payload=payload)
    if action.status == Action.Status.DONE:
        return action.result or {}
    if action.attempts > 0 and isinstance(performer, Reconciler):
        # A previous attempt may have acted and died before recording it: ask the provider first.
        found = performer.reconcile(action.payload, full_key)
        if found is not None:
            logger.info("action %s reconciled: it had already happened", full_key)
            return _mark_done(action, found)
    Action.objects.filter(pk=action.pk).update(attempts=F("attempts") + 1, updated_at=clock.now())
    try:
        result = performer.perform(action.payload, full_key)
    except Exception as exc:
        # A transient error leaves the intent pending for the retry (reconcile, then act again);
        # anything else is recorded failed and fails the run.
        transient = bool(getattr(exc, "transient", False))
        action.error = f"{type(exc).__name__}: {exc}"[:2000]
        if transient:
            Action.objects.filter(pk=action.pk).update(error=action.error, updated_at=clock.now())
        else:
            action.transition_to(Action.Status.FAILED, also=["error"])
        raise
    return _mark_done(action, result if isinstance(result, dict) else {"result": result})


def _record_intent(*, run: AgentRun | None, kind: str, key: str, payload: dict[str, Any]) -> Action:
    action = Action.objects.filter(idempotency_key=key).first()
    if action is None:
        try:
            with transaction.atomic():
                action = Action.objects.create(kind=kind, idempotency_key=key, run=run, payload=payload)
        except IntegrityError:
            action = Action.objects.get(idempotency_key=key)
    if action.status == Action.Status.FAILED:
        # An operator's retry of the run: try the failed action again, same key.
        action.transition_to(Action.Status.PENDING)
    return action


def _mark_done(action: Action, result: dict[str, Any]) -> dict[str, Any]:
    action.result = result
    action.done_at = clock.now()
    action.error = ""
    action.transition_to(Action.Status.DONE, also=["result", "done_at", "error"])
    return result
