"""Arms that start from the full arm's state: the days an ablation arm would only repeat.

An arm that switches off a decision acting on meetings, proposals or clients (a reminder, a
follow-up, a report) is the full agency until the first of those exists: the same leads, the
same emails, the same replies, run for run. Most of an arm's cost lies there (the thousand leads'
research, scoring and first emails fall in the first simulated day). So the full arm, on SQLite,
copies its database at the end of each day while some such decision has had nothing to act on
(``Decision.acts_on``: no row yet) and its agents have left no trace (no run but empty schedule
ticks: no handoff to them, no audit entry, no act, no escalation, no run they started). The arm
without that decision then starts from the last such day's copy, with the full arm's meters up
to then (CPU, queries, LLM cost and its cache), and lives the remaining days on its own.

The shared days hold nothing the decision could have changed: the only difference from an arm
that starts from nothing is its agents' empty ticks in those days (run rows, no effect). Should
the full arm fail, or a decision act on the first day, its arm starts from nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Django's modules are imported where used: the bench's parent process schedules the arms (forkable,
# ready_path) without setting Django up.
from bench.lifecycle.policy import Decision, arm_decisions


def forkable(arm: str) -> Decision | None:
    """The decision an arm switches off, when its arm may start from the full arm's state."""
    if not arm.startswith("-"):
        return None
    (decision,) = arm_decisions(arm)
    return decision if decision.acts_on and not decision.patches else None


def untouched(decision: Decision) -> bool:
    """Whether nothing the decision acts on exists yet and its agents have left no trace."""
    from django.apps import apps

    from agents import registry
    from agents.models import Action, AgentRun, AuditLog, Escalation
    from smarter_team import clock

    assert decision.acts_on
    if apps.get_model(decision.acts_on)._default_manager.exists():
        return False
    off = decision.off
    if any(isinstance(registry.get(name).next_work_at(clock.now()), dt.datetime) for name in off):
        return False  # it says when its next item falls due: that hint already shapes the clock's steps
    if (
        AgentRun.objects.filter(agent_name__in=off)
        .exclude(trigger=AgentRun.Trigger.SCHEDULE, status=AgentRun.Status.SUCCEEDED)
        .exists()
    ):
        return False  # handed work, failed, waiting or still queued
    return not (
        AuditLog.objects.filter(run__agent_name__in=off).exists()
        or Action.objects.filter(run__agent_name__in=off).exists()
        or Escalation.objects.filter(run__agent_name__in=off).exists()
        or AgentRun.objects.filter(parent__agent_name__in=off).exists()
    )


@dataclass
class Fork:
    """The full arm at the end of ``day``: its database's copy and its meters up to then."""

    day: int
    now: str  # the business clock, ISO
    database: str  # the copy's path ('' when the arm starts from nothing)
    seconds: float = 0.0
    cpu: float = 0.0
    queries: int = 0
    import_errors: int = 0
    agent_seconds: dict[str, float] = field(default_factory=dict)
    agent_queries: dict[str, int] = field(default_factory=dict)
    meter: str = ""  # the LLM meter, pickled (base64)

    def save(self, path: Path) -> None:
        draft = path.with_suffix(".part")
        draft.write_text(json.dumps(asdict(self)))
        draft.replace(path)  # whole or absent: the scheduler polls for it

    @classmethod
    def load(cls, path: Path) -> Fork:
        return cls(**json.loads(path.read_text()))

    def unpickled_meter(self) -> Any:
        return pickle.loads(base64.b64decode(self.meter)) if self.meter else None  # noqa: S301 (see the import)

    @staticmethod
    def pickled(meter: Any) -> str:
        return base64.b64encode(pickle.dumps(meter)).decode()


def on_disk(arm: str) -> str:
    """The arm's name as a file name (no spaces or slashes: '-a/b testing')."""
    return "".join(c if c.isalnum() else "_" for c in arm)


def ready_path(folder: Path, arm: str) -> Path:
    """Where the arm's fork is written once final."""
    return folder / f"fork_{on_disk(arm)}.json"


class Snapshots:
    """The full arm's side: a copy of its database at each day's end while some forkable arm has
    had nothing to act on; an arm's fork is final (written for the scheduler) the first day its
    decision has something, or when the full arm ends."""

    def __init__(self, folder: Path, arms: list[str]) -> None:
        self.folder = folder
        self.pending = {arm: decision for arm in arms if (decision := forkable(arm)) is not None}
        self.latest: dict[str, Fork] = {}

    def day_end(self, day: int, state: dict[str, Any]) -> None:
        if not self.pending:
            return
        still = {arm: decision for arm, decision in self.pending.items() if untouched(decision)}
        for arm in set(self.pending) - set(still):
            self._final(arm)
        self.pending = still
        if still:
            copy = self.folder / f"day_{day}.sqlite3"
            _backup(copy)
            fork = Fork(day=day, database=str(copy), **state)
            for arm in still:
                self.latest[arm] = fork
        self._drop_unused()

    def close(self) -> None:
        """The full arm ended: every fork still pending is final (its decision never had work)."""
        for arm in list(self.pending):
            self._final(arm)
        self.pending = {}

    def _final(self, arm: str) -> None:
        fork = self.latest.pop(arm, None) or Fork(day=0, now="", database="")
        fork.save(ready_path(self.folder, arm))

    def _drop_unused(self) -> None:
        kept = {fork.database for fork in self.latest.values()}
        finals = [Fork.load(p).database for p in self.folder.glob("fork_*.json")]
        for copy in self.folder.glob("day_*.sqlite3"):
            if str(copy) not in kept and str(copy) not in finals:
                copy.unlink()


def _backup(path: Path) -> None:
    """A consistent copy of this process's SQLite database (the online backup API), between runs."""
    from django.db import connection

    connection.ensure_connection()
    source = connection.connection
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
