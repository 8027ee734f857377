"""Webhook ingestion benchmark: signed events stored and enqueued per second, against a no-op.

Run by hand (it prints figures; it asserts nothing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_webhooks REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/webhooks/run.py [--requests 2000] [--concurrency 8]

What it does, all on loopback:
1. migrates the database named by DATABASE_URL (use a scratch database: bench rows are deleted
   afterwards, but the schema stays);
2. starts the app in a second process with a known STRIPE_WEBHOOK_SECRET and the Redis broker:
   waitress (pure-Python WSGI server, a fixed thread pool; ``pip install waitress``, listed in
   requirements/dev.txt) by default, or ``--server runserver`` (``manage.py runserver --noreload``);
3. from this process, ``--concurrency`` threads with keep-alive httpx clients send
   - the no-op: ``GET /api/health`` (routing and middleware, no body, no database), and
   - the webhook: ``POST /api/webhooks/stripe`` with a unique, correctly signed ``invoice.paid``
     event each (verify, parse, INSERT and commit, answer; the event's id goes to the server
     process's publisher, which publishes it to Redis off the request path);
4. checks every webhook was stored once and its id published (the endpoint batches the ids of
   the events accepted in one short interval into one ``process_events`` message, so messages are
   fewer than events: the bench decodes them and counts ids), then cleans up (rows, queue) and
   vacuums the table, so the next run does not insert into indexes swollen with dead rows.
Printed: requests/s and p50/p99 latency of each, and the ratio webhook/no-op (target >= 0.5).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SECRET = "whsec_bench_secret_not_for_production"  # noqa: S105 - a throwaway for the bench server
QUEUE = "system"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="smarter_team.settings",
        DJANGO_ENV="test",
        DJANGO_DEBUG="false",
        STRIPE_WEBHOOK_SECRET=SECRET,
        SANDBOX_WEBHOOKS="false",
        CLOCK_SPEED="1",
        LOG_LEVEL="ERROR",
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not env.get(name):
            sys.exit(f"{name} is required (a scratch PostgreSQL database and a Redis DB of your own)")
    return env


def server_command(server: str, port: int, threads: int) -> list[str]:
    if server == "waitress":
        # A fixed pool of threads (Django's DB connections persist per thread, as under gunicorn).
        return [
            sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", f"--threads={threads}",
            "smarter_team.wsgi:application",
        ]  # fmt: skip
    # Thread per connection; its responses go out in two segments, so on kept-alive sockets Nagle
    # and delayed ACKs add ~40 ms to every request: figures measure the TCP stack more than Django.
    return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]


def wait_until_up(base: str, deadline: float = 60.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit("the server did not come up")


def signed_event(n: int, run_tag: str) -> tuple[bytes, dict[str, str]]:
    from integrations.webhooks.signatures import sign_stripe

    body = json.dumps(
        {
            "id": f"evt_bench_{run_tag}_{n}",
            "object": "event",
            "type": "invoice.paid",
            "created": int(time.time()),
            "data": {"object": {"id": f"in_bench_{n}", "object": "invoice", "amount_paid": 100_00, "currency": "usd"}},
        }
    ).encode()
    header = sign_stripe(body=body, secret=SECRET, timestamp=int(time.time()))
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def load(
    name: str, count: int, concurrency: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()
    clients: list[httpx.Client] = []

    def one(n: int) -> None:
        nonlocal errors
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30.0)  # keep-alive, like a vendor's delivery pool
            with lock:
                clients.append(local.client)
        started = time.perf_counter()
        response = send(local.client, n)
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if response.status_code != 200:
                errors += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(count)))
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    latencies.sort()
    result = {
        "rps": count / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": errors,
    }
    print(
        f"{name:<28} {result['rps']:8.1f} req/s   p50 {result['p50_ms']:6.1f} ms"
        f"   p99 {result['p99_ms']:6.1f} ms   non-200: {errors}"
    )
    return result


def published_since(broker: Any, queued_before: int, *, expected: int, wait: float = 5.0) -> tuple[int, int]:
    """(messages, event ids) pushed to the queue since ``queued_before``; waits for the last flush."""
    deadline = time.monotonic() + wait
    while True:
        extra = broker.llen(QUEUE) - queued_before
        ids = 0
        # kombu LPUSHes: the newest messages are on the left.
        for raw in broker.lrange(QUEUE, 0, extra - 1) if extra > 0 else []:
            message = json.loads(raw)
            task_args = json.loads(base64.b64decode(message["body"]))[0]
            if message["headers"]["task"] == "integrations.webhooks.process_events":
                ids += len(task_args[0])
            elif message["headers"]["task"] == "integrations.webhooks.process_event":
                ids += 1
        if ids >= expected or time.monotonic() > deadline:
            return max(extra, 0), ids
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--server", choices=("waitress", "runserver"), default="waitress")
    args = parser.parse_args()

    env = server_env()
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "DATABASE_URL", "REDIS_URL")})
    from bench.scratch import ensure_database

    ensure_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    import redis

    from integrations.models import WebhookEvent

    broker = redis.Redis.from_url(env["REDIS_URL"])
    queued_before = broker.llen(QUEUE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        server_command(args.server, port, args.concurrency),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_tag = str(int(time.time()))
    try:
        wait_until_up(base)
        print(f"server: {args.server} on {base}; load: {args.concurrency} client threads in this process")
        bodies = [signed_event(n, run_tag) for n in range(args.requests)]
        warm = [signed_event(n, run_tag + "w") for n in range(100)]
        load(
            "warm-up",
            100,
            args.concurrency,
            lambda c, n: c.post(f"{base}/api/webhooks/stripe", content=warm[n][0], headers=warm[n][1]),
        )
        load("warm-up no-op", 100, args.concurrency, lambda c, n: c.get(f"{base}/api/health"))

        noop = load("no-op GET /api/health", args.requests, args.concurrency, lambda c, n: c.get(f"{base}/api/health"))
        hook = load(
            "signed POST /webhooks/stripe",
            args.requests,
            args.concurrency,
            lambda c, n: c.post(f"{base}/api/webhooks/stripe", content=bodies[n][0], headers=bodies[n][1]),
        )
        stored = WebhookEvent.objects.filter(event_id__startswith=f"evt_bench_{run_tag}_", status="received").count()
        messages, published = published_since(broker, queued_before, expected=args.requests + 100)
        print(
            f"stored: {stored}/{args.requests}   event ids published: {published} (incl. 100 warm-up)"
            f" in {messages} messages"
        )
        print(f"ratio webhook/no-op throughput: {hook['rps'] / noop['rps']:.2f} (target >= 0.5)")
    finally:
        server.terminate()
        server.wait(timeout=10)
        WebhookEvent.objects.filter(event_id__startswith=f"evt_bench_{run_tag}").delete()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {connection.ops.quote_name(WebhookEvent._meta.db_table)}")
        # Nothing consumes the bench's task messages: drop what this run pushed (kombu LPUSHes).
        extra = broker.llen(QUEUE) - queued_before
        if extra > 0:
            broker.lpop(QUEUE, extra)


if __name__ == "__main__":
    main()
