"""The outbox: every external side effect is an Action row, performed once per idempotency key.

The order is the whole point. The intent (a pending Action) is committed before the provider is
called, so a worker that dies mid-act leaves evidence. On the next attempt a done action returns
its stored result without acting; a pending one is first reconciled (the performer asks the
provider whether it already happened) and otherwise performed again with the same key, which
providers that accept idempotency keys deduplicate. Performers that reconcile can never act twice.

A performer that reaches people declares where its payload names them (``contacts``). Before every
attempt to perform such an act, each compliance guard (the suppression list, registered by the
crm app) sees those addresses; a refusal fails the action and raises ComplianceBlocked. The check
runs at act time, not when the work was planned, so an unsubscribe that lands between a draft and
its sending, or between two attempts, still stops it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from agents.errors import ComplianceBlocked, OutboxInTransaction
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


# A guard sees (kind, addresses, payload) and returns why the act must not happen, or None.
Guard = Callable[[str, list[str], dict[str, Any]], str | None]

# Kinds in these namespaces reach people: registering one without ``contacts`` is refused, so a
# new sender cannot skip the suppression list by forgetting to name its recipients.
REACHES_PEOPLE = frozenset({"email", "outreach", "sms", "call", "voice", "linkedin"})

_performers: dict[str, Performer] = {}
_contacts: dict[str, tuple[str, ...]] = {}
_guards: dict[tuple[str, str], Guard] = {}


def register_performer(kind: str, *, contacts: Sequence[str]) -> Callable[[Any], Any]:
    """Decorator for a performer class (instantiated once) or a ``(payload, key) -> dict`` function.

    ``contacts`` (required, so no sender is registered without thinking about it): the payload keys
    holding the addresses, phone numbers or profile URLs the act reaches (a string or a list of
    strings each), checked by the compliance guards before every attempt; ``()`` declares that the
    act reaches nobody (a CRM update, a file upload).
    """

    if not contacts and kind.partition(".")[0] in REACHES_PEOPLE:
        raise ValueError(f"{kind!r} reaches people: register it with contacts=(the payload keys of its recipients)")

    def decorator(obj: Any) -> Any:
        existing = _performers.get(kind)
        if existing is not None and _origin(existing) != (obj.__module__, obj.__qualname__):
            raise ValueError(f"a performer for {kind!r} is already registered")
        _performers[kind] = obj() if isinstance(obj, type) else _FunctionPerformer(obj)
        _contacts[kind] = tuple(contacts)
        return obj

    return decorator


def register_guard(guard: Guard) -> Guard:
    """Add a compliance guard for every act that reaches people (idempotent per function)."""
    _guards[(guard.__module__, guard.__qualname__)] = guard
    return guard


def contacts_of(kind: str, payload: dict[str, Any]) -> list[str] | None:
    """The addresses an act of ``kind`` reaches (None when the kind reaches nobody)."""
    keys = _contacts.get(kind, ())
    if not keys:
        return None
    found: list[str] = []
    for key in keys:
        value = payload.get(key)
        values = value if isinstance(value, list | tuple) else [value]
        found.extend(str(v).strip() for v in values if v is not None and str(v).strip())
    return found


def check_compliance(kind: str, payload: dict[str, Any]) -> str | None:
    """Why an act of ``kind`` with ``payload`` must not be performed, or None when it may."""
    addresses = contacts_of(kind, payload)
    if addresses is None:
        return None
    if not addresses:
        # Fails closed: a recipient under a key the performer did not declare would go unchecked.
        return f"no recipient under {', '.join(_contacts[kind])} to check"
    if not _guards:
        return "no compliance guard is registered (the crm app is not loaded)"
    for guard in list(_guards.values()):
        refusal = guard(kind, addresses, payload)
        if refusal:
            return refusal
    return None


def _origin(performer: Performer) -> tuple[str, str]:
    # Re-importing a module (autoreload, tests) registers the same performer again: not a clash.
    obj: Any = performer.func if isinstance(performer, _FunctionPerformer) else type(performer)
    return obj.__module__, obj.__qualname__


def unregister_performer(kind: str) -> None:
    _performers.pop(kind, None)
    _contacts.pop(kind, None)


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
            logger.info("action %s (%s) reconciled: it had already happened", action.pk, kind)
            return _mark_done(action, found)
    refusal = check_compliance(kind, action.payload)
    if refusal is not None:
        action.error = f"blocked: {refusal}"[:2000]
        action.transition_to(Action.Status.FAILED, also=["error"])
        # By id: a key or a reason may name the person, and addresses stay out of log lines.
        logger.info("action %s (%s) blocked by a compliance guard", action.pk, kind)
        raise ComplianceBlocked(f"{kind} blocked: {refusal}")
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
