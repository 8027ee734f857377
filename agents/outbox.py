"""The transactional outbox: every external side effect is an Action row, performed once per key.

The order is the whole point.

1. **Record** (``ctx.act`` in the act phase): a pending Action is written in the act's transaction,
   with the domain writes and the run's outcome. A worker that dies before commit leaves nothing;
   after commit the intent is durable.
2. **Perform** (after commit): the worker that committed it performs it at once; the sweeper
   (``perform_due``, a beat task) performs what a dead worker left, after a short grace. Each attempt
   first takes the row's lease (an UPDATE, its own commit), so two processes never perform it at once.
   A row that was attempted before is first **reconciled** (the performer asks the provider whether
   it already happened), then checked by the **compliance guards** (the suppression list: an opt-out
   that lands between the decision and the send still stops it), then performed with the same key,
   which providers that accept idempotency keys deduplicate.
3. **Result**: the done mark and the kind's result handler (``on_done``: the Stripe invoice id onto
   the Invoice) commit together. A transient failure retries the act alone, with back-off, never the
   run's decisions; a permanent one fails the action, records one ErrorLog for the run and fails or
   escalates it (``on_failed`` tells the domain); a compliance refusal blocks it (``on_failed`` with
   ``blocked=True``: the sequence marks its message failed and stops the enrollment).

Times here are infrastructure time (leases, back-off): the wall clock, never the demo's.

A performer that reaches people declares where its payload names them (``contacts``); a kind in a
namespace that reaches people cannot be registered without them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from pydantic import BaseModel, ValidationError

from agents.errors import ActPayloadMismatch
from agents.models import Action, AgentRun
from smarter_team import clock
from smarter_team.db import insert_new
from smarter_team.logging import redact

logger = logging.getLogger(__name__)

# A guard sees (kind, addresses, payload) and returns why the act must not happen, or None.
Guard = Callable[[str, list[str], dict[str, Any]], str | None]

# Kinds in these namespaces reach people: registering one without ``contacts`` is refused, so a
# new sender cannot skip the suppression list by forgetting to name its recipients.
REACHES_PEOPLE = frozenset({"email", "outreach", "sms", "call", "voice", "linkedin"})
# The committing worker performs its acts at once; the sweeper waits this long before taking over.
GRACE = dt.timedelta(seconds=15)
LEASE = dt.timedelta(minutes=5)  # longer than a provider call with its own retries
MAX_BACKOFF = dt.timedelta(hours=1)
MAX_KEY = 200  # Action.idempotency_key max_length


@dataclass(frozen=True)
class ActKind:
    kind: str
    payload: type[BaseModel]
    contacts: tuple[str, ...]
    performer: Any
    max_attempts: int

    def perform(self, payload: BaseModel, key: str) -> dict[str, Any]:
        result = self.performer.perform(payload, key)
        return result if isinstance(result, dict) else {"result": result}

    def reconcile(self, payload: BaseModel, key: str) -> dict[str, Any] | None:
        reconcile = getattr(self.performer, "reconcile", None)
        return reconcile(payload, key) if reconcile is not None else None

    @property
    def reconciles(self) -> bool:
        return hasattr(self.performer, "reconcile")

    @property
    def has_on_done(self) -> bool:
        return hasattr(self.performer, "on_done")

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        handler = getattr(self.performer, "on_done", None)
        if handler is not None:
            handler(action, result)

    def on_failed(self, action: Action, reason: str, *, blocked: bool) -> None:
        handler = getattr(self.performer, "on_failed", None)
        if handler is not None:
            handler(action, reason, blocked=blocked)


class _FunctionPerformer:
    def __init__(self, func: Callable[[Any, str], dict[str, Any]]) -> None:
        self.func = func

    def perform(self, payload: Any, key: str) -> dict[str, Any]:
        return self.func(payload, key)


_kinds: dict[str, ActKind] = {}
_guards: dict[tuple[str, str], Guard] = {}


def register_performer(
    kind: str, *, payload: type[BaseModel], contacts: Sequence[str], max_attempts: int = 5
) -> Callable[[Any], Any]:
    """Decorator for a performer class (instantiated once) or a ``(payload, key) -> dict`` function.

    ``payload``: the kind's typed payload (a pydantic model); ``ctx.act`` refuses any other.
    ``contacts`` (required, so no sender is registered without thinking about it): the payload's
    fields holding the addresses, phone numbers or profile URLs the act reaches, checked by the
    compliance guards before every attempt; ``()`` declares that the act reaches nobody.
    A class may also define ``reconcile(payload, key) -> dict | None`` (did it already happen?),
    ``on_done(action, result)`` and ``on_failed(action, reason, *, blocked)`` (write the outcome back
    onto the domain, in the transaction that marks the action).
    """
    if not (isinstance(payload, type) and issubclass(payload, BaseModel)):
        raise TypeError(f"{kind!r}: payload must be a pydantic model class")
    if not contacts and kind.partition(".")[0] in REACHES_PEOPLE:
        raise ValueError(f"{kind!r} reaches people: register it with contacts=(the payload fields of its recipients)")
    missing = [c for c in contacts if c not in payload.model_fields]
    if missing:
        raise ValueError(f"{kind!r}: contacts {missing} are not fields of {payload.__name__}")

    def decorator(obj: Any) -> Any:
        existing = _kinds.get(kind)
        if existing is not None and _origin(existing.performer) != (obj.__module__, obj.__qualname__):
            raise ValueError(f"a performer for {kind!r} is already registered")
        performer = obj() if isinstance(obj, type) else _FunctionPerformer(obj)
        _kinds[kind] = ActKind(kind, payload, tuple(contacts), performer, max_attempts)
        return obj

    return decorator


def register_guard(guard: Guard) -> Guard:
    """Add a compliance guard for every act that reaches people (idempotent per function)."""
    _guards[(guard.__module__, guard.__qualname__)] = guard
    return guard


def _origin(performer: Any) -> tuple[str, str]:
    # Re-importing a module (autoreload, tests) registers the same performer again: not a clash.
    obj: Any = performer.func if isinstance(performer, _FunctionPerformer) else type(performer)
    return obj.__module__, obj.__qualname__


def unregister_performer(kind: str) -> None:
    _kinds.pop(kind, None)


def kind_spec(kind: str) -> ActKind:
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"no performer registered for action kind {kind!r}") from None


def registered_kinds() -> dict[str, ActKind]:
    return dict(_kinds)


def contacts_of(kind: str, payload: dict[str, Any]) -> list[str] | None:
    """The addresses an act of ``kind`` reaches (None when the kind reaches nobody)."""
    spec = _kinds.get(kind)
    if spec is None or not spec.contacts:
        return None
    found: list[str] = []
    for key in spec.contacts:
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
        # Fails closed: a recipient under a field the performer did not declare would go unchecked.
        return f"no recipient under {', '.join(_kinds[kind].contacts)} to check"
    if not _guards:
        return "no compliance guard is registered (the crm app is not loaded)"
    for guard in list(_guards.values()):
        refusal = guard(kind, addresses, payload)
        if refusal:
            return refusal
    return None


# --- 1. record ----------------------------------------------------------------------------------


def typed_payload(kind: str, payload: BaseModel | dict[str, Any]) -> BaseModel:
    """The kind's payload model for ``payload``; ActPayloadMismatch says what is wrong."""
    spec = kind_spec(kind)
    if isinstance(payload, spec.payload):
        return payload
    if isinstance(payload, BaseModel):
        raise ActPayloadMismatch(f"{kind!r} takes a {spec.payload.__name__} payload, not {type(payload).__name__}")
    try:
        return spec.payload.model_validate(payload)
    except ValidationError as exc:
        raise ActPayloadMismatch(f"{kind!r} payload does not match {spec.payload.__name__}: {exc}") from None


