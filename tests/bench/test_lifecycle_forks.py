"""bench/lifecycle's forks: an arm starts from the full arm's state only while its decision has had
nothing to act on, and its meters go on from the full arm's."""

from __future__ import annotations

import contextlib
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.models import AgentRun
from agents.services.audit import record_change
from bench.lifecycle import forks
from bench.lifecycle.forks import Fork, Snapshots, forkable, ready_path, untouched
from bench.lifecycle.metering import Meter
from bench.lifecycle.policy import DECISIONS, Decision
from tests.factories.agents import AgentRunFactory
from tests.factories.crm import EnrollmentFactory
from tests.factories.sales import ClientFactory, MeetingFactory, ProposalFactory

pytestmark = pytest.mark.django_db

REMINDERS = DECISIONS["reminders"]


def test_every_arm_forks_whose_decisions_say_when_they_first_make_a_difference() -> None:
    assert all(forkable(f"-{name}") for name in DECISIONS)
    assert forkable("naive") is not None  # each of its decisions is gated too
    assert forkable("full") is None
    # A patch that neither waits for a row nor names the agents it decides for cannot be told apart
    # from the full agency at any point: its arm lives from the first day.
    ungated = Decision("x", "a patch of anything", patches=(lambda: contextlib.nullcontext(),))
    assert not ungated.gated and Decision("y", "off only", off=("ab_testing",)).gated


def test_a_decision_is_untouched_until_what_it_acts_on_exists() -> None:
    AgentRunFactory.create(agent_name="meeting_reminder", trigger="schedule", status="succeeded")  # an empty tick
    assert untouched([REMINDERS])
    MeetingFactory.create()
    assert not untouched([REMINDERS])
    churn = DECISIONS["churn saves"]
    ClientFactory.create()  # a client alone: churn_risk has no work until a health drop hands it some
    assert untouched([churn])
    AgentRunFactory.create(agent_name="churn_risk", trigger="handoff", status="queued")
    assert not untouched([churn])


def test_a_patched_decision_is_untouched_until_its_agent_runs_or_its_row_exists() -> None:
    copy = [DECISIONS["email follow-ups"]]
    windows = [DECISIONS["send windows"]]
    assert untouched(copy) and untouched(windows)
    AgentRunFactory.create(agent_name="copywriting", trigger="handoff", status="queued")  # about to write the copy
    assert not untouched(copy) and untouched(windows)
    EnrollmentFactory.create()  # the first enrollment: a send window may now be read
    assert not untouched(windows)


def test_an_arm_of_several_decisions_is_untouched_while_all_of_them_are() -> None:
    naive = forkable("naive")
    assert naive is not None and untouched(naive)
    AgentRunFactory.create(agent_name="lead_scoring", trigger="handoff", status="queued")
    assert not untouched(naive)  # scoring, one of its decisions, is about to be taken


def test_an_agent_that_hints_its_next_item_ends_the_shared_days(monkeypatch) -> None:
    from sales.agents.meeting.reminder import MeetingReminder

    monkeypatch.setattr(MeetingReminder, "next_work_at", classmethod(lambda cls, now: now))
    assert not untouched([REMINDERS])


@pytest.mark.parametrize(
    "trace",
    ["handed work", "failed tick", "audit entry", "run it started"],
)
def test_any_trace_of_its_agents_ends_the_shared_days(trace: str) -> None:
    tick = AgentRunFactory.create(agent_name="meeting_reminder", trigger="schedule", status="succeeded")
    if trace == "handed work":
        AgentRunFactory.create(agent_name="meeting_reminder", trigger="handoff", status="queued")
    elif trace == "failed tick":
        AgentRunFactory.create(agent_name="meeting_reminder", trigger="schedule", status="failed")
    elif trace == "audit entry":
        record_change(action="meeting.reminded", target=tick, after={}, run=tick)
    else:
        AgentRunFactory.create(agent_name="meeting_prep", parent=tick)
    assert not untouched([REMINDERS])


