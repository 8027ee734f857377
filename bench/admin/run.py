"""Console benchmark: p50 of each big changelist, each of its filters and a search, at 10k and 1M rows.

Run by hand (it prints figures; it asserts nothing). PostgreSQL, a scratch database: it is
migrated, and emptied first unless ``--reuse`` keeps tables that already hold the size asked for:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_admin_bench REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/admin/run.py [--sizes 10000,1000000] [--repeat 5] [--only leads,messages] [--why]

What it does:
1. grows every table of bench/admin/tables.py to each size in turn (one INSERT ... SELECT over
   generate_series per table, a minute or two per million rows), then VACUUM ANALYZE; row i is
   written i minutes after 2024-01-01, and each size is measured with the project clock frozen
   just after its newest row (ids rise with time; "today" is the last day's rows);
2. for each changelist, as a logged-in superuser through Django's test client (the whole view:
   filters, search, paginator, template), times the default page, each filter's first choice
   (read from the page's own filter specs, so a filter added tomorrow is measured too) and the
   table's search term: one warm-up request, then ``--repeat`` timed ones; prints the median and
   the page's query count;
3. prints, per view, p50 at each size and the ratio largest/smallest size (target: at most 2,
   and every search under 0.5 s at 1M). ``--why`` adds the two slowest queries of each view at
   the largest size, with their share of the request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.update(
    DJANGO_SETTINGS_MODULE="smarter_team.settings_test",
    DJANGO_DEBUG="false",
    LOG_LEVEL="WARNING",
)
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("set DATABASE_URL (PostgreSQL, a scratch database)")

from bench.scratch import ensure_database  # noqa: E402

ensure_database()

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.admin.tables import TABLES, Table  # noqa: E402
from crm.models import Campaign  # noqa: E402
from smarter_team import clock  # noqa: E402

View = tuple[str, str]  # (changelist, view label)
# Row i of every table is written i minutes after this, and each size is measured with the clock
# frozen just after its newest row: ids rise with time, and "today" holds the last day's rows.
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def changelist_url(table: Table) -> str:
    meta = table.model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


def timed(client: Client, url: str, params: dict[str, Any], repeat: int) -> tuple[float, Any]:
    response = client.get(url, params)  # warm-up: plan caches, content types, session
    if response.status_code != 200:
        raise SystemExit(f"{url}?{params}: HTTP {response.status_code}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append(time.perf_counter() - started)
    return statistics.median(times), response


def queries_of(client: Client, url: str, params: dict[str, Any]) -> tuple[int, list[tuple[float, str]]]:
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, params)
    return len(ctx), sorted(((float(q["time"]), q["sql"]) for q in ctx.captured_queries), reverse=True)


def views_of(user: Any, table: Table) -> list[tuple[str, dict[str, Any]]]:
    """The default page, each filter's first choice (as the page offers them), the search."""
    request = RequestFactory().get(changelist_url(table))
    request.user = user
    changelist = admin.site._registry[table.model].get_changelist_instance(request)
    views: list[tuple[str, dict[str, Any]]] = [("default", {})]
    for spec in changelist.filter_specs:
        choices = [c for c in spec.choices(changelist) if not c.get("selected")]
        if choices:
            query = QueryDict(str(choices[0]["query_string"]).lstrip("?"))
            views.append((f"{spec.title}: {choices[0]['display']}", dict(query.items())))
    views.append((f"search {table.search!r}", {"q": table.search}))
    return views


def grow(size: int, tables: list[Table], reuse: bool) -> None:
    for table in tables:
        have = table.model._default_manager.count()
        if reuse and have == size:
            continue
        if have > size:
            raise SystemExit(f"{table.name}: {have} rows already, more than {size} (drop --reuse or the database)")
        started = time.perf_counter()
        table.fill(have + 1, size, EPOCH)
        print(f"  {table.name:<16} {have:>9} -> {size:>9} rows in {time.perf_counter() - started:6.1f} s", flush=True)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table.model._meta.db_table)}")


def measure(
    client: Client,
    user: Any,
    tables: list[Table],
    size: int,
    repeat: int,
    results: dict[View, dict[int, tuple[float, int]]],
    why: dict[View, tuple[float, list[tuple[float, str]]]],
) -> None:
    for table in tables:
        url = changelist_url(table)
        views = views_of(user, table)  # per size: the date filter's ranges follow the frozen clock
        for label, params in views:
            p50, _ = timed(client, url, params, repeat)
            count, slowest = queries_of(client, url, params)
            results.setdefault((table.name, label), {})[size] = (p50, count)
            why[(table.name, label)] = (p50, slowest[:2])
            print(f"  {table.name:<16} {label:<44} {p50 * 1000:8.1f} ms  {count:3d} queries", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000", help="rows per table, ascending")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated changelist names (default: all)")
    parser.add_argument("--reuse", action="store_true", help="keep tables already at a size asked for")
    parser.add_argument("--why", action="store_true", help="print the slowest queries at the largest size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    # --only narrows what is measured; every table still grows, as the measured ones point at the others
    # (leads at companies, messages at conversations): growing leads alone broke on the foreign key.
    tables = [t for t in TABLES if not wanted or t.name in wanted]

    call_command("migrate", verbosity=0)
    if not args.reuse:
        call_command("flush", interactive=False, verbosity=0)
    if not Campaign.objects.exists():
        Campaign.objects.bulk_create([Campaign(name=f"Bench campaign {n}") for n in range(1, 21)])
    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.com", "bench"
    )
    client = Client()
    client.force_login(user)

    results: dict[View, dict[int, tuple[float, int]]] = {}
    why: dict[View, tuple[float, list[tuple[float, str]]]] = {}
    for size in sizes:
        print(f"\n{size:,} rows per table", flush=True)
        grow(size, TABLES, args.reuse)
        with clock.frozen(EPOCH + dt.timedelta(minutes=size + 1)):
            measure(client, user, tables, size, args.repeat, results, why)

    report(results, sizes)
    if args.why:
        print("\nslowest queries at the largest size")
        for (name, label), (p50, slowest) in why.items():
            shown = "; ".join(f"{t * 1000:.0f} ms ({t / p50:.0%}) {sql[:160]}" for t, sql in slowest)
            print(f"  {name} / {label}: {shown}")


def report(results: dict[View, dict[int, tuple[float, int]]], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    head = "".join(f"{f'{s:,} p50':>14}" for s in sizes)
    print(f"\n{'changelist':<16} {'view':<44}{head} {'ratio':>7} {'queries':>9}")
    worst = 0.0
    for (name, label), by_size in results.items():
        cells = "".join(f"{by_size[s][0] * 1000:11.1f} ms" if s in by_size else f"{'-':>14}" for s in sizes)
        ratio = by_size[large][0] / by_size[small][0] if small in by_size and large in by_size else float("nan")
        worst = max(worst, ratio) if ratio == ratio else worst
        counts = "/".join(str(by_size[s][1]) for s in sizes if s in by_size)
        print(f"{name:<16} {label:<44}{cells} {ratio:7.2f} {counts:>9}")
    searches = [by[large][0] for (_, label), by in results.items() if label.startswith("search") and large in by]
    print(f"\nworst ratio {large:,}/{small:,}: {worst:.2f} (target <= 2)")
    if searches:
        print(f"slowest search at {large:,}: {max(searches) * 1000:.0f} ms (target < 500 ms)")


if __name__ == "__main__":
    main()
