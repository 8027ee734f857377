"""bench/lifecycle's forks: an arm starts from the full arm's state only while its decision has had
nothing to act on, and its meters go on from the full arm's."""

from __future__ import annotations

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
from bench.lifecycle.policy import DECISIONS
from tests.factories.agents import AgentRunFactory
from tests.factories.sales import ClientFactory, MeetingFactory, ProposalFactory

pytestmark = pytest.mark.django_db

REMINDERS = DECISIONS["reminders"]


def test_only_the_decisions_acting_on_meetings_proposals_or_clients_fork() -> None:
    forked = sorted(arm for arm in (f"-{name}" for name in DECISIONS) if forkable(arm))
    assert forked == [
        "-churn saves",
        "-client reporting",
        "-meeting prep",
        "-no-show recovery",
        "-proposal follow-ups",
        "-reminders",
    ]
    assert forkable("full") is None and forkable("naive") is None
    assert forkable("-scoring") is None  # a patch of a decision made on the first day


def test_a_decision_is_untouched_until_what_it_acts_on_exists() -> None:
    AgentRunFactory.create(agent_name="meeting_reminder", trigger="schedule", status="succeeded")  # an empty tick
    assert untouched(REMINDERS)
    MeetingFactory.create()
    assert not untouched(REMINDERS)
    churn = DECISIONS["churn saves"]
    ClientFactory.create()  # a client alone: churn_risk has no work until a health drop hands it some
    assert untouched(churn)
    AgentRunFactory.create(agent_name="churn_risk", trigger="handoff", status="queued")
    assert not untouched(churn)


def test_an_agent_that_hints_its_next_item_ends_the_shared_days(monkeypatch) -> None:
    from sales.agents.meeting.reminder import MeetingReminder

    monkeypatch.setattr(MeetingReminder, "next_work_at", classmethod(lambda cls, now: now))
    assert not untouched(REMINDERS)


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
    assert not untouched(REMINDERS)


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


def test_a_fork_is_the_last_day_before_its_decision_had_work(tmp_path: Path, monkeypatch) -> None:
    copies: list[Path] = []

    def backup(path: Path) -> None:
        path.write_text("db")
        copies.append(path)

    monkeypatch.setattr(forks, "_backup", backup)
    snapshots = Snapshots(tmp_path, ["-reminders", "-proposal follow-ups", "-scoring"])
    assert set(snapshots.pending) == {"-reminders", "-proposal follow-ups"}  # scoring acts from day one
    snapshots.day_end(1, _state())
    snapshots.day_end(2, _state(queries=200))
    assert not ready_path(tmp_path, "-reminders").exists()  # not final while it may still share a day
    MeetingFactory.create()  # day 3 books the first call: the reminders' fork is day 2's copy
    snapshots.day_end(3, _state(queries=300))
    reminders = Fork.load(ready_path(tmp_path, "-reminders"))
    assert (reminders.day, reminders.queries, Path(reminders.database).name) == (2, 200, "day_2.sqlite3")
    assert Path(reminders.database).exists() and not (tmp_path / "day_1.sqlite3").exists()  # unused copies go
    ProposalFactory.create()
    snapshots.day_end(4, _state(queries=400))
    reporting = Fork.load(ready_path(tmp_path, "-proposal follow-ups"))
    assert reporting.day == 3 and reporting.agent_seconds == {"lead_scoring": 1.5}
    assert reporting.unpickled_meter().live == Decimal("0.5")  # the LLM meter goes on
    assert [p.name for p in copies] == ["day_1.sqlite3", "day_2.sqlite3", "day_3.sqlite3"]


def test_a_decision_that_acts_on_the_first_day_or_never_is_final_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(forks, "_backup", lambda path: path.write_text("db"))
    MeetingFactory.create()
    snapshots = Snapshots(tmp_path, ["-reminders", "-churn saves"])
    snapshots.day_end(1, _state())
    assert Fork.load(ready_path(tmp_path, "-reminders")).database == ""  # nothing shared: from nothing
    snapshots.close()  # the full arm ended with no client at risk: its arm is the full arm's last day
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
