"""The scratch database a benchmark works in: created on first use, so `make bench` runs on a fresh machine."""

from __future__ import annotations

import os
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


def fresh_database() -> None:
    """Set Django up on the scratch database: created when missing, migrated, emptied (a scratch database)."""
    ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
