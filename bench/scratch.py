"""The scratch database a benchmark works in (created on first use, so `make bench` runs on a fresh
machine) and the Django it runs under.

A bench script puts the repository on ``sys.path``, calls a ``setup_*`` function, and only then
imports the project's modules (they need Django set up).
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def ensure_database() -> None:
    """Create the PostgreSQL database DATABASE_URL names when it does not exist yet."""
    parsed = urlsplit(os.environ["DATABASE_URL"])
    name = parsed.path.lstrip("/")
    if not parsed.scheme.startswith("postgres") or not name:
        raise SystemExit(
            "DATABASE_URL must name a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/st_bench"
        )
    maintenance = urlunsplit(parsed._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(*, sqlite: bool = False) -> None:
    """Set up Django for a bench that works in this process: the test settings (unless
    DJANGO_SETTINGS_MODULE names others) on a scratch PostgreSQL database, created when missing.
    ``sqlite``: a scratch SQLite file is accepted too (a bench that measures decisions, not the
    database: bench/lifecycle's compare arms)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings_test")
    url = os.environ.get("DATABASE_URL", "")
    if sqlite and url.startswith("sqlite:"):
        import django

        django.setup()
        return
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL (PostgreSQL, a scratch database)")
    ensure_database()

    import django

    django.setup()


def unflushed_commits() -> None:
    """Commit without waiting for the disk (``synchronous_commit=off``) on this process's scratch
    database connections: a bench that drives the agency in process (funnel, lifecycle) commits some
    twenty thousand times per thousand leads, and each flush (1-3 ms on a loaded machine, shared
    with whatever else writes to the disk) measured the disk, not the code. Nothing is lost but the
    last commits of a server crash, on a database the next run empties. Call it before the first query."""
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return  # only PostgreSQL's commits wait for the disk here (a SQLite scratch file lives in memory)
    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()


# A bench whose Celery workers are separate processes: production settings in test mode, the
# heuristic brain and a real-time business clock; the workers inherit this environment.
WORKER_BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "smarter_team.settings",
    "DJANGO_ENV": "test",
    "DJANGO_DEBUG": "false",
    "BRAIN_DEFAULT": "heuristic",
    "ANTHROPIC_API_KEY": "",
    "CLOCK_SPEED": "1",
}


def setup_worker_bench(*, log_level: str) -> None:
    """Set up Django for a bench that starts Celery workers (``worker_command``) on the Redis broker."""
    os.environ.update(WORKER_BENCH_ENV, LOG_LEVEL=log_level)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL, a scratch database) and REDIS_URL (a Redis DB of its own)")
    ensure_database()

    import django

    django.setup()


def worker_command(app: str, *, queues: str, log_level: str) -> list[str]:
    """One Celery worker process, solo pool (one task at a time: what is measured is a worker's own
    throughput), without the cluster chatter that would only add noise."""
    return [
        sys.executable, "-m", "celery", "-A", app, "worker", "-P", "solo", "-Q", queues, "-l", log_level,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


def fresh_database() -> None:
    """Set Django up on the scratch database: created when missing, migrated, emptied (a scratch database)."""
    ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
