"""Funnel bench: sandbox leads from a CSV import to booked meetings on simulated time, at 1,000 and
10,000 leads, and how the wall time grows with the volume (issue #16: the 10k/1k ratio at most 11).

Run by hand (prints figures, asserts nothing). It creates and migrates the scratch database when
needed and empties it before each size (it is a scratch database):

    DATABASE_URL=postgres://.../st_funnel REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/funnel/run.py [--leads 1000,10000] [--days 14] [--seed 42]

Each size starts from seed_demo's agency (its profile in autopilot, as ``make run``: no first-batch
approval, drafted answers to interested and "not now" replies sent on their own; its two ICPs) and
the market people the ICPs' searches find, half dental clinics in the US, half law firms in the UK.
They enter as a lead list would reach an operator: one CSV file (the directory's fields, a work
email listed for about a third of them) through the import service, which starts each lead's chain.
Then every registered agent of the lead, research, campaign, response and meeting stages lives on
its schedule, the sandbox answering through the real webhooks, for ``--days`` simulated days. Off:
lead_list_builder and the market-wide research on their monthly or weekly beats (the import is the
only source of leads here), and everything past a booked meeting (proposals, clients, the system
agents), which is other benches' business.

Volume: a mailbox sends at most its daily cap (40 here, under the market's safe volume of 50 a day),
so the bench seeds one warmed-up mailbox per 40 leads; each campaign's daily limit (new enrollments
and sends a day, 50 by default) is set to what those mailboxes can send. Without them the wall time
would measure the caps, not the code.

Queries are counted in this process with a connection execute_wrapper (the sandbox's webhooks are
posted in process too, so their handling is counted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.scratch import setup_django, unflushed_commits

setup_django()
unflushed_commits()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

logging.getLogger("agents").setLevel(logging.ERROR)
logging.getLogger("integrations").setLevel(logging.ERROR)
logging.getLogger("crm").setLevel(logging.ERROR)

from django.test.utils import override_settings  # noqa: E402

from agents import registry  # noqa: E402
from agents.models import AgentRun  # noqa: E402
from agents.testing import advance, keep_schedules  # noqa: E402
from bench.arms import START, demo_agency  # noqa: E402
from bench.market import (  # noqa: E402
    LEADS_PER_MAILBOX,
    MAILBOX_CAP,
    NOT_HERE,
    AgentTimer,
    CpuMeter,
    QueryCounter,
    lead_list,
    market_people,
)
from crm.models import Campaign, Enrollment, Lead, Mailbox, Message  # noqa: E402
from crm.services.imports import import_leads_csv  # noqa: E402
from integrations.models import SandboxRecord  # noqa: E402
from sales.models import Meeting  # noqa: E402
from smarter_team import clock  # noqa: E402

STAGES = frozenset({"lead_generation", "research", "campaign", "response", "meeting"})
SENT = ("sent", "delivered", "opened", "clicked", "replied", "bounced")


@dataclass
class Size:
    leads: int
    days: int
    mailboxes: int = 0
    seconds: float = 0.0
    import_seconds: float = 0.0
    runs: int = 0
    queries: int = 0
    cpu: CpuMeter | None = None
    timer: AgentTimer | None = None
    stages: dict[str, int] = field(default_factory=dict)
    by_agent: Counter[str] = field(default_factory=Counter)
    failed: int = 0


def off_agents() -> tuple[str, ...]:
    return tuple(sorted(a.name for a in registry.all_agents() if a.category not in STAGES or a.name in NOT_HERE))


def stage_counts() -> dict[str, int]:
    cold = Message.objects.filter(direction="out", enrollment__isnull=False, status__in=SENT)
    inbound = Message.objects.filter(direction="in", conversation__lead__isnull=False)
    return {
        "imported": Lead.objects.count(),
        "validated": AgentRun.objects.filter(agent_name="data_validation", status="succeeded").count(),
        "verified": Lead.objects.exclude(email_status=Lead.EmailStatus.UNKNOWN).count(),
        "deliverable": Lead.objects.filter(email_status=Lead.EmailStatus.VALID).count(),
        "qualified": Lead.objects.exclude(score__isnull=True)
        .exclude(status__in=["new", "enriched", "verified"])
        .exclude(status="disqualified")
        .count(),
        "enrolled": Enrollment.objects.values("lead_id").distinct().count(),
        "sent": cold.values("enrollment__lead_id").distinct().count(),
        "emails sent": cold.count(),
        "replied": inbound.values("conversation__lead_id").distinct().count(),
        "interested": inbound.filter(intent="interested").values("conversation__lead_id").distinct().count(),
        "meetings booked": Meeting.objects.exclude(lead__isnull=True).values("lead_id").distinct().count(),
    }


def play(*, leads: int, days: int, off: tuple[str, ...], progress: bool) -> Size:
    call_command("flush", interactive=False, verbosity=0)
    size = Size(leads=leads, days=days)
    counter = QueryCounter()
    size.cpu = CpuMeter(connection)
    size.timer = AgentTimer(counter)
    with size.cpu, size.timer, clock.frozen(START) as frozen, connection.execute_wrapper(counter):
        began = time.perf_counter()
        demo_agency()  # without make run's book of business: only the imported leads are counted
        size.mailboxes = math.ceil(leads / LEADS_PER_MAILBOX)
        Mailbox.objects.bulk_create(
            [
                Mailbox(email=f"sender{n:04d}@mail.smarter-team.test", display_name=f"Sender {n}")
                for n in range(size.mailboxes)
            ]
        )
        Mailbox.objects.update(daily_cap=MAILBOX_CAP, warmup_stage=0)
        keep_schedules(lambda name: registry.is_registered(name) and name not in off)
        people = market_people(leads)
        # What the market's dataset fetch records of the people it lists (SandboxLeadSource.fetch_items).
        SandboxRecord.objects.bulk_create(
            [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
        )
        report = import_leads_csv(file=lead_list(people), source="lead_list")
        if report.errors:
            print(f"   import: {report.summary()}; first rejected: {report.errors[0]}", file=sys.stderr)
        size.import_seconds = time.perf_counter() - began
        capacity = size.mailboxes * MAILBOX_CAP
        for day in range(days):
            until = START + dt.timedelta(days=day + 1)
            advance(frozen, until=until, step=dt.timedelta(minutes=30), max_runs=sys.maxsize, off=off)
            # The operator's setting: each campaign may use all the mailboxes can send.
            Campaign.objects.filter(daily_limit__lt=capacity).update(daily_limit=capacity)
            if progress:
                counts = stage_counts()
                print(
                    f"   [{leads}] day {day + 1}: {time.perf_counter() - began:.0f}s, "
                    f"runs {AgentRun.objects.count()}, queries {counter.count}, "
                    + ", ".join(f"{k} {v}" for k, v in counts.items()),
                    file=sys.stderr,
                    flush=True,
                )
        size.seconds = time.perf_counter() - began
        size.queries = counter.count
    size.stages = stage_counts()
    worked = AgentRun.objects.exclude(status=AgentRun.Status.CANCELED)
    size.runs = worked.count()
    size.by_agent = Counter(worked.values_list("agent_name", flat=True))
    size.failed = AgentRun.objects.filter(status=AgentRun.Status.FAILED).count()
    return size


def show(size: Size) -> None:
    n = size.leads
    print(f"[{n} leads, {size.days} simulated days, {size.mailboxes} mailboxes of {MAILBOX_CAP} a day]")
    per_lead = size.seconds / n * 1000
    print(f"   wall time {size.seconds:.0f}s (import {size.import_seconds:.0f}s), {per_lead:.0f} ms per lead")
    if size.cpu is not None:
        print(f"   {size.cpu.describe()}")
    if size.timer is not None:
        print(
            f"   in agents' runs {sum(size.timer.seconds.values()):.0f}s; costliest: "
            + ", ".join(f"{name} {sec:.0f}s/{asked} q" for name, sec, asked in size.timer.top())
        )
    print(f"   agent runs {size.runs} ({size.runs / n:.1f} per lead), failed {size.failed}")
    print(f"   SQL queries {size.queries} ({size.queries / n:.0f} per lead)")
    print("   " + ", ".join(f"{k} {v}" for k, v in size.stages.items()))
    print("   runs by agent: " + ", ".join(f"{k} {v}" for k, v in sorted(size.by_agent.items())))


def sizes(values: list[str]) -> list[int]:
    return [int(v) for value in values for v in value.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", action="append", help="lead counts (repeat or comma list; default 1000,10000)")
    parser.add_argument("--days", type=int, default=14, help="simulated days each size lives (default 14)")
    parser.add_argument("--seed", type=int, default=42, help="the sandbox market's seed (default 42)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args()
    counts = sizes(args.leads or ["1000,10000"])
    call_command("migrate", verbosity=0)
    off = off_agents()
    print(f"off: {', '.join(off)}")
    done: list[Size] = []
    with override_settings(
        BRAIN_DEFAULT="heuristic", SANDBOX_WEBHOOKS=True, SANDBOX_SEED=args.seed, SANDBOX_WEBHOOK_URL=""
    ):
        for n in counts:
            size = play(leads=n, days=args.days, off=off, progress=not args.quiet)
            show(size)
            done.append(size)
    for small in done:
        for large in done:
            if large.leads > small.leads:
                scale = large.leads / small.leads
                ratio = large.seconds / small.seconds
                print(
                    f"wall time {large.leads}/{small.leads}: {ratio:.2f} for {scale:.0f}x the leads "
                    f"(linear: {scale:.0f}; per-lead ratio {ratio / scale:.2f}); queries per lead "
                    f"{large.queries / large.leads:.0f} vs {small.queries / small.leads:.0f}"
                )
                leads = large.stages["imported"] / max(1, small.stages["imported"])
                print(f"   leads imported {large.stages['imported']} vs {small.stages['imported']} ({leads:.2f}x)")
                cpu_large = large.cpu.seconds if large.cpu else None
                cpu_small = small.cpu.seconds if small.cpu else None
                if cpu_large is not None and cpu_small:
                    print(f"CPU time {large.leads}/{small.leads}: {cpu_large / cpu_small:.2f} (Python and PostgreSQL)")


if __name__ == "__main__":
    main()
