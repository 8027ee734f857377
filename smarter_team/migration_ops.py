"""Migration operations for what only PostgreSQL has: the trigram indexes behind the console's search.

Django's ``icontains`` on PostgreSQL compares ``UPPER("col"::text) LIKE UPPER('%term%')``, which no
B-tree can serve: at a million rows every search read the whole table. A GIN index with pg_trgm's
``gin_trgm_ops`` on exactly that expression turns it into an index scan (bench/admin).

``AddTrigramIndex`` runs on PostgreSQL only and leaves the model state alone, so SQLite (the
embedded default) migrates as before and ``Meta.indexes`` stay portable; the index lives in the
migration, named in the model's comment. In a non-atomic migration it is built CONCURRENTLY, so
a deploy does not block writes to a big table while it builds. pg_trgm is a trusted extension
(PostgreSQL 13+): the database owner may create it (``TrigramExtension`` first, in the same migration).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db.migrations.operations.base import Operation


class AddTrigramIndex(Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, field_name: str, name: str) -> None:
        self.model_name = model_name
        self.field_name = field_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "field_name": self.field_name, "name": self.name}
        return type(self).__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # not part of the model state: SQLite has no such index

    def _applies(self, app_label: str, schema_editor: Any, state: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allow_migrate_model(schema_editor.connection.alias, model) else None

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        model = self._applies(app_label, schema_editor, to_state)
        if model is not None:
            quote = schema_editor.quote_name
            column = quote(model._meta.get_field(self.field_name).column)
            table = quote(model._meta.db_table)
            schema_editor.execute(
                f"CREATE INDEX {self._concurrently(schema_editor)}{quote(self.name)} ON {table} "
                f"USING gin (UPPER({column}) gin_trgm_ops)",
                params=None,
            )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if self._applies(app_label, schema_editor, from_state) is not None:
            name = schema_editor.quote_name(self.name)
            schema_editor.execute(f"DROP INDEX {self._concurrently(schema_editor)}IF EXISTS {name}")

    @staticmethod
    def _concurrently(schema_editor: Any) -> str:
        # CONCURRENTLY cannot run inside a transaction: only in a migration declared atomic = False.
        return "" if schema_editor.atomic_migration else "CONCURRENTLY "

    def describe(self) -> str:
        return f"Create trigram index {self.name} on {self.model_name}.{self.field_name} (PostgreSQL only)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name}_{self.field_name}_trgm"


class EnsureTrigramExtension(TrigramExtension):
    """pg_trgm, created if missing (PostgreSQL only) and kept on the way back: several apps'
    migrations create it, and reversing one must not drop it under the others' indexes."""

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        pass
