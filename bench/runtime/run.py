"""Runtime benchmark: agent runs per second through a real worker, against no-op Celery tasks.

Run by hand (it prints figures; it asserts nothing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_runtime REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/runtime/run.py [--runs 1000] [--rounds 5]

1. migrates the database named by DATABASE_URL (use a scratch database; bench rows are deleted);
2. starts one Celery worker process (solo pool, the ``system`` queue) on the Redis broker;
3. per round, publishes N no-op tasks and waits until all ran, then N agent runs of a no-op rules
   agent (created first, published together) and waits until all succeeded. The runtime's cost
   is everything around the agent: claim (row lock, attempts, lease), learned guards, outcome,
   learning hooks; heuristic brain, no model;
   Throughput is counted from the first publish to the last completion (the runs' finished_at,
   the no-op's last timestamp), so the light polling does not blur it;
4. in this process, counts the SQL queries of one run (django CaptureQueriesContext), after one
   warm-up run as the worker's rounds have (a process loads an agent's active rules once).
A second workload, ``bench_act``, records one outbox act per run: the intent committed with the
outcome, performed after commit by the same worker, marked done; a round ends when every act is done.
Printed: tasks/s and runs/s per round, the median ratio runs/no-op for both workloads (target
>= 0.4 for the first), and queries per run of each (target: constant and <= 10).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.scratch import setup_worker_bench, worker_command  # noqa: E402

setup_worker_bench(log_level="WARNING")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agents import runtime  # noqa: E402
from agents.models import Action, AgentRun  # noqa: E402
from agents.services.runs import start_run  # noqa: E402
from agents.tasks import run_agent  # noqa: E402
from bench.runtime import workload  # noqa: E402
from learning.models import ResponseTracking  # noqa: E402

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def start_worker() -> subprocess.Popen[bytes]:
    command = worker_command("bench.runtime.workload", queues="system", log_level="WARNING")
    worker = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if workload.app.control.ping(timeout=0.5):
            return worker
    worker.kill()
    sys.exit("the worker did not start")


def wait(done: Callable[[], int], n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while done() < n:
        if time.monotonic() > deadline:
            sys.exit(f"timed out: {done()} of {n} done")
        time.sleep(0.25)  # polling lightly: the machine's cores belong to the worker


def noop_round(n: int) -> float:
    workload._redis.set(workload.COUNTER, 0)
    started = time.time()
    for _ in range(n):
        workload.noop.apply_async(queue="system")
    wait(lambda: int(workload._redis.get(workload.COUNTER) or 0), n)
    return n / (float(workload._redis.get(workload.LAST_DONE) or 0) - started)


def runs_round(n: int, round_no: int, agent: str = "bench_noop") -> float:
    with transaction.atomic():
        ids = [
            start_run(agent_name=agent, input={"n": i}, trigger="event", enqueue=False,
                      idempotency_key=f"bench:{agent}:{round_no}:{i}:{time.time_ns()}").pk
            for i in range(n)
        ]  # fmt: skip
    batch = AgentRun.objects.filter(pk__gte=ids[0], pk__lte=ids[-1], agent_name=agent)
    started = time.time()
    for run_id in ids:
        run_agent.apply_async((run_id,), queue="system")
    if agent == "bench_act":
        # Done means the act is done too (performed after the run's commit, then marked).
        acts = Action.objects.filter(run_id__gte=ids[0], run_id__lte=ids[-1], kind="bench.ping")
        wait(lambda: acts.filter(status="done").count(), n)
        last = acts.aggregate(last=Max("done_at"))["last"]
    else:
        wait(lambda: batch.filter(status="succeeded").count(), n)
        last = batch.aggregate(last=Max("finished_at"))["last"]
    return n / (last.timestamp() - started)


def queries_per_run(samples: int = 20, agent: str = "bench_noop") -> tuple[list[int], list[int]]:
    sql, statements = [], []
    # Warm-up, as the worker's rounds are: a process loads an agent's active rules once (then cached).
    runtime.execute(start_run(agent_name=agent, input={"n": -1}, trigger="event", enqueue=False).pk)
    for i in range(samples):
        run = start_run(agent_name=agent, input={"n": i}, trigger="event", enqueue=False)
        with CaptureQueriesContext(connection) as captured:
            runtime.execute(run.pk)
        statements.append(len(captured.captured_queries))
        sql.append(sum(1 for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)))
    return sql, statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    cleanup()
    workload.app.control.purge()
    worker = start_worker()
    try:
        noop_round(50), runs_round(50, -1), runs_round(50, -1, "bench_act")  # warm-up: connections, caches
        ratios, act_ratios = [], []
        for round_no in range(args.rounds):
            tasks = noop_round(args.runs)
            runs = runs_round(args.runs, round_no)
            acting = runs_round(args.runs, round_no, "bench_act")
            ratios.append(runs / tasks)
            act_ratios.append(acting / tasks)
            print(
                f"round {round_no + 1}: no-op tasks {tasks:8.1f}/s   agent runs {runs:8.1f}/s "
                f"(ratio {runs / tasks:.3f})   runs with one act {acting:8.1f}/s (ratio {acting / tasks:.3f})"
            )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"agent runs / no-op tasks (median of {args.rounds}): {statistics.median(ratios):.3f}   (target >= 0.4)")
    print(f"runs with one act / no-op tasks (median of {args.rounds}): {statistics.median(act_ratios):.3f}")
    for agent in ("bench_noop", "bench_act"):
        sql, statements = queries_per_run(agent=agent)
        print(
            f"queries per run ({agent}): {min(sql)}..{max(sql)} SQL queries "
            f"({min(statements)}..{max(statements)} statements incl. BEGIN/COMMIT)   (target: constant, <= 10)"
        )
    cleanup()


def cleanup() -> None:
    # A run's ResponseTracking row outlives it (SET_NULL): delete the bench's own too.
    ResponseTracking.objects.filter(agent_name__in=["bench_noop", "bench_act"]).delete()
    Action.objects.filter(kind="bench.ping").delete()
    AgentRun.objects.filter(agent_name__in=["bench_noop", "bench_act"]).delete()


if __name__ == "__main__":
    main()
