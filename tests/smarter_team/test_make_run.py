"""The README's first command, as a new user runs it: `manage.py agency` on the embedded defaults.

SQLite, the filesystem broker, the heuristic brain and the sandbox providers, in a state folder of
its own (VAR_DIR), with whatever a developer's .env holds overridden: no service, no key. The
agency must answer on its address, its worker must run agents through the embedded broker until
leads are worked and an email has gone out, and Ctrl-C (SIGTERM here) must stop every process it
started: no orphaned worker keeps sending email with nobody watching.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.processes import free_port

pytestmark = pytest.mark.worker

# Generous: on CI this shares two cores with the other test worker. Typically well under a minute.
LIMIT_SECONDS = 240.0
MIN_AGENTS = 8  # distinct agents with a succeeded run: the lifecycle is moving, not only upkeep


def embedded_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CLOCK_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="smarter_team.settings",
        DJANGO_ENV="development",
        VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var / 'agency.sqlite3'}",
        REDIS_URL="",
        CELERY_BROKER_URL="filesystem://",
        CELERY_TASK_ALWAYS_EAGER="false",
        ANTHROPIC_API_KEY="",
        BRAIN_DEFAULT="heuristic",
        AGENCY_ADMIN_PASSWORD="make-run-test-password",
        # Set, even empty: an environment variable wins over the .env file, which must not reach a vendor.
        **dict.fromkeys(settings.INTEGRATION_KEYS, ""),
    )
    return env


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, str]]:
    var = tmp_path / "var"
    addr = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "agency.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "agency", "--addr", addr],
        cwd=settings.BASE_DIR,
        env=embedded_env(var),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: whatever it starts can be found and killed
    )
    try:
        yield proc, var, addr
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        if _group_alive(proc.pid):  # the test failed; leave nothing running behind it
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _query(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # not migrated yet, or busy past the timeout: look again
        return 0


def _login_page(addr: str) -> int:
    try:
        return httpx.get(f"http://{addr}/admin/login/", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _wait(what: str, predicate: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, start: float) -> None:
    while time.monotonic() - start < LIMIT_SECONDS:
        if predicate():
            return
        if proc.poll() is not None:
            break
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:]
    raise AssertionError(f"{what}: not within {LIMIT_SECONDS:.0f} s (agency exit {proc.poll()})\n{tail}")


def test_make_run_works_leads_sends_email_answers_and_stops_cleanly(
    agency: tuple[subprocess.Popen[bytes], Path, str],
) -> None:
    proc, var, addr = agency
    db, log, start = var / "agency.sqlite3", var.parent / "agency.log", time.monotonic()

    _wait("the admin's login page", lambda: _login_page(addr) == 200, proc, log, start)
    agents = "SELECT COUNT(DISTINCT agent_name) FROM agents_agentrun WHERE status = 'succeeded'"
    _wait(f"{MIN_AGENTS} agents with a succeeded run", lambda: _query(db, agents) >= MIN_AGENTS, proc, log, start)
    sent = "SELECT COUNT(*) FROM crm_message WHERE direction = 'out' AND status NOT IN ('draft', 'queued', 'failed')"
    _wait("an email out", lambda: _query(db, sent) >= 1, proc, log, start)
    assert (var / "admin-login").read_text() == "make-run-test-password"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(proc.pid), "a process the agency started outlived it"
