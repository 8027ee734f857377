"""Schedules in code -> beat rows: idempotent, operators' edits and disables survive a sync."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from agents.models import AgentRun, CodeSchedule
from agents.schedules import sync_schedules, tick_of
from agents.tasks import start_scheduled

pytestmark = pytest.mark.django_db


def test_the_first_sync_creates_every_declared_schedule_and_a_second_changes_nothing() -> None:
    first = sync_schedules()
    assert "agent:deduplication" in first.created and "agents.dispatch_due" in first.created
    task = PeriodicTask.objects.get(name="agent:deduplication")
    assert task.task == "agents.start_scheduled" and json.loads(task.args) == ["deduplication"]
    assert task.crontab.minute == "30" and task.crontab.hour == "3" and task.enabled
    assert task.queue == "system"
    second = sync_schedules()
    assert (second.created, second.updated, second.disabled) == ([], [], [])


def test_frequent_schedules_expire_missed_ticks() -> None:
    sync_schedules()
    assert PeriodicTask.objects.get(name="agents.dispatch_due").expire_seconds == 10
    assert PeriodicTask.objects.get(name="agent:deduplication").expire_seconds is None


def test_an_operators_edit_and_disable_survive_the_next_sync() -> None:
    sync_schedules()
    task = PeriodicTask.objects.get(name="agent:deduplication")
    task.crontab = CrontabSchedule.objects.create(minute="7", hour="5", timezone="UTC")  # no agent runs at 05:07
    task.enabled = False
    task.save()

    report = sync_schedules()
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour) == ("7", "5")
    assert task.enabled is False  # never re-enabled
    assert "agent:deduplication.schedule" in report.kept


def test_a_changed_code_schedule_is_applied_where_the_operator_did_not_edit() -> None:
    sync_schedules()
    from crm.agents.deduplication import Deduplication

    with mock.patch.object(Deduplication, "schedule", 7200):
        report = sync_schedules()
    task = PeriodicTask.objects.get(name="agent:deduplication")
    assert "agent:deduplication" in report.updated
    assert task.crontab is None and task.interval.every == 7200 and task.interval.period == IntervalSchedule.SECONDS


def test_a_schedule_removed_from_code_is_disabled_not_deleted() -> None:
    sync_schedules()
    from crm.agents.deduplication import Deduplication

    with mock.patch.object(Deduplication, "schedule", None):
        report = sync_schedules()
    assert report.disabled == ["agent:deduplication"]
    assert PeriodicTask.objects.get(name="agent:deduplication").enabled is False
    assert not CodeSchedule.objects.filter(name="agent:deduplication").exists()


def test_the_command_runs_the_sync(capsys) -> None:
    call_command("sync_schedules")
    assert "schedules in sync" in capsys.readouterr().out


def test_one_run_per_agent_and_tick_even_if_beat_fires_twice(frozen_clock) -> None:
    with mock.patch("agents.tasks.runs.publish_on_commit"):
        first = start_scheduled("deduplication")
        frozen_clock.tick(dt.timedelta(seconds=20))
        second = start_scheduled("deduplication")
        frozen_clock.tick(dt.timedelta(minutes=1))
        third = start_scheduled("deduplication")
    assert first == second != third
    assert AgentRun.objects.get(pk=first).trigger == AgentRun.Trigger.SCHEDULE


def test_interval_ticks_are_aligned() -> None:
    now = dt.datetime(2026, 3, 2, 9, 4, 59, tzinfo=dt.UTC)
    assert tick_of(300, now) == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert tick_of("30 3 * * *", now) == dt.datetime(2026, 3, 2, 9, 4, tzinfo=dt.UTC)
