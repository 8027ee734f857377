"""Claiming a run and saving its outcome in as few round trips as the guarantees allow.

A run costs the runtime two statements on PostgreSQL: the claim (row lock without waiting, attempts
+ 1, a lease; its own commit, so the lease holds while the agent works) and the outcome (the run's
fields and what the learning hook writes, in one statement: one commit). On SQLite (the embedded
default) the claim is one statement too: an UPDATE ... RETURNING in its own commit (SQLite has one
writer at a time, so the row needs no lock of its own). Everything not covered by the one-statement
claim (a run not yet due, held by a live worker, finished, gone) falls back to the row-by-row claim
under ``select_for_update(skip_locked=True)``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from agents import registry
from agents.base import AgentBase
from agents.errors import UnknownAgent
from agents.models import AgentRun
from smarter_team import clock
from smarter_team.db import hot_cursor

# The statuses a claim takes a run from (queued -> running; running -> running past its lease).
CLAIMABLE = (AgentRun.Status.QUEUED, AgentRun.Status.RUNNING)

_TABLE = AgentRun._meta.db_table
_FIELDS = AgentRun._meta.concrete_fields
_BY_NAME = {f.name: f for f in _FIELDS}
_CLAIM_SQL = f"""
UPDATE {_TABLE} AS r
SET status = 'running', attempts = r.attempts + 1, started_at = COALESCE(r.started_at, %(now)s),
    lease_expires_at = %(wall)s + make_interval(secs => COALESCE((%(leases)s::jsonb ->> r.agent_name)::int, %(lease)s)),
    updated_at = %(now)s
WHERE r.id = (
    SELECT id FROM {_TABLE}
    WHERE id = %(id)s AND (
        (status = 'queued' AND due_at <= %(now)s)
        OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= %(wall)s))
    )
    FOR UPDATE SKIP LOCKED
)
RETURNING {", ".join(f"r.{f.column}" for f in _FIELDS)}, {{rules_version}}
"""  # noqa: S608 - the model's own table and columns; every value is a parameter


# SQLite: the same claim without the row lock; each agent's lease (a CASE over the agents whose lease
# differs from the default) is computed by the caller, which knows the clock.
_SQLITE_CLAIM_SQL = f"""
UPDATE {_TABLE}
SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, %s),
    lease_expires_at = {{lease}}, updated_at = %s
WHERE id = %s AND (
    (status = 'queued' AND due_at <= %s)
    OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= %s))
)
RETURNING {", ".join(str(f.column) for f in _FIELDS)}, {{rules_version}}
"""  # noqa: S608 - the model's own table and columns; every value is a parameter


@functools.cache
def _claim_sql() -> str:
    from learning.services import rule_cache  # learning loads after agents

    # The version of the agent's active rules comes back with the claim: the learning hook needs no
    # round trip of its own to know its cached rules are current.
    return _CLAIM_SQL.format(rules_version=rule_cache.version_sql("r.agent_name"))


@functools.cache
def _sqlite_claim_sql(overridden: int) -> str:
    from learning.services import rule_cache

    lease = "%s" if not overridden else f"CASE agent_name {' '.join(['WHEN %s THEN %s'] * overridden)} ELSE %s END"
    return _SQLITE_CLAIM_SQL.format(lease=lease, rules_version=rule_cache.version_sql(f"{_TABLE}.agent_name"))


def claim(run_id: int) -> AgentRun | None:
    """Lock and take the run for this worker; None when it is gone, finished, held or not due."""
    if connection.vendor in ("postgresql", "sqlite"):
        run = _claim_at_once(run_id)
        if run is not None:
            return run
    # Not claimable at once (not due, held, finished, gone, locked): decide row by row.
    return _claim_checked(run_id)


def _claim_at_once(run_id: int) -> AgentRun | None:
    """The common case in one statement (one round trip, its own commit): a due queued run, or a
    running one whose lease expired, not locked by another worker -> running, attempts + 1, a lease."""
    # Two clocks: ``now`` (business) decides whether the run is due; ``wall`` (infrastructure) times
    # the lease, so an accelerated demo clock never expires a live worker's lease.
    params = {
        "id": run_id,
        "now": clock.now(),
        "wall": clock.wall_now(),
        "lease": AgentBase.lease_seconds,
        "leases": _lease_overrides(),
    }
    if connection.in_atomic_block:
        return _execute_claim(params)
    if connection.connection is not None:
        # The claim is the task's first statement and its own health check: a connection that broke
        # while idle fails before the statement runs, and the claim is tried once more on a new one.
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django's flag (CONN_HEALTH_CHECKS)
    try:
        return _execute_claim(params)
    except (InterfaceError, OperationalError):
        connection.close()
        return _execute_claim(params)


def _execute_claim(params: dict[str, Any]) -> AgentRun | None:
    from learning.services import rule_cache

    with hot_cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(*_sqlite_claim(params))
        else:
            cursor.execute(_claim_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    *fields, rules_version = row
    values = []
    for value, (col, converters) in zip(fields, _converters(), strict=True):
        for convert in converters:
            value = convert(value, col, connection)
        values.append(value)
    run = AgentRun.from_db(connection.alias, [f.attname for f in _FIELDS], values)
    setattr(run, rule_cache.RUN_ATTR, rules_version)
    return run


def _sqlite_claim(params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SQLite claim and its parameters: datetimes as the ORM stores them (UTC text), the lease's
    end per agent computed here (a handful of agents lease longer than the default)."""
    stamp = connection.ops.adapt_datetimefield_value
    wall = params["wall"]
    lease: list[Any] = []
    for name, seconds in _parsed(params["leases"]):
        lease += [name, stamp(wall + dt.timedelta(seconds=seconds))]
    lease.append(stamp(wall + dt.timedelta(seconds=params["lease"])))
    now = stamp(params["now"])
    sql = _sqlite_claim_sql(len(lease) // 2)
    return sql, [now, *lease, now, params["id"], now, stamp(wall)]


@functools.cache
def _parsed(leases: str) -> tuple[tuple[str, int], ...]:
    return tuple(json.loads(leases).items())


@functools.cache
def _converters() -> list[tuple[Any, list[Any]]]:
    """Per column, what the ORM applies to a loaded value (JSON decoding, ...)."""
    cols = [f.get_col(_TABLE) for f in _FIELDS]
    return [(col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)) for col in cols]


