"""`manage.py agency`: bring the whole agency up on one machine with one command.

Prepares the database (migrate, staff groups, schedules), makes sure a login exists and prints
it, then runs the admin web server, a Celery worker for every queue and beat, and stops them all
together on Ctrl-C. On the embedded defaults this needs no service at all.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from smarter_team import clock

QUEUES = "crm,sales,delivery,system,llm"
# The demo's default: two hours of business time a wall minute while the agency is busy; the idle
# skip ahead covers the quiet hours. Faster, and a burst of work (a day's leads) would let meeting
# reminders' and send windows' moments pass before the backlog clears.
DEMO_SPEED = 120.0
# The demo's market is in the US and the UK: from 12:00 to 20:00 UTC both are at work (07:00-15:00
# in New York, 12:00-20:00 in London). A demo first started outside those hours, or on a weekend,
# begins at the next weekday's 12:00 UTC, so a new user does not watch a night or a Sunday pass.
MARKET_HOURS_UTC = (12, 20)


class Command(BaseCommand):
    help = "Migrate, create a login, and run the web server, a Celery worker and beat together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address for the web server")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--prepare-only", action="store_true", help="set everything up, start nothing")
        parser.add_argument(
            "--speed",
            type=float,
            default=None,
            help=f"business time per wall second (default: CLOCK_SPEED if set, else {DEMO_SPEED:g} for the demo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._addr = options["addr"]  # printed with the login: the address the server will answer on
        self._clock = demo_clock(options["speed"])
        self._prepare()
        if options["prepare_only"]:
            return
        self._supervise(options["addr"], options["concurrency"])

    def _prepare(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if self._clock.get("first_start") == "true":
            self._start_on_a_business_day()
        call_command("setup_groups", verbosity=0)
        if "sync_schedules" in _commands():
            call_command("sync_schedules", verbosity=0)
        # A new user sees leads arrive, get verified and enriched without doing anything, and the
        # book of business (dated from the demo's business time) at every later stage.
        self._seed_demo()
        username, password = self._ensure_login()
        db = settings.DATABASES["default"]
        self.stdout.write(
            self.style.SUCCESS("\nSmarter Team is starting.")
            + f"\n  admin:    http://{self._addr_hint()}/admin/"
            + f"\n  login:    {username} / {password}"
            + f"\n  database: {db['ENGINE'].rsplit('.', 1)[-1]}  broker: {settings.CELERY_BROKER_URL.split('://')[0]}"
            + f"\n  brain:    {settings.BRAIN_DEFAULT}"
            + f"\n  clock:    {self._clock['CLOCK_SPEED']}x business time"
            + (", skipping ahead when idle" if self._clock["CLOCK_SKIP_IDLE"] == "true" else "")
            + "\n  Stop with Ctrl-C.\n"
        )

    def _start_on_a_business_day(self) -> None:
        from django.test.utils import override_settings

        env = self._clock_env()
        with override_settings(
            CLOCK_SPEED=float(env["CLOCK_SPEED"]), CLOCK_EPOCH=env["CLOCK_EPOCH"], CLOCK_SKIP_IDLE=True
        ):
            target = market_morning(clock.now())
            if target is not None:
                clock.skip_to(target)

    def _seed_demo(self) -> None:
        from django.test.utils import override_settings

        env = self._clock_env()
        with override_settings(
            CLOCK_SPEED=float(env["CLOCK_SPEED"]),
            CLOCK_EPOCH=env["CLOCK_EPOCH"],
            CLOCK_SKIP_IDLE=env["CLOCK_SKIP_IDLE"] == "true",
        ):
            call_command("seed_demo", autopilot=True, verbosity=0)

    def _addr_hint(self) -> str:
        return getattr(self, "_addr", "127.0.0.1:8000")

    def _ensure_login(self) -> tuple[str, str]:
        """The first run creates `admin` with a random password kept in var/ (readable by the owner only)."""
        user_model = get_user_model()
        secret_file = Path(settings.VAR_DIR) / "admin-login"
        username = os.environ.get("AGENCY_ADMIN_USER", "admin")
        if secret_file.exists() and user_model.objects.filter(username=username).exists():
            return username, secret_file.read_text().strip()
        password = os.environ.get("AGENCY_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": f"{username}@localhost"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(password)
        secret_file.chmod(0o600)
        return username, password

    def _clock_env(self) -> dict[str, str]:
        return {k: v for k, v in self._clock.items() if k != "first_start"}

    def _supervise(self, addr: str, concurrency: int) -> None:
        self._addr = addr
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python, "-m", "celery", "-A", "smarter_team", "worker", "-Q", QUEUES,
                "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", "agency@%h",
            ],
            "beat": [python, "-m", "celery", "-A", "smarter_team", "beat", "--loglevel", "INFO",
                     "--pidfile", str(Path(settings.VAR_DIR) / "beat.pid")],
        }  # fmt: skip
        # A beat killed hard leaves its pidfile behind and the next beat would refuse to start;
        # this command is the only supervisor, so a pidfile here is always stale.
        (Path(settings.VAR_DIR) / "beat.pid").unlink(missing_ok=True)
        procs = {
            name: subprocess.Popen(  # noqa: S603 - our own interpreter and code
                cmd, cwd=settings.BASE_DIR, preexec_fn=_die_with_parent, env={**os.environ, **self._clock_env()}
            )
            for name, cmd in commands.items()
        }
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the agency")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def demo_clock(speed: float | None) -> dict[str, str]:
    """The clock every process of the agency runs on (passed to them in the environment).

    On the embedded default the demo runs fast, so a new user sees weeks of agency life in minutes;
    skipping ahead when idle fills the quiet hours. The epoch (where business and wall time meet)
    is kept in var/ so a restart goes on from the same business time instead of jumping back.
    An operator's CLOCK_SPEED / CLOCK_SKIP_IDLE / CLOCK_EPOCH win.
    """
    rate = speed if speed is not None else float(os.environ.get("CLOCK_SPEED") or DEMO_SPEED)
    skip = os.environ.get("CLOCK_SKIP_IDLE") or ("true" if rate != 1.0 else "false")
    epoch = os.environ.get("CLOCK_EPOCH", "")
    first_start = False
    if not epoch and rate != 1.0:
        stored = Path(settings.VAR_DIR) / "clock-epoch"
        if stored.exists():
            epoch = stored.read_text().strip()
        else:
            epoch = clock.wall_now().isoformat()
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_text(epoch)
            first_start = skip == "true"
    env = {"CLOCK_SPEED": f"{rate:g}", "CLOCK_SKIP_IDLE": skip, "CLOCK_EPOCH": epoch}
    # Not passed to the processes: whether this start may move business time to a working morning.
    return {**env, "first_start": "true"} if first_start else env


def market_morning(now: dt.datetime) -> dt.datetime | None:
    """The next weekday's MARKET_HOURS_UTC start, or None when ``now`` is already within them."""
    start, end = MARKET_HOURS_UTC
    utc = now.astimezone(dt.UTC)
    if utc.weekday() < 5 and start <= utc.hour < end:
        return None
    day = utc.date() if utc.hour < start else utc.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, start, tzinfo=dt.UTC)


def _die_with_parent() -> None:
    """Linux: the children get SIGTERM if this supervisor dies without cleaning up (kill -9, a
    closed terminal), so no orphaned worker keeps sending email with nobody watching."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _commands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())
