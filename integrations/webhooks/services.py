"""The write paths of webhooks: receive (store, answer), process (event -> handler -> run), replay.

``receive_webhook`` is what the endpoint calls; it does the least that makes the event safe (verify,
store once: one INSERT, committed before the answer) and leaves the work to ``process_event``, run
by a Celery task after the commit (the endpoint's events go out batched, see publisher.py; a
provider's urgent types, opt-outs, go out alone at once). The sweeper (``replay_unprocessed``)
catches what a lost task or a failed handler left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, Field, Q, Value, When

from agents.errors import UnknownAgent
from agents.services.audit import record_change
from integrations.models import WebhookEvent
from integrations.webhooks import publisher
from integrations.webhooks.base import (
    IncomingRequest,
    MalformedEvent,
    WebhookProvider,
    body_digest,
    parse_json,
    signing_secrets,
    storable_text,
)
from integrations.webhooks.optouts import apply_opt_out
from integrations.webhooks.providers import PROVIDERS, get_provider
from integrations.webhooks.rejected import store_rejected
from integrations.webhooks.signatures import SignatureError
from smarter_team import broker, clock
from smarter_team.db import hot_cursor
from smarter_team.logging import redact

logger = logging.getLogger(__name__)

MASK = "[masked]"
# Never worth keeping, whoever sends them.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
MAX_ERROR_CHARS = 2000
# An urgent event still received this long after arrival lost its publish (broker down, or the
# process died before it): the sweeper does not make an opt-out wait WEBHOOK_REPLAY_AFTER_MINUTES.
URGENT_REPLAY_AFTER = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def _error(status_code: int, detail: str) -> Receipt:
    return Receipt(status_code, {"detail": detail})


def stored_headers(provider: WebhookProvider, headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str]:
    """The request's headers (and query) as stored: secrets and signatures masked, credentials dropped.

    Names and values go through ``storable_text``: anyone can put a NUL (``?a=%00``) or a lone
    surrogate in them, and PostgreSQL's jsonb refuses the first.
    """
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in DROPPED_HEADERS:
            continue
        kept[storable_text(lower)] = MASK if lower in provider.secret_headers else storable_text(value)
    for name, value in query.items():
        kept[storable_text(f"?{name}")] = MASK if name in provider.secret_query else storable_text(value)
    return kept


def _enqueue(event_pk: int) -> None:
    # A broker hiccup must not turn a stored event into a 500: _publish_now logs it and marks
    # the event for the sweeper's next pass.
    transaction.on_commit(partial(_publish_now, event_pk), robust=True)


def _publish_on_commit(event_pk: int, *, urgent: bool = False) -> None:
    # Batched with the other events of this process (publisher.py): the request never waits for
    # the broker; a lost publish leaves the event received, for the sweeper. An urgent one cannot
    # afford to sit in the batcher's buffer (lost with the process, then minutes until the
    # sweeper): it is published before the answer, at the cost of one broker round trip.
    publish = _publish_now if urgent else publisher.publish_later
    transaction.on_commit(partial(publish, event_pk), robust=True)


def _publish_now(event_pk: int) -> None:
    """One ``process_event`` message for an urgent event; a failure is logged, never raised."""
    from integrations.webhooks.tasks import process_webhook_event

    try:
        process_webhook_event.apply_async((event_pk,))
    except Exception as exc:
        # The row is stored as received: marked, the sweeper's next pass publishes it again.
        logger.warning(
            "publishing webhook event %s failed (%s); the sweeper will replay it", event_pk, type(exc).__name__
        )
        mark_publish_failed([event_pk])


def mark_publish_failed(event_pks: list[int]) -> None:
    """Flag received events whose publish failed, for the sweeper's next pass (not minutes later).

    Called after commit, from the request's thread or the publisher's; never raises (the database
    may be down too: then the events wait for the ordinary replay delay).
    """
    try:
        WebhookEvent.objects.filter(pk__in=event_pks, status=WebhookEvent.Status.RECEIVED).update(
            publish_failed_at=clock.now()
        )
    except Exception as exc:
        logger.warning("could not mark %d webhook events for republishing: %s", len(event_pks), type(exc).__name__)


# Fields whose Python value is already what the database driver takes (get_db_prep_save would
# only hand it back): skipped when preparing the hot-path INSERT's parameters.
_PASS_THROUGH = (models.CharField, models.TextField, models.BooleanField, models.PositiveSmallIntegerField)
# The vendors whose INSERT takes ``ON CONFLICT (...) DO NOTHING`` (RETURNING is a feature flag:
# SQLite before 3.35 lacks it).
_ON_CONFLICT_VENDORS = frozenset({"postgresql", "sqlite"})
# The hot-path INSERT and its fields (with whether each needs preparing) per database vendor.
_INSERT_SQL: dict[str, tuple[str, list[tuple[Field[Any, Any], bool]]]] = {}


def _insert_sql() -> tuple[str, list[tuple[Field[Any, Any], bool]]]:
    """``INSERT ... ON CONFLICT (provider, event_id) DO NOTHING RETURNING id`` and its fields.

    Built from the model's fields on first use, so a column added later is not forgotten.
    """
    cached = _INSERT_SQL.get(connection.vendor)
    if cached is None:
        meta, qn = WebhookEvent._meta, connection.ops.quote_name
        columns = {f.name: qn(str(f.column)) for f in meta.concrete_fields}
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        # Identifiers only, from the model's own metadata and quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns[f.name] for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({columns['provider']}, {columns['event_id']}) DO NOTHING RETURNING {columns['id']}"
        )
        prepared = [(f, type(f) not in _PASS_THROUGH) for f in fields]
        cached = _INSERT_SQL[connection.vendor] = (sql, prepared)
    return cached


def _insert_once(**values: Any) -> int | None:
    """Insert the event and return its pk; None when (provider, event_id) is already stored.

    The hot path of every webhook, so one statement and no ORM model round: the unique
    constraint decides (a concurrent duplicate waits for the first insert's commit, then is
    skipped), no exception and no savepoint are needed inside a transaction (the sandbox posts
    in-process), and outside one the INSERT commits on its own in one round trip. No signal
    receivers exist for WebhookEvent (save() only stamps updated_at, which the caller sets);
    a field left out of ``values`` gets its default, as with ``objects.create``.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: `connection` is a per-attribute proxy
    if db.vendor not in _ON_CONFLICT_VENDORS or not db.features.can_return_columns_from_insert:
        return _create_once(values)
    sql, fields = _insert_sql()
    params = []
    for f, prepare in fields:
        value = values[f.attname] if f.attname in values else f.get_default()
        params.append(f.get_db_prep_save(value, db) if prepare else value)
    row = _execute_once(db, sql, params)
    return int(row[0]) if row else None


