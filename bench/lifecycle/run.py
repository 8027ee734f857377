"""Lifecycle bench (issue #20): sandbox leads through the whole lifecycle on simulated time, from a
lead list to emails, replies, calls, proposals, invoices and payments, onboarding, delivery,
renewals and goodbyes; what it costs per lead, how it scales, and what each decision is worth.

Run by hand (prints figures, asserts nothing). Each arm runs in a process of its own on a scratch
database of its own (created, migrated and emptied), ``--jobs`` at a time (the machine's cores):

    .venv/bin/python bench/lifecycle/run.py [--leads 1000,5000] [--compare 1000] [--arms full,naive,-reminders]
        [--days 150] [--funnel-days 28] [--seed 42] [--jobs 2] [--compare-db sqlite] [--no-forks]
        [--db postgres://postgres@127.0.0.1:5432/st_lifecycle]

The scale part runs on PostgreSQL (what it measures includes the database). The compare arms measure
decisions, not the database: by default they run on SQLite in the arm's own process (a file in
/dev/shm), which costs about a quarter less CPU and gives the same outcomes to the digit (the same
seed, the same market, the same decisions: measured on the full arm, both engines). ``--compare-db
postgres`` runs them on PostgreSQL too. On SQLite, each arm starts from the full arm's state at
the last step before its decision first made a difference (bench/lifecycle/forks.py): the hours
before are the full agency's in every arm, and much of an arm's cost lies in them (the lead list's
research in the first step, the first emails in the next). ``--no-forks`` lives every arm from
the first day.

Two parts, both by default:
- scale: the full agency at each ``--leads`` size: wall time, agent runs and queries per lead, the
  largest/smallest time ratio (target for 5k/1k: at most 5.5, linear), LLM cost per lead as the
  Anthropic brain would have been charged (live against Batches; bench/lifecycle/metering.py);
- compare: at ``--compare`` leads, the same seed with the naive policy (no scoring, no
  personalisation, no send windows, no reminders, no follow-ups, one copy for everyone) and with
  each decision switched off in turn (bench/lifecycle/policy.py), side by side: meetings, signed
  deals, revenue and churn per 1,000 leads. Target: the full agency at least twice the naive
  policy's meetings and revenue.

The agency is seed_demo's (its profile in autopilot, as ``make run``; its two ICPs), with one
warmed-up mailbox per 40 leads (bench/funnel's sizing: otherwise the wall time measures the caps),
the leads imported as one CSV (bench/funnel's market: half US dental clinics, half UK law firms); the
team approves what waits once a day and reviews what the deliverability monitor paused (a first
pause is resumed: bench.arms.review_deliverability). Lead list buying and the market-wide research stay off (the
import is the only source of leads), and so do the system agents (they watch the machinery).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHM = Path("/dev/shm")  # noqa: S108 (only the parent of a mkdtemp directory)
sys.path.insert(0, str(ROOT))


def child(args: argparse.Namespace) -> None:
    from bench.lifecycle.forks import Fork, Snapshots

    fork = Fork.load(Path(args.fork_from)) if args.fork_from else None
    if fork is not None and fork.database:
        # The full arm's copy, as this arm's own database (no WAL of an earlier file may outlive it).
        mine = Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
        for stale in (mine, Path(f"{mine}-wal"), Path(f"{mine}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(fork.database, mine)
    elif fork is not None:
        fork = None  # its decision acted at once: nothing to share
    from bench.scratch import setup_django, unflushed_commits

    setup_django(sqlite=True)
    unflushed_commits()
    import logging

    for noisy in ("agents", "integrations", "crm", "sales", "delivery"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from bench.lifecycle.arm import play_arm

    snapshots = Snapshots(Path(args.scratch), args.snapshots_for.split(",")) if args.snapshots_for else None
    result = play_arm(
        leads=args.leads_one,
        arm=args.arm,
        funnel_days=args.funnel_days,
        days=args.days,
        seed=args.seed,
        fork=fork,
        snapshots=snapshots,
    )
    print("RESULT " + json.dumps(result))


@dataclass(frozen=True)
class Job:
    leads: int
    arm: str
    engine: str  # "postgres" or "sqlite"
    forks_for: tuple[str, ...] = ()  # the full arm that copies its state for these arms
    forked: bool = False  # an arm that starts from the full arm's state when it can

    def sqlite_path(self, scratch: str) -> Path:
        from bench.lifecycle.forks import on_disk

        return Path(scratch) / f"{on_disk(self.arm)}_{self.leads}.sqlite3"


def spawn(args: argparse.Namespace, job: Job, *, slot: int, fork_from: Path | None) -> subprocess.Popen[str]:
    url = f"{args.db}_{slot}" if job.engine == "postgres" else f"sqlite:///{job.sqlite_path(args.scratch)}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": f"redis://127.0.0.1:6379/{14 + slot}"}
    command = [
        sys.executable, str(Path(__file__)), "--child", "--leads-one", str(job.leads), f"--arm={job.arm}",
        "--days", str(args.days), "--funnel-days", str(args.funnel_days), "--seed", str(args.seed),
        "--scratch", args.scratch, f"--snapshots-for={','.join(job.forks_for)}",
        f"--fork-from={fork_from or ''}",
    ]  # fmt: skip
    env.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings_test")
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def run_all(args: argparse.Namespace, jobs: list[Job]) -> list[dict[str, Any]]:
    """Each job in a process of its own, ``--jobs`` at a time: biggest first (it bounds the wall),
    the full arm that others fork from before them, a forked arm once its fork is final (or, should
    the full arm fail, from nothing)."""
    from bench.lifecycle.forks import ready_path

    waiting = sorted(jobs, key=lambda j: (-j.leads, not j.forks_for, j.forked))
    running: dict[int, tuple[subprocess.Popen[str], Job]] = {}
    results: list[dict[str, Any]] = []
    trunk_over = not any(j.forks_for for j in jobs)
    while waiting or running:
        for slot in range(args.jobs):
            if slot in running:
                continue
            ready = [j for j in waiting if not j.forked or trunk_over or ready_path(Path(args.scratch), j.arm).exists()]
            if not ready:
                break
            job = ready[0]
            waiting.remove(job)
            fork = ready_path(Path(args.scratch), job.arm) if job.forked else None
            running[slot] = (spawn(args, job, slot=slot, fork_from=fork if fork and fork.exists() else None), job)
        time.sleep(2)
        for slot, (proc, job) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[slot]
            trunk_over = trunk_over or bool(job.forks_for)
            if job.engine == "sqlite":
                for leftover in ("", "-wal", "-shm"):
                    Path(f"{job.sqlite_path(args.scratch)}{leftover}").unlink(missing_ok=True)
            out = proc.stdout.read() if proc.stdout else ""
            line = next((x for x in out.splitlines() if x.startswith("RESULT ")), "")
            if proc.returncode or not line:
                print(f"!! {job} exited {proc.returncode}", file=sys.stderr)
                continue
            results.append(json.loads(line[len("RESULT ") :]))
            show(results[-1])
    return results


def money(values: dict[str, str]) -> str:
    return ", ".join(f"{c} {Decimal(v):,.0f}" for c, v in values.items()) or "0"


def show(r: dict[str, Any]) -> None:
    n, o = r["leads asked"], r["outcomes"]
    print(f"[{r['arm']}, {n} leads] wall {r['seconds']:.0f}s ({1000 * r['seconds'] / n:.0f} ms per lead)", flush=True)
    if r.get("copies for forks"):
        print(f"   copied its state {r['copies for forks']} times for the arms that start from it")
    if r.get("shared until"):
        print(
            f"   started from the full arm's state at {r['shared until'][:16]}, {r['shared hours']:.0f} hours in "
            "(its meters included)"
        )
    if r.get("database") == "sqlite":
        print(f"   CPU {r['cpu python']:.0f}s (SQLite, in process)")
    elif r.get("cpu postgres") is not None:
        cpu = r["cpu python"] + r["cpu postgres"]
        print(f"   CPU {cpu:.0f}s ({r['cpu python']:.0f}s Python, {r['cpu postgres']:.0f}s PostgreSQL)")
    failed = r["failed runs"]
    print(
        f"   runs {r['runs']} ({r['runs'] / n:.1f} per lead), failed {sum(failed.values())} {failed or ''}, "
        f"queries {r['queries']} ({r['queries'] / n:.0f} per lead), import errors {r['import errors']}"
    )
    print(
        f"   LLM: {r['llm calls']} calls, per lead ${Decimal(r['llm live usd']) / n:.5f} live, "
        f"${Decimal(r['llm batches usd']) / n:.5f} with Batches; cache share {r['llm cache share']:.1%}"
    )
    if "costliest agents" in r:
        print(
            f"   in agents' runs {r['agents seconds']:.0f}s of {r['seconds']:.0f}s; costliest: "
            + ", ".join(f"{name} {sec:.0f}s/{asked} q" for name, sec, asked in r["costliest agents"])
        )
    print("   " + ", ".join(f"{k} {money(v) if isinstance(v, dict) else v}" for k, v in o.items()))
    for stage, counts in r.get("funnel", {}).items():
        print(f"   {stage}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))


def per_thousand(r: dict[str, Any], key: str) -> float:
    return 1000 * float(r["outcomes"].get(key, 0)) / r["leads asked"]


def revenue(r: dict[str, Any]) -> Decimal:
    """Revenue in one figure for the side-by-side: every currency's amount, unconverted (each arm
    has the same market, so the mix is alike; per currency is printed above)."""
    return sum((Decimal(v) for v in r["outcomes"]["revenue"].values()), Decimal("0"))


MOOD = "clients' mood at the end"


def same_outcomes(results: list[dict[str, Any]]) -> None:
    """The full arm on both databases (the scale part's and the compare's own): the same seed must
    give the same outcomes, or the compare's baseline would not be the agency the scale part ran."""
    full = {r.get("database", "postgresql"): r for r in results if r["arm"] == "full"}
    if len(full) < 2:
        return
    pg, lite = full.get("postgresql"), full.get("sqlite")
    if pg is None or lite is None:
        return
    # Amounts compare as numbers (each database prints its decimals its own way).
    differ = [
        key
        for key, value in pg["outcomes"].items()
        if (
            {c: Decimal(v) for c, v in value.items()} != {c: Decimal(v) for c, v in lite["outcomes"][key].items()}
            if isinstance(value, dict)
            else value != lite["outcomes"][key]
        )
    ]
    print(
        "the full arm on PostgreSQL and on SQLite: "
        + ("the same outcomes" if not differ else "outcomes DIFFER in " + ", ".join(differ))
    )