def acted_on(kind: str, field: str, **filters: Any) -> QuerySet[Action, Any]:
    """The row ids the acts of ``kind`` name in their payload's ``field``, as a subquery.

    For ``filter(pk__in=acted_on(...))`` and its exclude: a list read into Python would grow
    with every act ever recorded, and an IN list has a bound (65,535 values a statement on
    PostgreSQL, 32,766 on SQLite). Acts without the field are left out, since NOT IN with a NULL
    matches nothing."""
    return (
        Action.objects.filter(kind=kind, **filters)
        .annotate(target=Cast(KeyTextTransform(field, "payload"), BigIntegerField()))
        .filter(target__isnull=False)
        .values("target")
    )


def full_key(kind: str, key: str) -> str:
    candidate = f"{kind}:{key}"
    if len(candidate) <= MAX_KEY:
        return candidate
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def record(*, run: AgentRun | None, kind: str, key: str, payload: BaseModel | dict[str, Any]) -> Action:
    """Write the intent in the caller's transaction (the act's). Idempotent per (kind, key): a key
    already recorded returns its row. A failed row is tried again only by a retry of the run that
    recorded it (an operator's retry); another run cannot make a failed business action act again."""
    data = typed_payload(kind, payload).model_dump(mode="json")
    idem = full_key(kind, key)
    fresh = Action(kind=kind, idempotency_key=idem, run=run, payload=data, next_attempt_at=clock.wall_now() + GRACE)
    action = _insert_new(fresh) or Action.objects.get(idempotency_key=idem)
    if action.status == Action.Status.FAILED and run is not None and action.run_id == run.pk:
        action.next_attempt_at = clock.wall_now() + GRACE
        action.error = ""
        action.transition_to(Action.Status.PENDING, also=["next_attempt_at", "error"])
    return action