def _create_once(values: dict[str, Any]) -> int | None:
    """``_insert_once`` through the ORM, where the database lacks ON CONFLICT ... RETURNING.

    Django accepts SQLite from 3.31; RETURNING needs 3.35. Slower (a savepoint, and a second
    query for a duplicate), but the same answer: the pk, or None when the event is stored.
    """
    try:
        # The savepoint keeps a caller's transaction (the sandbox posts in-process) usable after
        # the failed INSERT of a duplicate.
        with transaction.atomic():
            return int(WebhookEvent.objects.create(**values).pk)
    except IntegrityError:
        # Only the (provider, event_id) conflict is a duplicate, as ON CONFLICT decides; any
        # other violation is a bug and raises on either path.
        if WebhookEvent.objects.filter(provider=values["provider"], event_id=values["event_id"]).exists():
            return None
        raise


def _execute_once(db: BaseDatabaseWrapper, sql: str, params: list[Any]) -> Any:
    """Run the INSERT; a reused connection found dead by it is replaced and the INSERT retried.

    With CONN_HEALTH_CHECKS Django sends ``SELECT 1`` before a request's first query on a reused
    connection: a second round trip on every webhook, and about as costly as the INSERT. Outside
    a transaction the INSERT is that check itself: if it fails and the connection is then found
    unusable (the database restarted), reconnect and run it once more. Had the lost INSERT
    committed after all, the retry finds the row and the answer is "duplicate": still a 200, the
    event stored as received and published by the sweeper. Inside a transaction (or on a
    connection opened by this request) nothing changes.
    """
    # getattr: Django's own (unstubbed) flags; without them the check simply stays Django's.
    optimistic = (
        db.connection is not None
        and not db.in_atomic_block
        and getattr(db, "health_check_enabled", False)
        and not getattr(db, "health_check_done", True)
    )
    if optimistic:
        db.health_check_done = True  # type: ignore[attr-defined]
    try:
        with hot_cursor(db) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except (OperationalError, InterfaceError):
        if not optimistic or db.is_usable():
            raise
        logger.warning("webhook insert: the database connection was dead; reconnecting once")
        db.close()
    with hot_cursor(db) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def receive_webhook(
    *, provider_name: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str], source: str = ""
) -> Receipt:
    """Verify, store once and enqueue one webhook request; returns the HTTP answer.

    ``source`` is the client's address: rejected requests are stored at most
    WEBHOOK_REJECTED_PER_MINUTE times per source and minute (rejected.py).
    """
    provider = get_provider(provider_name)
    if provider is None:
        return _error(404, f"unknown webhook provider {provider_name!r}")
    request = IncomingRequest(
        body=body,
        headers={k.lower(): v for k, v in headers.items()},
        query={k: v for k, v in query.items()},
        now=clock.now(),
    )
    secrets = signing_secrets(provider)
    try:
        if not secrets:
            raise SignatureError(f"no {provider.key_name} is configured: events are refused")
        provider.verify(request, secrets)
    except SignatureError as exc:
        headers_kept = stored_headers(provider, request.headers, request.query)
        store_rejected(provider=provider, request=request, reason=str(exc), source=source, headers=headers_kept)
        logger.warning("webhook %s rejected: %s", provider.name, exc)
        return _error(401, str(exc))

    fields: dict[str, Any] = {
        "provider": provider.name,
        "headers": stored_headers(provider, request.headers, request.query),
        "raw_body": body,
        "signature_ok": True,
        "received_at": request.now,
        # Set here as save() would: the INSERT below bypasses the model (see _insert_once).
        "created_at": request.now,
        "updated_at": request.now,
    }
    try:
        identity = provider.identify(request, parse_json(body))
    except MalformedEvent as exc:
        # Kept (once per body) so an operator can see what the vendor sent; never processed.
        _insert_once(
            **fields,
            event_id=f"malformed:{body_digest(body, 64)}",
            status=WebhookEvent.Status.IGNORED,
            error=storable_text(str(exc))[:MAX_ERROR_CHARS],
        )
        return _error(400, str(exc))

    known = identity.event_type in provider.handlers
    event_pk = _insert_once(
        **fields,
        # Ids and types come from the sender (a JSON string, a header): stored as text can be.
        event_id=storable_text(identity.event_id)[:255],
        event_type=storable_text(identity.event_type)[:128],
        status=WebhookEvent.Status.RECEIVED if known else WebhookEvent.Status.IGNORED,
        error="" if known else "no handler for this event type",
    )
    answer = {"event_id": storable_text(identity.event_id), "event_type": storable_text(identity.event_type)}
    if event_pk is None:
        return Receipt(200, {"status": "duplicate", **answer})
    if not known:
        return Receipt(200, {"status": "ignored", **answer})
    _publish_on_commit(event_pk, urgent=identity.event_type in provider.urgent)
    return Receipt(200, {"status": "accepted", **answer})


