"""Django's PostgreSQL backend with server-side parameter binding, and the limit that comes with it.

With server-side binding (psycopg 3, ``OPTIONS["server_side_binding"]``) a statement travels apart
from its values, so psycopg can prepare it: a statement a connection has run five times
(``prepare_threshold``, psycopg's default, as pgjdbc's) is then only bound and executed, and
PostgreSQL plans it once, keeping a generic plan when that plan is estimated no worse than the
custom ones (``plan_cache_mode`` auto), as for any prepared statement. Measured on the lifecycle
bench's full arm (PostgreSQL, 300 leads, 150 days, the same outcomes): 99.8 CPU-s against 114.3
(-13%), Python and PostgreSQL together. Server-side binding without the preparing measured no
gain, nor did preparing with custom plans forced: the saving is the planning.

DATABASE_PREPARED_STATEMENTS=false (behind PgBouncer < 1.21 in transaction mode) prepares nothing;
DATABASE_SERVER_SIDE_BINDING=false returns to Django's client-side binding.

Bound values are counted by the protocol in 16 bits: at most 65,535 in one statement. Django 5.2
does not know that for PostgreSQL (later versions do), so one ``bulk_create`` of many rows would fail
where client-side binding passed. Here the backend says so (``max_query_params``), and bulk writes
and cascading deletes come in batches under it, as they do on SQLite, whose limit is lower.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property

BOUND_VALUES_LIMIT = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int | None:  # type: ignore[override]
        return BOUND_VALUES_LIMIT if self.uses_server_side_binding else None


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        limit = self.connection.features.max_query_params
        if limit is None or not fields:
            return super().bulk_batch_size(fields, objs)
        return max(1, limit // len(fields))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