_INSERT_FIELDS = [f for f in Action._meta.concrete_fields if not f.primary_key]


def _insert_new(action: Action) -> Action | None:
    """Insert the intent unless its key exists: ``action`` with its id, or None when it existed.
    One statement (smarter_team.db.insert_new): this is on every act's path."""
    for field in _INSERT_FIELDS:  # what save() would fill in: defaults ("" for text) and timestamps
        if getattr(action, field.attname) is None and (field.has_default() or not field.null):
            setattr(action, field.attname, field.get_default())
    action.created_at = action.updated_at = clock.now()
    return action if insert_new(action, unique=["idempotency_key"]) else None


# --- 2. perform ---------------------------------------------------------------------------------


def _claim(action: Action | int) -> Action | None:
    """Take the action's lease (its own commit); None when it is done, failed, or held by a live worker.

    Given the row the worker just committed, it is not read again: the claim's UPDATE matching it
    proves it is still pending, and only the claim's own fields changed.
    """
    wall = clock.wall_now()
    action_id = action if isinstance(action, int) else action.pk
    taken = (
        Action.objects.filter(pk=action_id, status=Action.Status.PENDING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=wall))
        .update(lease_expires_at=wall + LEASE, attempts=F("attempts") + 1, updated_at=clock.now())
    )
    if not taken:
        return None
    if isinstance(action, int):
        return Action.objects.get(pk=action_id)
    action.attempts += 1
    action.lease_expires_at = wall + LEASE
    return action


def perform_recorded(actions: Iterable[Action | int]) -> list[str | None]:
    """Perform what a run just committed (the worker's own acts, at once, in order); each one's
    status afterwards (``perform``)."""
    return [perform(action) for action in actions]


def perform(action_or_id: Action | int) -> str | None:
    """One attempt at one action; its status afterwards, or None when another process holds it."""
    from agents import runtime_hooks

    action = _claim(action_or_id)
    if action is None:
        return None
    runtime_hooks.boundary("before_call")
    try:
        spec = kind_spec(action.kind)
    except LookupError as exc:
        return _fail_permanently(action, None, exc)
    payload = spec.payload.model_validate(action.payload)
    if action.attempts > 1 and spec.reconciles:
        # A previous attempt may have acted and died before recording it: ask the provider first.
        try:
            found = spec.reconcile(payload, action.idempotency_key)
        except Exception as exc:
            return _after_error(action, spec, exc)
        if found is not None:
            logger.info("action %s (%s) reconciled: it had already happened", action.pk, action.kind)
            return _done(action, spec, found)
    refusal = check_compliance(action.kind, action.payload)
    if refusal is not None:
        return _blocked(action, spec, refusal)
    try:
        result = spec.perform(payload, action.idempotency_key)
    except Exception as exc:
        return _after_error(action, spec, exc)
    runtime_hooks.boundary("after_call")
    return _done(action, spec, result)


