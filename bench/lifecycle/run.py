"""Lifecycle bench (issue #20): sandbox leads through the whole lifecycle on simulated time, from a
lead list to emails, replies, calls, proposals, invoices and payments, onboarding, delivery,
renewals and goodbyes; what it costs per lead, how it scales, and what each decision is worth.

Run by hand (prints figures, asserts nothing). Each arm runs in a process of its own on a scratch
PostgreSQL database of its own (created, migrated and emptied: scratch databases), ``--jobs`` at
a time (the machine's cores):

    .venv/bin/python bench/lifecycle/run.py [--leads 1000,5000] [--compare 1000] [--arms full,naive,-reminders]
        [--days 150] [--funnel-days 28] [--seed 42] [--jobs 2] [--db postgres://postgres@127.0.0.1:5432/st_lifecycle]

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
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def child(args: argparse.Namespace) -> None:
    from bench.scratch import setup_django, unflushed_commits

    setup_django()
    unflushed_commits()
    import logging

    for noisy in ("agents", "integrations", "crm", "sales", "delivery"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from bench.lifecycle.arm import play_arm

    result = play_arm(leads=args.leads_one, arm=args.arm, funnel_days=args.funnel_days, days=args.days, seed=args.seed)
    print("RESULT " + json.dumps(result))


def spawn(args: argparse.Namespace, *, leads: int, arm: str, slot: int) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": f"{args.db}_{slot}", "REDIS_URL": f"redis://127.0.0.1:6379/{14 + slot}"}
    command = [
        sys.executable, str(Path(__file__)), "--child", "--leads-one", str(leads), f"--arm={arm}",
        "--days", str(args.days), "--funnel-days", str(args.funnel_days), "--seed", str(args.seed),
    ]  # fmt: skip
    env.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings_test")
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def run_all(args: argparse.Namespace, jobs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each (leads, arm) in a process of its own, ``--jobs`` at a time; biggest first (it bounds the wall)."""
    waiting = sorted(jobs, key=lambda j: -j[0])
    running: dict[int, tuple[subprocess.Popen[str], tuple[int, str]]] = {}
    results: list[dict[str, Any]] = []
    while waiting or running:
        for slot in range(args.jobs):
            if slot not in running and waiting:
                job = waiting.pop(0)
                running[slot] = (spawn(args, leads=job[0], arm=job[1], slot=slot), job)
        time.sleep(2)
        for slot, (proc, job) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[slot]
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
    if r.get("cpu postgres") is not None:
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


def compare(results: list[dict[str, Any]]) -> None:
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
    parser.add_argument("--jobs", type=int, default=2, help="arms at a time (default 2: the cores)")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/st_lifecycle", help="scratch DB prefix")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--leads-one", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--arm", default="full", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from bench.lifecycle.policy import DECISIONS

    sizes = [int(v) for v in args.leads.split(",") if v.strip()]
    arms = [a.strip() for a in args.arms.split(",") if a.strip()] or ["naive", *(f"-{d}" for d in DECISIONS)]
    jobs = [(n, "full") for n in sizes]
    if args.compare:
        jobs += [(args.compare, arm) for arm in arms]
        if args.compare not in sizes and "full" not in arms:
            jobs.append((args.compare, "full"))
    began = time.perf_counter()
    results = run_all(args, jobs)
    print(f"\nbench wall time {time.perf_counter() - began:.0f}s ({args.jobs} at a time)")
    full = sorted((r for r in results if r["arm"] == "full"), key=lambda r: r["leads asked"])
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
        compare([r for r in results if r["leads asked"] == args.compare])


if __name__ == "__main__":
    main()
