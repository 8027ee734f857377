"""Prepared hot statements: planned once per connection, same results, plain cursor when logging."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smarter_team.db import IN_LIST_CHUNK, hot_cursor, in_chunks

if TYPE_CHECKING:
    from django.db.backends.postgresql import features as postgresql_features

pytestmark = pytest.mark.django_db(transaction=True)  # as in a worker: autocommit, a real connection

SQL = "SELECT %s::int + 1, %s::text"


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgresql
def test_a_hot_statement_is_prepared_once_and_answers_like_a_plain_one() -> None:
    before = _prepared_names()
    for n in range(3):
        with hot_cursor() as cursor:
            cursor.execute(SQL, [n, "x"])
            assert cursor.fetchone() == (n + 1, "x")
    assert len(_prepared_names() - before) == 1  # one statement, prepared once, executed three times


@pytest.mark.postgresql
def test_named_parameters_work_as_with_django_cursors() -> None:
    with hot_cursor() as cursor:
        cursor.execute("SELECT %(a)s::int * 2", {"a": 21})
        assert cursor.fetchone() == (42,)


@pytest.mark.postgresql
def test_while_queries_are_logged_the_plain_cursor_keeps_the_sql_readable() -> None:
    with CaptureQueriesContext(connection) as captured, hot_cursor() as cursor:
        cursor.execute(SQL, [1, "logged"])
    assert captured.captured_queries[-1]["sql"] == "SELECT 1::int + 1, 'logged'::text"


@pytest.mark.postgresql
def test_prepared_statements_can_be_switched_off(settings) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = _prepared_names()
    with hot_cursor() as cursor:
        cursor.execute(SQL, [5, "off"])
        assert cursor.fetchone() == (6, "off")
    assert _prepared_names() == before


@pytest.mark.postgresql
def test_a_database_error_is_djangos_own() -> None:
    from django.db import DataError

    with pytest.raises(DataError), hot_cursor() as cursor:
        cursor.execute("SELECT %s::int", ["not a number"])


# --- server-side binding (smarter_team/postgresql) -----------------------------------------------


@pytest.mark.postgresql
def test_django_binds_on_the_server_and_prepares_what_a_connection_runs_often() -> None:
    from agents.models import LookupCache

    features = cast("postgresql_features.DatabaseFeatures", connection.features)
    assert features.uses_server_side_binding and features.max_query_params == 65_535
    before = _prepared_names()
    for n in range(7):  # psycopg prepares a statement on its sixth run on the connection
        assert not LookupCache.objects.filter(key=f"never-stored-{n}").exists()
    assert len(_prepared_names() - before) == 1


@pytest.mark.postgresql
def test_a_bulk_write_over_the_bound_values_limit_goes_in_batches() -> None:
    from agents.models import LookupCache

    now = timezone.now()
    rows = [LookupCache(key=f"bulk:{n}", value={"n": n}, created_at=now) for n in range(17_000)]
    limit = connection.features.max_query_params
    assert limit is not None and 4 * len(rows) > limit  # key, value, created_at, expires_at
    LookupCache.objects.bulk_create(rows)  # one statement would carry 68,000 values: refused by the protocol
    assert LookupCache.objects.filter(key__startswith="bulk:").count() == 17_000
    LookupCache.objects.filter(key__startswith="bulk:").delete()


@pytest.mark.parametrize(("n", "sizes"), [(0, []), (3, [3]), (10, [4, 4, 2]), (8, [4, 4])])
def test_in_chunks_splits_a_lookup_list_without_losing_or_repeating_a_value(n: int, sizes: list[int]) -> None:
    chunks = list(in_chunks(iter(range(n)), 4))
    assert [len(c) for c in chunks] == sizes
    assert [v for c in chunks for v in c] == list(range(n))


def test_in_chunks_stays_under_what_either_database_binds_in_one_statement() -> None:
    assert max(len(c) for c in in_chunks(range(40_000))) == IN_LIST_CHUNK < 32_766