def process_event(*, event_pk: int) -> str:
    """Run the handler of one received event, once; returns the status it ends in.

    Holds the event's row lock for the whole handler, so a duplicate task or the sweeper waits
    and then sees the event processed. A failing handler is rolled back to its savepoint and
    the event marked failed (the sweeper retries it until WEBHOOK_MAX_ATTEMPTS).

    An opt-out the event carries (optouts.py) is applied first, in its own committed transaction,
    so that neither a failing handler nor a missing agent can undo or delay it.
    """
    _apply_opt_out_of(event_pk)
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != WebhookEvent.Status.RECEIVED:
            return event.status if event is not None else "missing"
        event.attempts += 1
        provider = get_provider(event.provider)
        handler = provider.handlers.get(event.event_type) if provider is not None else None
        if handler is None:
            event.error = "no handler for this event type"
            event.transition_to(WebhookEvent.Status.IGNORED, also=["attempts", "error"])
            return event.status
        try:
            with transaction.atomic():
                acted = handler(event, parse_json(bytes(event.raw_body)))
        except UnknownAgent as exc:
            # A deploy without the agent (or before it): the event waits, failed and replayable,
            # for the sweeper or an operator once the agent is registered.
            logger.error("webhook %s %s: its agent is not registered: %s", event.provider, event.pk, exc)
            event.error = redact(
                f"no agent to hand this event to (UnknownAgent: {exc}); replay it once the agent is registered"
            )[:MAX_ERROR_CHARS]
            event.transition_to(WebhookEvent.Status.FAILED, also=["attempts", "error"])
            _record_failure(event, exc)
            return event.status
        except Exception as exc:
            logger.exception("webhook %s %s failed", event.provider, event.pk)
            event.error = redact(storable_text(f"{type(exc).__name__}: {exc}"))[:MAX_ERROR_CHARS]
            event.transition_to(WebhookEvent.Status.FAILED, also=["attempts", "error"])
            _record_failure(event, exc)
            return event.status
        event.error = "" if acted else "the handler found nothing to do"
        event.processed_at = clock.now()
        new = WebhookEvent.Status.PROCESSED if acted else WebhookEvent.Status.IGNORED
        event.transition_to(new, also=["attempts", "error", "processed_at"])
        return event.status


def _record_failure(event: WebhookEvent, exc: BaseException) -> None:
    """The failure's ErrorLog, committed with the failed mark (learning sees webhook failures too)."""
    from learning.hooks import record_webhook_failure

    record_webhook_failure(provider=event.provider, event_type=event.event_type, event_pk=event.pk, exc=exc)


