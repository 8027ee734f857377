"""What a statement reads to find its rows, from PostgreSQL's own plan: the tests that say a lookup
is indexed (a cost that stays flat as a table grows) rather than a scan (bench/funnel's quadratics)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import connection


def rows_thrown_away(queries: Iterable[dict[str, Any]], *, table: str) -> list[tuple[int, str]]:
    """For each captured SELECT that reads ``table``: the most rows one node of its plan read and threw
    away (``Rows Removed by Filter``), with the statement, after fresh statistics for ``table``."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
        for query in queries:
            sql = query["sql"]
            if sql.startswith("SELECT") and f'"{table}"' in sql:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
                found.append((max(removed, default=0), sql))
    return found