def compare(results: list[dict[str, Any]], engine: str) -> None:
    same_outcomes(results)
    fulls = [r for r in results if r["arm"] == "full"]
    if len(fulls) > 1:  # the compare's own full arm is the baseline (its database is the other arms')
        results = [r for r in results if r["arm"] != "full" or r.get("database") == engine]
    base = next((r for r in results if r["arm"] == "full"), None)
    print(
        "\nper 1,000 leads   emailed meetings  held missed  signed  clients  renewed  churned  revenue  deal value"
        "  mood"
    )
    for r in sorted(results, key=lambda r: (r["arm"] != "full", r["arm"] != "naive", r["arm"])):
        n = r["leads asked"]
        deal = sum((Decimal(v) for v in r["outcomes"]["deal value"].values()), Decimal("0"))
        print(
            f"{r['arm']:<22}{per_thousand(r, 'emailed'):>6.0f}{per_thousand(r, 'meetings booked'):>9.1f}"
            f"{per_thousand(r, 'meetings held'):>6.1f}{per_thousand(r, 'calls missed'):>7.1f}"
            f"{per_thousand(r, 'signed deals'):>8.1f}{per_thousand(r, 'clients'):>9.1f}"
            f"{per_thousand(r, 'renewed'):>9.1f}{per_thousand(r, 'churned'):>9.1f}"
            f"{float(revenue(r)) * 1000 / n:>9,.0f}{float(deal) * 1000 / n:>12,.0f}"
            f"{r.get('funnel', {}).get(MOOD, {}).get('mean %', 0):>5}%"
        )
    engines = Counter(r.get("database", "postgresql") for r in results)
    print("   (databases: " + ", ".join(f"{n} arm(s) on {engine}" for engine, n in sorted(engines.items())) + ")")
    naive = next((r for r in results if r["arm"] == "naive"), None)
    if base and naive:
        meetings = base["outcomes"]["meetings booked"] / max(1, naive["outcomes"]["meetings booked"])
        money_ratio = revenue(base) / max(Decimal("1"), revenue(naive))
        print(f"full / naive: meetings x{meetings:.2f}, revenue x{money_ratio:.2f} (target: at least 2 each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", default="1000,5000", help="sizes of the scale part (comma list; '' for none)")
    parser.add_argument("--compare", type=int, default=1000, help="leads per arm of the compare part (0: none)")
    parser.add_argument("--arms", default="", help="compare arms (default: naive and every decision off)")
    parser.add_argument("--days", type=int, default=150, help="simulated days each arm lives (default 150)")
    parser.add_argument("--funnel-days", type=int, default=28, help="days of four-hour steps (default 28)")
    parser.add_argument("--seed", type=int, default=42, help="the sandbox market's seed (default 42)")
    parser.add_argument(
        "--compare-db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the compare arms' database (default sqlite: in process, about a quarter less CPU; same outcomes)",
    )
    parser.add_argument(
        "--forks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="on SQLite, start the arms that can from the full arm's state (bench/lifecycle/forks.py)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="arms at a time (default 2: the cores)")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/st_lifecycle", help="scratch DB prefix")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--leads-one", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--arm", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    parser.add_argument("--snapshots-for", default="", help=argparse.SUPPRESS)
    parser.add_argument("--fork-from", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from bench.lifecycle.policy import DECISIONS

    sizes = [int(v) for v in args.leads.split(",") if v.strip()]
    arms = [a.strip() for a in args.arms.split(",") if a.strip()] or ["naive", *(f"-{d}" for d in DECISIONS)]
    from bench.lifecycle.forks import forkable

    jobs = [Job(n, "full", "postgres") for n in sizes]
    if args.compare:
        # On SQLite the compare's own full arm copies its state for the arms that can start from it.
        forks = tuple(a for a in arms if forkable(a)) if args.compare_db == "sqlite" and args.forks else ()
        jobs += [Job(args.compare, a, args.compare_db, forked=a in forks) for a in arms if a != "full"]
        if forks or "full" in arms or args.compare not in sizes:
            jobs.append(Job(args.compare, "full", args.compare_db, forks_for=forks))
        # Otherwise the scale part's full arm at that size is the compare's baseline: an arm's outcomes
        # do not depend on the database it ran on (the same seed: the same market and decisions).
    # The SQLite arms' files, in memory where the machine has it (a scratch file the next arm empties
    # needs no disk), in a directory of this run's own (mkdtemp: private, not a guessable path).
    shm = SHM if SHM.is_dir() else None
    args.scratch = tempfile.mkdtemp(prefix="st_lifecycle_", dir=shm)
    began = time.perf_counter()
    try:
        results = run_all(args, jobs)
    finally:
        shutil.rmtree(args.scratch, ignore_errors=True)
    print(f"\nbench wall time {time.perf_counter() - began:.0f}s ({args.jobs} at a time)")
    full = sorted(
        (r for r in results if r["arm"] == "full" and r.get("database") != "sqlite"), key=lambda r: r["leads asked"]
    )
    for small, large in itertools.pairwise(full):
        scale = large["leads asked"] / small["leads asked"]
        ratio = large["seconds"] / small["seconds"]
        print(
            f"wall time {large['leads asked']}/{small['leads asked']}: {ratio:.2f} for {scale:.0f}x the leads "
            f"(linear: {scale:.0f}); queries per lead {large['queries'] / large['leads asked']:.0f} "
            f"vs {small['queries'] / small['leads asked']:.0f}"
        )
        kept = large["outcomes"]["leads"], small["outcomes"]["leads"]
        print(f"   leads after the import's merges {kept[0]} vs {kept[1]} ({kept[0] / max(1, kept[1]):.2f}x)")
        if large.get("cpu postgres") is not None and small.get("cpu postgres") is not None:
            cpu = (large["cpu python"] + large["cpu postgres"]) / (small["cpu python"] + small["cpu postgres"])
            print(f"CPU time {large['leads asked']}/{small['leads asked']}: {cpu:.2f} (Python and PostgreSQL)")
    if args.compare:
        compare(
            [r for r in results if r["leads asked"] == args.compare],
            "sqlite" if args.compare_db == "sqlite" else "postgresql",
        )


if __name__ == "__main__":
    main()
