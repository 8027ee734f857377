"""Dashboard bench: the console's index at growing table sizes, p50 wall time and query count.

The big tables (agent runs, messages, leads, webhook events) grow tier by tier (default 10k, then
1M rows each), their timestamps spread over a year; the rest (escalations, meetings, proposals,
budgets, health checks) stays at a few thousand rows, as in a real agency. Each tier times the
figures alone (``gather``) and the whole index page, and prints the query count, which must not
change between tiers.

Run by hand (prints figures). It creates and migrates the scratch database when needed and empties
it first (it is a scratch database):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_bench_dashboard REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/dashboard/run.py [--tiers 10000,1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings_test")

from bench.scratch import fresh_database

fresh_database()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from agents.models import AgentRun, Budget, Escalation, HealthCheck  # noqa: E402
from crm.models import Campaign, Conversation, Enrollment, Lead, Message  # noqa: E402
from integrations.models import ApiUsage, WebhookEvent  # noqa: E402
from sales.models import Meeting, Proposal  # noqa: E402
from smarter_team import clock  # noqa: E402
from smarter_team.dashboard import Window, gather  # noqa: E402

BATCH = 5000
SMALL = 2000  # rows of each of the small tables
YEAR = dt.timedelta(days=365)
AGENTS = [f"agent_{i:02d}" for i in range(40)]


def _spread(i: int, n: int, now: dt.datetime) -> dt.datetime:
    """The i-th of n times spread over the past year, newest last (and some today)."""
    return now - YEAR + YEAR * (i + 1) / n


def _fill(model: Any, start: int, end: int, make: Callable[[int], Any]) -> None:
    for offset in range(start, end, BATCH):
        model.objects.bulk_create([make(i) for i in range(offset, min(offset + BATCH, end))], batch_size=BATCH)


def clone(model: Any, template: Any, start: int, end: int, size: int, overrides: dict[str, str]) -> None:
    """Rows ``start`` to ``end`` of a table in one INSERT ... SELECT over generate_series: every column
    copied from ``template`` but those in ``overrides`` (SQL over ``g``, the row number; ``t``, its time
    spread over the past year as row ``g`` of ``size``)."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    # "%" is the driver's placeholder sign: the overrides' modulo is doubled.
    values = [overrides[c].replace("%", "%%") if c in overrides else f'tpl."{c}"' for c in columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    spread = "%(now)s::timestamptz - interval '365 days' + (g + 1) * (interval '365 days' / %(size)s)"
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({quoted}) '  # noqa: S608 - our own tables; values are parameters
        f"SELECT {', '.join(values)} FROM "
        f'(SELECT * FROM "{model._meta.db_table}" WHERE id = %(pk)s) tpl, '
        f"LATERAL (SELECT g, {spread} AS t FROM generate_series(%(start)s, %(end)s - 1) g) s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"pk": template.pk, "now": clock.now(), "size": size, "start": start, "end": end})


def grow(
    size: int, have: int, now: dt.datetime, lead: Lead, conversation: Conversation, enrollment: Enrollment
) -> None:
    """Top the big tables up from ``have`` to ``size`` rows each (a template row of each, cloned)."""
    run = AgentRun.objects.create(
        agent_name="bench", idempotency_key=f"bench:{uuid.uuid4().hex}", cost=Decimal("0.0012")
    )
    statuses = "(ARRAY['succeeded','succeeded','succeeded','succeeded','failed','skipped','canceled'])[g % 7 + 1]"
    clone(AgentRun, run, have, size, size, {
        "agent_name": "'agent_' || lpad((g % 40)::text, 2, '0')", "status": statuses,
        "idempotency_key": "'bench:run:' || g", "created_at": "t", "started_at": "t", "finished_at": "t",
        "correlation_id": "gen_random_uuid()", "due_at": "t",
    })  # fmt: skip
    clone(Lead, lead, have, size, size, {
        "email": "'lead' || g || '@bench' || (g % 997) || '.example'", "created_at": "t",
        "status": "(ARRAY['new','qualified','contacted','lost'])[g % 4 + 1]",
    })  # fmt: skip
    message = Message.objects.create(
        conversation=conversation, direction="out", enrollment=enrollment, status="sent", sent_at=now,
        idempotency_key=f"bench:{uuid.uuid4().hex}",
    )  # fmt: skip
    clone(Message, message, have, size, size, {
        "direction": "CASE WHEN g % 10 = 0 THEN 'in' ELSE 'out' END",
        "status": "CASE WHEN g % 10 = 0 THEN 'delivered' ELSE 'sent' END",
        "enrollment_id": "CASE WHEN g % 3 = 0 THEN NULL ELSE tpl.enrollment_id END",
        "idempotency_key": "'bench:message:' || g", "sent_at": "t", "created_at": "t",
    })  # fmt: skip
    event = WebhookEvent.objects.create(provider="stripe", event_id=uuid.uuid4().hex, signature_ok=True, raw_body=b"{}")
    clone(WebhookEvent, event, have, size, size, {
        "provider": "(ARRAY['stripe','instantly','calcom'])[g % 3 + 1]", "event_id": "'evt_' || g",
        "status": "CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'processed' END", "received_at": "t",
    })  # fmt: skip
    for template in (run, message, event):
        template.delete()


def small_tables(now: dt.datetime, lead: Lead) -> None:
    """What stays small whatever the volume of work: decisions, meetings, deals, budgets, checks."""
    _fill(
        Escalation,
        0,
        SMALL,
        lambda i: Escalation(
            kind="approval",
            reason=f"bench {i}",
            status="open" if i % 20 == 0 else "approved",
            decided_at=None if i % 20 == 0 else now,
            assigned_group=("operator", "manager", "admin")[i % 3],
            created_at=_spread(i, SMALL, now),
        ),
    )
    _fill(
        Meeting,
        0,
        SMALL,
        lambda i: Meeting(lead=lead, title=f"bench {i}", status="held", starts_at=_spread(i, SMALL, now)),
    )
    _fill(
        Proposal,
        0,
        SMALL,
        lambda i: Proposal(lead=lead, title=f"{i}", status="signed", sent_at=_spread(i, SMALL, now), signed_at=now),
    )
    _fill(ApiUsage, 0, SMALL, lambda i: ApiUsage(provider="apollo", operation="search", success=i % 9 > 0, at=now))
    _fill(HealthCheck, 0, SMALL, lambda i: HealthCheck(component=("database", "broker", "beat")[i % 3], status="ok"))
    Budget.objects.bulk_create(
        [Budget(scope="agent", key=name, period="month", limit=Decimal("5")) for name in AGENTS[:10]]
    )


def p50(work: Callable[[], Any], repeat: int) -> tuple[float, int]:
    """Median wall seconds of ``work`` and the queries one call makes."""
    timings = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            work()
            timings.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return statistics.median(timings), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="10000,1000000", help="rows in each big table, comma-separated")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tiers = [int(t) for t in args.tiers.split(",")]

    now = clock.now()
    lead = Lead.objects.create(email=f"anchor-{uuid.uuid4().hex[:8]}@bench.example")
    conversation = Conversation.objects.create(lead=lead)
    enrollment = Enrollment.objects.create(lead=lead, campaign=Campaign.objects.create(name="bench"))
    small_tables(now, lead)
    admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-only-password")
    client = Client()
    client.force_login(admin)
    index = reverse("admin:index")

    print(
        f"{'rows/table':>11} {'fill s':>7} {'gather p50 ms':>14} {'queries':>8} {'index p50 ms':>13} {'queries':>8}"
        f" {'all-time funnel ms':>19}"
    )
    have = 0
    first: tuple[float, float] | None = None
    for size in tiers:
        started = time.perf_counter()
        grow(size, have, now, lead, conversation, enrollment)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        filled = time.perf_counter() - started
        have = size
        figures_s, figures_q = p50(gather, args.repeat)
        page_s, page_q = p50(lambda: client.get(index), args.repeat)
        all_time, _ = p50(lambda: gather(window=Window.ALL), args.repeat)
        print(
            f"{size:>11,} {filled:>7.1f} {figures_s * 1000:>14.1f} {figures_q:>8} {page_s * 1000:>13.1f} {page_q:>8}"
            f" {all_time * 1000:>19.1f}"
        )
        first = first or (figures_s, page_s)
    if first and len(tiers) > 1:
        print(f"last/first tier: gather x{figures_s / first[0]:.1f}, index page x{page_s / first[1]:.1f}")
    with CaptureQueriesContext(connection) as captured:
        gather()
    print(f"\nslowest queries at {have:,} rows:")
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:6]:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")


if __name__ == "__main__":
    main()