def _done(action: Action, spec: ActKind, result: dict[str, Any]) -> str:
    action.result = result
    action.done_at = clock.now()
    action.error = ""
    action.lease_expires_at = None
    fields = ["result", "done_at", "error", "lease_expires_at"]
    if not spec.has_on_done:
        action.transition_to(Action.Status.DONE, also=fields)  # one statement: atomic by itself
        return Action.Status.DONE
    try:
        with transaction.atomic():
            action.transition_to(Action.Status.DONE, also=fields)
            spec.on_done(action, result)
    except Exception as exc:
        # The act happened: keep it done (never act again), and fail the run for its handler.
        action.error = redact(f"result handler failed: {type(exc).__name__}: {exc}")[:2000]
        with transaction.atomic():
            action.transition_to(Action.Status.DONE, also=[*fields, "error"])
        _fail_run(action, exc)
    return Action.Status.DONE


def _blocked(action: Action, spec: ActKind, refusal: str) -> str:
    action.error = f"blocked: {refusal}"[:2000]
    action.lease_expires_at = None
    with transaction.atomic():
        action.transition_to(Action.Status.BLOCKED, also=["error", "lease_expires_at"])
        spec.on_failed(action, refusal, blocked=True)
    # By id: a key or a reason may name the person, and addresses stay out of log lines.
    logger.info("action %s (%s) blocked by a compliance guard", action.pk, action.kind)
    return Action.Status.BLOCKED


def backoff(attempt: int, *, retry_after: float | None = None) -> dt.timedelta:
    delay = min(30.0 * 2 ** max(attempt - 1, 0), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=max(delay, retry_after or 0))


def _after_error(action: Action, spec: ActKind, exc: Exception) -> str:
    transient = bool(getattr(exc, "transient", False))
    if transient and action.attempts < spec.max_attempts:
        # The act alone is tried again later (the run's decisions stand): reconcile, then act.
        action.error = redact(f"{type(exc).__name__}: {exc}")[:2000]
        action.next_attempt_at = clock.wall_now() + backoff(
            action.attempts, retry_after=getattr(exc, "retry_after", None)
        )
        action.lease_expires_at = None
        action.save(update_fields=["error", "next_attempt_at", "lease_expires_at"])
        logger.warning("action %s (%s) will be retried: %s", action.pk, action.kind, type(exc).__name__)
        return Action.Status.PENDING
    return _fail_permanently(action, spec, exc)


def _fail_permanently(action: Action, spec: ActKind | None, exc: BaseException) -> str:
    reason = redact(f"{type(exc).__name__}: {exc}")[:2000]
    action.error = reason
    action.lease_expires_at = None
    with transaction.atomic():
        action.transition_to(Action.Status.FAILED, also=["error", "lease_expires_at"])
        if spec is not None:
            spec.on_failed(action, reason, blocked=False)
    _fail_run(action, exc)
    return Action.Status.FAILED


def _fail_run(action: Action, exc: BaseException) -> None:
    """One ErrorLog under the run's failure, and the run failed or escalated as its plan says."""
    from agents import runtime

    if action.run_id is None:
        return
    with transaction.atomic():
        run = AgentRun.objects.select_for_update().filter(pk=action.run_id).first()
        if run is None:
            return
        runtime.fail_after_act(run, exc, kind=action.kind)


# --- the sweeper --------------------------------------------------------------------------------


def perform_due(*, limit: int = 200) -> int:
    """Perform pending actions whose worker died or whose back-off has passed. Returns how many were tried."""
    wall = clock.wall_now()
    due = list(
        Action.objects.filter(status=Action.Status.PENDING, next_attempt_at__lte=wall)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=wall))
        # Oldest first, and a run's acts in the order it recorded them (one may need the one before).
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    tried = 0
    for action_id in due:
        if perform(action_id) is not None:
            tried += 1
    return tried