def _state(**extra: Any) -> dict[str, Any]:
    return {
        "now": "2026-03-03T09:00:00+00:00",
        "seconds": 10.0,
        "cpu": 9.0,
        "queries": 100,
        "import_errors": 0,
        "agent_seconds": {"lead_scoring": 1.5},
        "agent_queries": {"lead_scoring": 40},
        "meter": Fork.pickled(Meter(live=Decimal("0.5"))),
        **extra,
    }


def test_a_fork_is_the_last_copy_before_its_decision_made_a_difference(tmp_path: Path, monkeypatch) -> None:
    copies: list[Path] = []

    def backup(path: Path) -> None:
        path.write_text("db")
        copies.append(path)

    monkeypatch.setattr(forks, "_backup", backup)
    monkeypatch.setattr(forks, "COPY_EVERY", 0.0)
    monkeypatch.setattr(forks, "COPY_SHARE", 0)
    snapshots = Snapshots(tmp_path, ["-reminders", "-proposal follow-ups"])
    snapshots.moment(1, lambda: _state(), within=True)
    snapshots.moment(1, lambda: _state(queries=200), within=False)
    assert not ready_path(tmp_path, "-reminders").exists()  # not final while it may still share the day
    MeetingFactory.create()  # the next step books the first call: the reminders' fork is the copy before
    snapshots.moment(2, lambda: _state(queries=300), within=True)
    reminders = Fork.load(ready_path(tmp_path, "-reminders"))
    assert (reminders.day, reminders.within, reminders.queries) == (1, False, 200)
    assert Path(reminders.database).name == "copy_2.sqlite3" and Path(reminders.database).exists()
    assert not (tmp_path / "copy_1.sqlite3").exists()  # unused copies go
    ProposalFactory.create()
    snapshots.moment(2, lambda: _state(queries=400), within=False)
    follow_ups = Fork.load(ready_path(tmp_path, "-proposal follow-ups"))
    assert (follow_ups.day, follow_ups.within) == (2, True)  # a step of day 2: its rest is the arm's own
    assert follow_ups.agent_seconds == {"lead_scoring": 1.5}
    assert follow_ups.unpickled_meter().live == Decimal("0.5")  # the LLM meter goes on
    assert [p.name for p in copies] == ["copy_1.sqlite3", "copy_2.sqlite3", "copy_3.sqlite3"]


def test_a_copy_waits_for_enough_work_since_the_last(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(forks, "_backup", lambda path: path.write_text("db"))
    monkeypatch.setattr(forks, "COPY_EVERY", 3600.0)
    built: list[int] = []

    def state() -> dict[str, Any]:
        built.append(1)
        return _state()

    snapshots = Snapshots(tmp_path, ["-reminders"])
    snapshots.moment(1, state, within=True)  # the first look always copies
    snapshots.moment(1, state, within=True)  # an instant later: nothing new worth a copy
    MeetingFactory.create()
    snapshots.moment(1, state, within=False)
    assert len(built) == 1 and not ready_path(tmp_path, "-reminders").exists()  # the state is built per copy
    snapshots.close()
    assert Fork.load(ready_path(tmp_path, "-reminders")).within  # the copy before: still the right one


def test_a_decision_that_acts_at_once_or_never_is_final_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(forks, "_backup", lambda path: path.write_text("db"))
    MeetingFactory.create()
    snapshots = Snapshots(tmp_path, ["-reminders", "-churn saves"])
    snapshots.moment(1, lambda: _state(), within=True)
    assert Fork.load(ready_path(tmp_path, "-reminders")).database == ""  # nothing shared: from nothing
    snapshots.close()  # the full arm ended with no client at risk: its arm is the full arm's last copy
    assert Fork.load(ready_path(tmp_path, "-churn saves")).day == 1


@pytest.mark.django_db(transaction=True)  # as the full arm copies: between runs, no transaction open
def test_the_backup_is_a_database_of_its_own(tmp_path: Path) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the forks copy a SQLite database (the compare arms')")
    AgentRunFactory.create(agent_name="lead_scoring")
    forks._backup(tmp_path / "copy.sqlite3")
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        (count,) = copy.execute(f"SELECT count(*) FROM {AgentRun._meta.db_table}").fetchone()  # noqa: S608
    finally:
        copy.close()
    assert count == AgentRun.objects.count()