def _apply_opt_out_of(event_pk: int) -> None:
    """The opt-out of a received (or failed) event, suppressed and committed before its handler."""
    event = (
        WebhookEvent.objects.filter(
            pk=event_pk, signature_ok=True, status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED]
        )
        .only("pk", "provider", "event_id", "event_type", "raw_body")
        .first()
    )
    provider = get_provider(event.provider) if event is not None else None
    if event is None or provider is None or event.event_type not in provider.opt_outs:
        return
    try:
        apply_opt_out(provider=provider, event=event)
    except MalformedEvent as exc:
        logger.warning("webhook %s %s: opt-out unreadable: %s", event.provider, event.pk, exc)


def process_events(*, event_pks: list[int]) -> dict[str, int]:
    """Process a batch of events (one message of the publisher), each on its own, in turn.

    One event's unexpected error (a database hiccup) must not strand the rest: it is logged and
    the event stays received or failed, for the sweeper. Returns how many ended in each status.
    """
    outcomes: dict[str, int] = {}
    for event_pk in event_pks:
        try:
            status = process_event(event_pk=event_pk)
        except Exception:
            logger.exception("webhook event %s could not be processed; left to the sweeper", event_pk)
            status = "error"
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def replay_event(*, event: WebhookEvent, user: AbstractBaseUser | None = None) -> bool:
    """Send a stored event through its handler again (an operator's replay). Rejected ones never.

    The runs it starts carry the event's idempotency key, so an event that had already started
    its run finds that run again rather than starting a second one. The replay is in the audit trail.
    """
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status == WebhookEvent.Status.REJECTED:
            return False
        before = {"status": locked.status, "error": locked.error}
        locked.error = ""
        locked.transition_to(WebhookEvent.Status.RECEIVED, also=["error"])
        record_change(
            action="webhookevent.replay", target=locked, before=before, after={"status": locked.status}, user=user
        )
        _enqueue(locked.pk)
    return True


def _urgent_events() -> Q | None:
    """The events of every provider's urgent types; None when no provider declares any."""
    found = None
    for provider in PROVIDERS.values():
        if provider.urgent:
            these = Q(provider=provider.name, event_type__in=sorted(provider.urgent))
            found = these if found is None else found | these
    return found


def replay_unprocessed(*, limit: int = 500) -> int:
    """The sweeper: re-enqueue events stored but never processed, and failed ones with tries left.

    "Never processed" means still received WEBHOOK_REPLAY_AFTER_MINUTES after arrival (the task
    was lost: broker down, worker killed), or URGENT_REPLAY_AFTER for a provider's urgent types,
    which also come first. Failed events wait as long after their last attempt, urgent or not.

    After a broker outage nothing waits that long: an event whose publish failed is marked
    (``publish_failed_at``) and due at once, and when the broker restarted since the last pass
    (its messages may be gone, smarter_team/broker.py) every received event is due at once.
    """
    now = clock.now()
    after = dt.timedelta(minutes=settings.WEBHOOK_REPLAY_AFTER_MINUTES)
    # Wall-clock delays on business-stamped rows: the demo's fast clock must not replay every event.
    cutoff = clock.wall_ago(after)
    due = Q(received_at__lt=cutoff) | Q(publish_failed_at__isnull=False)
    if broker.lost_messages_since_last_look("webhooks"):
        logger.warning("the broker restarted: every received webhook event is published again")
        due = Q(received_at__lt=now)
    ordering: list[Any] = ["received_at"]
    urgent = _urgent_events()
    if urgent is not None:
        due |= urgent & Q(received_at__lt=clock.wall_ago(min(after, URGENT_REPLAY_AFTER)))
        # Before a backlog of older, ordinary events can fill the limit.
        ordering.insert(0, Case(When(urgent, then=Value(0)), default=Value(1)))
    replayed = 0
    with transaction.atomic():
        stuck = list(
            WebhookEvent.objects.filter(due, status=WebhookEvent.Status.RECEIVED)
            .order_by(*ordering)
            .values_list("pk", flat=True)[:limit]
        )
        # Cleared before publishing: a publish that fails again marks them again.
        WebhookEvent.objects.filter(pk__in=stuck, publish_failed_at__isnull=False).update(publish_failed_at=None)
        for pk in stuck:
            _enqueue(pk)
        replayed += len(stuck)
        failed = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(
                status=WebhookEvent.Status.FAILED,
                attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
                updated_at__lt=cutoff,
            )
            .order_by("updated_at")[: max(limit - replayed, 0)]
        )
        for event in failed:
            event.transition_to(WebhookEvent.Status.RECEIVED)
            _enqueue(event.pk)
            replayed += 1
    if replayed:
        logger.info("webhook sweeper replayed %d events", replayed)
    return replayed