_leases: tuple[int, str] = (-1, "{}")


def _lease_overrides() -> str:
    """{agent: lease_seconds} of the agents whose lease differs from the default, as JSON.

    A parameter of every claim: built once per registry generation, not per run.
    """
    global _leases
    generation = registry.generation()
    if _leases[0] != generation:
        leases = {a.name: a.lease_seconds for a in registry.all_agents() if a.lease_seconds != AgentBase.lease_seconds}
        _leases = (generation, json.dumps(leases))
    return _leases[1]


def _claim_checked(run_id: int) -> AgentRun | None:
    with transaction.atomic():
        run = AgentRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None:
            return None  # deleted, or another worker holds the lock right now
        now, wall = clock.now(), clock.wall_now()
        if run.status == AgentRun.Status.RUNNING:
            if run.lease_expires_at is not None and run.lease_expires_at > wall:
                return None  # a live worker has it (a duplicate message)
        elif run.status != AgentRun.Status.QUEUED:
            return None  # finished or waiting for a human
        elif run.due_at > now:
            # Published early (clock skew between processes): let the dispatcher publish it when due.
            AgentRun.objects.filter(pk=run.pk).update(enqueued_at=None)
            return None
        run.attempts += 1
        run.started_at = run.started_at or now
        run.lease_expires_at = wall + dt.timedelta(seconds=lease_seconds(run.agent_name))
        run.transition_to(AgentRun.Status.RUNNING, also=["attempts", "started_at", "lease_expires_at"])
    return run


def lease_seconds(agent_name: str) -> int:
    try:
        return registry.get(agent_name).lease_seconds
    except UnknownAgent:
        return AgentBase.lease_seconds


def save_with(run: AgentRun, *, fields: list[str], statement: tuple[str, list[Any]]) -> None:
    """Save ``fields`` of the run and run ``statement`` (after_run's writes) as one SQL statement:
    one round trip and one commit for the whole outcome, atomic like a transaction."""
    run.updated_at = clock.now()  # TimeStampedModel's bookkeeping, as save() does it
    sets, params = [], []
    for name in [*fields, "updated_at"]:
        field = _BY_NAME[name]
        sets.append(f"{connection.ops.quote_name(str(field.column))} = %s")
        params.append(field.get_db_prep_save(getattr(run, field.attname), connection))
    sql, statement_params = statement
    combined = (
        f"WITH outcome AS (UPDATE {_TABLE} SET {', '.join(sets)} WHERE id = %s RETURNING id), "  # noqa: S608
        f"hook AS ({sql}) SELECT count(*) FROM outcome"
    )
    with hot_cursor() as cursor:
        cursor.execute(combined, [*params, run.pk, *statement_params])
        row = cursor.fetchone()
    if row is None or row[0] != 1:
        raise DatabaseError(f"run {run.pk} could not be saved: the row is gone")
