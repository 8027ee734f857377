"""A broker outage under load: nothing lost, nothing twice, no error to a caller, quick recovery.

The test owns its Redis (a redis-server on a free port, never the machine's shared one), a real
Celery worker and a load driver (tests/agents/outage_driver.py), both subprocesses on this test's
PostgreSQL database. Redis is killed mid-load (in-memory only: what it held is lost, as in the
measured incident) and started again; then every run, webhook and scheduled tick stored during
the outage must be processed, once, within a minute of its return. The driver plays beat with
short intervals (dispatch_due and the sweeper every second, a tick every two) so the test takes
seconds, not the production minute.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from agents.models import AgentRun
from integrations.models import WebhookEvent
from tests.processes import free_port

pytestmark = [pytest.mark.worker, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

LOAD_SECONDS, KILL_AT, OUTAGE_SECONDS = 16.0, 4.0, 8.0
RECOVERY_LIMIT = 60.0


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is installed by scripts/services.sh"
        self.proc = subprocess.Popen(  # noqa: S603
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10.0)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # ours, by its own handle: SIGKILL, as in the measured incident
            self.proc.wait(10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def wait_for(predicate: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def subprocess_env(redis_url: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env.update(
        DJANGO_SETTINGS_MODULE="smarter_team.settings_test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    return env


def test_a_broker_outage_under_load_loses_nothing_and_recovers_within_a_minute(
    redis_server: PrivateRedis, tmp_path: Path
) -> None:
    env = subprocess_env(redis_server.url)
    worker_code = (
        "import tests.agents.outage_driver; from smarter_team.celery import app; "
        "app.worker_main(['worker', '-Q', 'crm,sales,delivery,system,llm', '--pool', 'threads', '-c', '4', "
        "'--loglevel', 'WARNING', '--without-mingle', '--without-gossip', '--without-heartbeat'])"
    )
    result = tmp_path / "driver.json"
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("worker", "driver")}
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", worker_code],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
    )
    driver = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.agents.outage_driver", str(LOAD_SECONDS), str(result)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=logs["driver"],
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(KILL_AT)
        redis_server.kill()
        # The outage is real: nothing answers on the broker's port while it lasts.
        outage_seen = not redis_server.answers()
        time.sleep(OUTAGE_SECONDS)
        redis_server.start()
        returned = time.monotonic()

        def all_done() -> bool:
            if not (result.exists() and json.loads(result.read_text() or "{}").get("load_done")):
                return False
            runs = AgentRun.objects.filter(agent_name__in=["t_echo", "t_ticker"])
            echo_done = runs.filter(agent_name="t_echo", status="succeeded").count() == 100
            return (
                echo_done
                and not runs.exclude(status="succeeded").exists()
                and (WebhookEvent.objects.filter(status="processed").count() == 200)
            )

        try:
            wait_for(all_done, RECOVERY_LIMIT + LOAD_SECONDS)
        finally:
            recovery = time.monotonic() - returned
            print(f"recovered {recovery:.1f} s after the broker returned")  # noqa: T201
        outcome = json.loads(result.read_text())
    finally:
        for proc in (driver, worker):
            proc.terminate()
        for proc in (driver, worker):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()

    assert recovery <= RECOVERY_LIMIT
    # No exception to any caller for committed work, no 500, every webhook answered 200.
    assert outcome["errors"]["start_run"] == [] and outcome["errors"]["webhook"] == []
    assert outcome["errors"]["tick"] == []
    assert outcome["statuses"] == [200] * 200
    # The outage was real (on a loaded machine beat's own publishes may straddle it, so they are
    # not the evidence; the dead port is).
    assert outage_seen, "the broker still answered after it was killed"
    # Nothing twice: every run claimed once, every event processed once.
    echo = AgentRun.objects.filter(agent_name="t_echo")
    assert echo.count() == 100 and set(echo.values_list("attempts", flat=True)) == {1}
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    # No tick dropped: one run per tick across the whole load, outage included.
    ticks = AgentRun.objects.filter(agent_name="t_ticker")
    assert ticks.count() >= int(LOAD_SECONDS / 2) - 1
    assert set(ticks.values_list("attempts", flat=True)) == {1}
