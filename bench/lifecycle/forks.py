"""Arms that start from the full arm's state: the hours an ablation arm would only repeat.

An arm without a decision is the full agency until that decision first makes a difference: the
same leads, the same emails, the same replies, run for run. The full arm can tell when that is
(``Decision.gated``): a decision acting on meetings, proposals or clients (a reminder, a follow-up,
a report) waits for the first of those rows (``Decision.acts_on``); a patched decision waits for the
first run of the agent it decides for (``Decision.decides``: scoring, the copy) or for the rows its
patch reads (an enrollment's send window); and the agents an arm switches off must have left no
trace (no run but empty schedule ticks: no handoff to them, no audit entry, no act, no escalation,
no run they started). Until then the full arm, on SQLite, copies its database at the ends of its
steps and days (``Snapshots``), and the arm without the decision starts from the last such copy,
with the full arm's meters up to then (CPU, queries, LLM cost and its cache), and lives the rest
of the time on its own.

Much of an arm's cost lies in those shared hours: the thousand leads' import, research and scoring
fall in the first day's first step, the campaign, its copy and its first emails in the next ones,
the first calls a day later. The shared hours hold nothing the decision could have changed: the
only difference from an arm that starts from nothing is its agents' empty ticks in them (run rows,
no effect). Should the full arm fail, or a decision act at once, its arm starts from nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Django's modules are imported where used: the bench's parent process schedules the arms (forkable,
# ready_path) without setting Django up.
from bench.lifecycle.policy import Decision, arm_decisions


def forkable(arm: str) -> list[Decision] | None:
    """The decisions an arm switches off, when its arm may start from the full arm's state: each
    one's first difference can be told (``Decision.gated``)."""
    if arm == "full":
        return None
    decisions = arm_decisions(arm)
    return decisions if all(d.gated for d in decisions) else None


def untouched(decisions: list[Decision]) -> bool:
    """Whether none of the decisions has made a difference yet (``untouched_one``)."""
    return all(untouched_one(d) for d in decisions)


def untouched_one(decision: Decision) -> bool:
    """Whether nothing the decision acts on exists yet, no agent it decides for has run, and its
    agents switched off have left no trace."""
    from django.apps import apps

    from agents import registry
    from agents.models import Action, AgentRun, AuditLog, Escalation
    from smarter_team import clock

    if decision.acts_on and apps.get_model(decision.acts_on)._default_manager.exists():
        return False
    if decision.decides and AgentRun.objects.filter(agent_name__in=decision.decides).exists():
        return False  # queued or worked: its patched decision is about to be, or was, taken
    off = decision.off
    if not off:
        return True
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
    """The full arm at the end of ``day`` (``within``: at the end of one of its steps, the day's
    remaining steps and its review still to come): its database's copy and its meters up to then."""

    day: int
    now: str  # the business clock, ISO
    database: str  # the copy's path ('' when the arm starts from nothing)
    within: bool = False
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


# The full arm's work between two copies (CPU seconds): at least COPY_EVERY, and at least
# COPY_SHARE times what the last copy cost (a copy of a few dozen MB in memory, tens of
# milliseconds), so copying costs the full arm at most a twentieth more; an arm repeats at most
# that much of the full arm's work.
COPY_EVERY = 0.5
COPY_SHARE = 20


class Snapshots:
    """The full arm's side: a copy of its database, at the end of a step or a day, while some
    forkable arm has had nothing to act on; an arm's fork is final (written for the scheduler) at
    the first look that finds its decision made a difference, or when the full arm ends.

    The first wave (the thousand leads' research and scoring, then the campaign and its first
    emails) falls in the first day's steps, and a decision may first act in any of them: so a copy
    can be taken at any step, once ``COPY_EVERY`` of the full arm's work has passed since the last."""

    def __init__(self, folder: Path, arms: list[str]) -> None:
        self.folder = folder
        self.pending = {arm: decisions for arm in arms if (decisions := forkable(arm)) is not None}
        self.latest: dict[str, Fork] = {}
        self.copied_at: float | None = None  # this process's CPU time at the last copy
        self.copy_cost = 0.0  # and what that copy cost
        self.copies = 0

    def moment(self, day: int, state: Callable[[], dict[str, Any]], *, within: bool) -> None:
        """The end of a step of ``day`` (``within``) or of the day itself: maybe a copy. ``state``
        gives the meters, built only for a copy."""
        if not self.pending:
            return
        spent = time.process_time()
        if self.copied_at is not None and spent - self.copied_at < max(COPY_EVERY, COPY_SHARE * self.copy_cost):
            return
        still = {arm: decisions for arm, decisions in self.pending.items() if untouched(decisions)}
        for arm in set(self.pending) - set(still):
            self._final(arm)
        self.pending = still
        if still:
            self.copies += 1
            copy = self.folder / f"copy_{self.copies}.sqlite3"
            _backup(copy)
            fork = Fork(day=day, database=str(copy), within=within, **state())
            for arm in still:
                self.latest[arm] = fork
        self._drop_unused()
        self.copied_at = time.process_time()
        self.copy_cost = self.copied_at - spent

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
        for copy in self.folder.glob("copy_*.sqlite3"):
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
