"""Rows for the admin bench: each big table grown to a size by one INSERT ... SELECT over generate_series.

A million rows per table in seconds, with values spread the way the agency writes them: ids rise
with time (row ``i`` is written ``i`` minutes after the start), statuses and names drawn from the
code's own registries with realistic weights, text that search can tell apart. Every column the
bench does not name gets its field's default, so a column added tomorrow needs nothing here unless
it is NOT NULL without a default (then this module says which one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

Sql = tuple[str, list[Any]]  # SQL over g.i (the row number), with its parameters
Expr = str | Sql

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Lars"]
LAST = [
    "Okafor", "Schmidt", "Dubois", "Garcia", "Rossi", "Nowak", "Silva", "Jensen", "Novak", "Kowalski",
    "Murphy", "Larsen", "Moreau", "Weber", "Costa", "Fischer", "Bianchi", "Lindqvist", "Horvat", "Meyer",
]  # fmt: skip
WORDS = ["Harbor", "Summit", "Maple", "Granite", "Bright", "Cedar", "North", "Silver", "Oak", "River"]
TRADES = ["Dental", "Legal", "Clinic", "Logistics", "Roofing", "Realty", "Accounting", "Fitness"]


def rand(salt: int, modulo: int = 100) -> str:
    """A pseudo-random integer in [0, modulo) per row, decorrelated from other columns by ``salt``."""
    return f"mod(abs(hashint8(g.i * 31 + {salt})), {modulo})"


def pick(values: Sequence[Any], salt: int) -> Sql:
    return (f"(%s::text[])[1 + {rand(salt, len(values))}]", [list(values)])


def weighted(weights: dict[str, int], salt: int) -> Sql:
    """A CASE over a per-row draw: ``{"succeeded": 80, "failed": 3, ...}`` (weights sum to 100)."""
    if sum(weights.values()) != 100:
        raise ValueError(f"weights must sum to 100: {weights}")
    draw, bound, whens, params = rand(salt), 0, [], []
    for value, weight in weights.items():
        bound += weight
        whens.append(f"WHEN {draw} < {bound} THEN %s")
        params.append(value)
    return (f"(CASE {' '.join(whens)} END)", params)


def minute(start: dt.datetime, plus: str = "") -> Sql:
    """Row i's time: ``i`` minutes after ``start``, so ids rise with time as in a table that grows."""
    return (f"(%s::timestamptz + g.i * interval '1 minute'{plus})", [start])


def first_name() -> Sql:
    return pick(FIRST, 11)


def last_name() -> Sql:
    return pick(LAST, 12)


def lead_email(i: str = "g.i") -> Sql:
    """The lead's address from its row number, so messages to lead i can name it too."""
    sql = (
        f"lower((%s::text[])[1 + mod(abs(hashint8(({i}) * 31 + 11)), {len(FIRST)})]) || '.' || "
        f"lower((%s::text[])[1 + mod(abs(hashint8(({i}) * 31 + 12)), {len(LAST)})]) || '.' || ({i}) "
        f"|| '@co' || ({i}) || '.example'"
    )
    return (sql, [FIRST, LAST])


def fill(model: type[models.Model], start: int, stop: int, exprs: dict[str, Expr]) -> None:
    """Insert rows ``start..stop`` (inclusive) with id = row number; other columns get their defaults."""
    columns, values, params = [], [], []
    unknown = set(exprs) - {f.attname for f in model._meta.concrete_fields} - {f.name for f in model._meta.fields}
    if unknown:
        raise SystemExit(f"bench: {model._meta.label} has no field {sorted(unknown)}")
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(str(field.column)))
        given = exprs.get(field.attname, exprs.get(field.name))
        if field.primary_key:
            values.append("g.i")
        elif given is not None:
            sql, more = (given, []) if isinstance(given, str) else given
            values.append(sql)
            params.extend(more)
        elif field.has_default() or field.get_default() is not None:  # blank text columns default to ""
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            values.append("NULL")
        else:
            raise SystemExit(f"bench: {model._meta.label}.{field.name} is NOT NULL without a default: give it a value")
    table = connection.ops.quote_name(model._meta.db_table)
    # Names quoted, expressions the bench's own, values parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM generate_series(%s::bigint, %s::bigint) AS g(i)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, start, stop])
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))",  # noqa: S608
            [model._meta.db_table],
        )


Filler = Callable[[int, int], None]
