"""Prepared statements for the few hot statements the runtime and the webhook endpoint run per item.

Django's statements are prepared once a connection has run them five times (smarter_team/postgresql);
a statement run once per agent run or per webhook is prepared at its first execution: a server-side
binding cursor with ``prepare=True`` plans it once per connection and then only executes it
(bench/runtime). Under client-side binding (DATABASE_SERVER_SIDE_BINDING=false) these are the only
prepared statements.

The cursor is still wrapped by Django (``_prepare_cursor``): execute_wrapper hooks run and database
errors are Django's own. While queries are logged (DEBUG, CaptureQueriesContext) the plain cursor
is used instead, so the log keeps the SQL with its values.
Behind a pooler in transaction mode without prepared-statement support (PgBouncer < 1.21), set
DATABASE_PREPARED_STATEMENTS=false.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Value
from django.db.models.functions import Cast, Concat

T = TypeVar("T")


def _server_binding_cursor_class() -> type[Any] | None:
    try:
        from django.db.backends.postgresql import base
    except ImportError:  # no PostgreSQL driver installed
        return None
    server_binding: Any = getattr(base, "ServerBindingCursor", None)
    if server_binding is None:  # psycopg2: no server-side binding
        return None

    class PreparedCursor(server_binding):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return server_binding.execute(self, query, params, prepare=True)

    return PreparedCursor


_PREPARED_CURSOR = _server_binding_cursor_class()


def hot_cursor(db: BaseDatabaseWrapper | None = None) -> CursorWrapper:
    """A cursor for a statement run once per item: prepared on PostgreSQL (psycopg 3), plain elsewhere."""
    db = db or connections[DEFAULT_DB_ALIAS]
    if (
        db.vendor != "postgresql"
        or _PREPARED_CURSOR is None
        or not getattr(settings, "DATABASE_PREPARED_STATEMENTS", True)
        # Under query logging (DEBUG, CaptureQueriesContext) the plain cursor, whose log shows the
        # SQL with its values; Django cannot render a prepared statement's text.
        or db.queries_logged
    ):
        return db.cursor()
    # What BaseDatabaseWrapper._cursor() does, with another cursor class.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = db.connection
        if raw.prepare_threshold is None:
            # Django opens connections with preparing off (None) unless told (the settings do:
            # smarter_team/postgresql), which also makes psycopg ignore prepare=True.
            raw.prepare_threshold = 5
        wrapper: Any = db
        return wrapper._prepare_cursor(_PREPARED_CURSOR(raw))


def in_real_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a transaction of our own is open. The test runner's wrapping transaction does not
    count: it is how tests isolate data, not a transaction the code opened."""
    connection = connections[using]
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def insert_new(obj: models.Model, *, unique: Sequence[str]) -> bool:
    """Insert ``obj`` unless a row with the same ``unique`` fields exists: True, with ``obj.pk`` set,
    when it is new. One ``INSERT ... ON CONFLICT (<unique>) DO NOTHING RETURNING <pk>`` on PostgreSQL
    and SQLite (3.35 and later): no look first and no savepoint around it, where a duplicate key
    would abort the caller's transaction. A conflict on any other constraint still raises.

    The fields are written as they stand on ``obj`` (its defaults were set when it was built; save()
    is not called, so the caller stamps its timestamps)."""
    model = type(obj)
    meta = model._meta
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
    values = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    target = ", ".join(quote(str(cast("models.Field[Any, Any]", meta.get_field(name)).column)) for name in unique)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(values))}) "  # noqa: S608 - a model's own table and columns; values are parameters
        f"ON CONFLICT ({target}) DO NOTHING RETURNING {quote(str(meta.pk.column))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding, obj._state.db = False, using
    return True


# Values one IN list may bind, well under both databases' bounds (65,535 a statement on PostgreSQL
# with server-side binding, 32,766 on SQLite) so the rest of the statement fits beside it.
IN_LIST_CHUNK = 10_000


def in_chunks(values: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size`` (IN_LIST_CHUNK): for a lookup list only Python can
    build (hashes of addresses, say), which must go to the database as several IN lists."""
    size = size or IN_LIST_CHUNK
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def update_in_chunks(queryset: models.QuerySet[Any], pks: Iterable[Any], **values: Any) -> int:
    """``queryset.filter(pk__in=pks).update(**values)`` with ``pks`` in chunks (an admin's "select
    all" may pick more rows than one IN list binds); returns the rows updated."""
    return sum(queryset.filter(pk__in=chunk).update(**values) for chunk in in_chunks(pks))


def pk_key(prefix: str) -> Concat:
    """``f"{prefix}{pk}"`` computed in SQL: a row's key as the rows naming it store it (an invoice's
    ``milestone:<pk>``, an approval's dedupe key), to match them in a subquery rather than read them."""
    return Concat(Value(prefix), Cast("pk", models.CharField()))
