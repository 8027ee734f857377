"""Business time and infrastructure time: schedules follow the project clock (accelerated, skipped
ahead when idle); leases, act back-off and the sweeper follow the wall clock at any speed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from celery.schedules import crontab
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from agents import clockwork, runtime
from agents.models import Action, AgentRun, ClockOffset
from agents.services.runs import start_run
from agents.testing import run_agent
from smarter_team import clock
from tests.agents.sample_agents import Outbox

UTC = dt.UTC


def test_the_latest_cron_tick_is_the_last_matching_minute() -> None:
    at = dt.datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)  # a Wednesday
    assert clockwork.latest_cron_tick(crontab(minute="30", hour="3"), at) == dt.datetime(2026, 3, 4, 3, 30, tzinfo=UTC)
    assert clockwork.latest_cron_tick(crontab(minute="30", hour="11"), at) == dt.datetime(
        2026, 3, 3, 11, 30, tzinfo=UTC
    )
    assert clockwork.latest_cron_tick(crontab(minute="*/15"), at) == dt.datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
    monday = crontab(minute="0", hour="6", day_of_week="1")
    assert clockwork.latest_cron_tick(monday, at) == dt.datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    first = crontab(minute="0", hour="0", day_of_month="1")
    assert clockwork.latest_cron_tick(first, at) == dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _schedule(agent: str, *, every: int | None = None, cron: str | None = None) -> PeriodicTask:
    task = PeriodicTask(name=f"agent:{agent}", task="agents.start_scheduled", args=json.dumps([agent]))
    if every:
        task.interval = IntervalSchedule.objects.create(every=every, period=IntervalSchedule.SECONDS)
    else:
        minute, hour, dom, month, dow = (cron or "").split()
        task.crontab = CrontabSchedule.objects.create(
            minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow
        )
    task.save()
    return task


@pytest.mark.django_db
def test_a_due_tick_starts_one_run_however_often_beat_wakes(frozen_clock: Any) -> None:
    _schedule("t_echo", every=3600)
    first = clockwork.start_due_ticks()
    assert len(first) == 1 and clockwork.start_due_ticks() == []
    run = AgentRun.objects.get(pk=first[0])
    assert run.trigger == "schedule" and run.idempotency_key == "schedule:t_echo:20260302T090000"
    frozen_clock.tick(dt.timedelta(minutes=59))
    assert clockwork.start_due_ticks() == []
    frozen_clock.tick(dt.timedelta(minutes=2))
    assert len(clockwork.start_due_ticks()) == 1


@pytest.mark.django_db
def test_runs_of_one_tick_start_in_schedule_name_order_whatever_order_the_rows_were_made(frozen_clock: Any) -> None:
    # The sync makes the rows in a set's order (the hash seed's); the runs must not follow it, or a
    # simulation's outcomes change from one process to the next.
    for agent in ("t_flaky", "t_echo", "t_swallowing", "t_broken"):
        _schedule(agent, every=3600)
    started = clockwork.start_due_ticks()
    names = [AgentRun.objects.get(pk=pk).agent_name for pk in started]
    assert names == ["t_broken", "t_echo", "t_flaky", "t_swallowing"]
    assert started == sorted(started)


@pytest.mark.django_db
def test_ticks_missed_while_beat_was_down_start_once_when_it_is_back(frozen_clock: Any) -> None:
    _schedule("t_echo", cron="30 3 * * *")
    clockwork.start_due_ticks()
    frozen_clock.tick(dt.timedelta(days=3))  # beat was down for three nights
    assert len(clockwork.start_due_ticks()) == 1  # the latest missed night, once
    assert AgentRun.objects.filter(agent_name="t_echo").count() == 2


@pytest.mark.django_db
def test_schedules_follow_the_accelerated_clock(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [dt.datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)]
    monkeypatch.setattr(clock, "_wall", lambda: wall[0])
    settings.CLOCK_SPEED = 1000
    settings.CLOCK_EPOCH = "2026-03-02T09:00:00+00:00"
    _schedule("t_echo", every=3600)
    assert len(clockwork.start_due_ticks()) == 1
    wall[0] += dt.timedelta(seconds=3.7)  # 3.7 s of wall time = just over an hour of business time
    assert len(clockwork.start_due_ticks()) == 1
    assert AgentRun.objects.filter(agent_name="t_echo").count() == 2


@pytest.mark.django_db
def test_a_lease_lasts_its_wall_seconds_at_a_thousand_times_speed(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = [dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "_wall", lambda: wall[0])
    settings.CLOCK_SPEED = 1000
    settings.CLOCK_EPOCH = "2026-03-02T08:00:00+00:00"
    run = start_run(agent_name="t_echo", input={}, trigger="event", enqueue=False)
    claimed = runtime.claim(run.pk)
    assert claimed is not None and claimed.lease_expires_at is not None
    assert claimed.lease_expires_at - wall[0] == dt.timedelta(seconds=900)  # wall seconds, not 0.9
    wall[0] += dt.timedelta(seconds=60)  # 16 hours of business time later, a minute of wall time
    assert runtime.recover_lost_runs() == 0  # the live worker keeps its run
    assert runtime.claim(run.pk) is None  # and nobody else takes it
    wall[0] += dt.timedelta(seconds=900)
    assert runtime.recover_lost_runs() == 1


@pytest.fixture
def _mailbag() -> Iterator[None]:
    Outbox.sent, Outbox.fail_next, Outbox.fail_permanently, Outbox.done, Outbox.failed = [], 0, 0, [], []
    yield
    Outbox.sent, Outbox.fail_next, Outbox.fail_permanently, Outbox.done, Outbox.failed = [], 0, 0, [], []


@pytest.mark.django_db
@pytest.mark.usefixtures("_mailbag")
def test_an_acts_back_off_is_wall_time_at_high_speed(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "_wall", lambda: wall[0])
    settings.CLOCK_SPEED = 1000
    settings.CLOCK_EPOCH = "2026-03-02T08:00:00+00:00"
    Outbox.fail_next = 1
    result = run_agent("t_mailer", {"to": ["ada@fine.example"]})
    [action] = result.acts
    assert action.status == Action.Status.PENDING
    assert action.next_attempt_at is not None and action.next_attempt_at - wall[0] == dt.timedelta(seconds=30)


@pytest.mark.django_db
def test_a_retry_after_a_transient_failure_waits_its_wall_seconds_in_business_time(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = [dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "_wall", lambda: wall[0])
    settings.CLOCK_SPEED = 1000
    settings.CLOCK_EPOCH = "2026-03-02T09:00:00+00:00"
    result = run_agent("t_flaky", {"fail_times": 1})
    assert result.status == "queued"
    # 30 s of back-off is 30,000 s of business time at 1,000x: the provider still gets its 30 s.
    assert result.run.due_at - clock.now() == dt.timedelta(seconds=30_000)


@pytest.mark.django_db
def test_when_every_queue_is_idle_business_time_skips_to_the_next_due_work(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = [dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)]
    monkeypatch.setattr(clock, "_wall", lambda: wall[0])
    settings.CLOCK_SKIP_IDLE = True
    clock._offset_cache.clear()
    later = start_run(
        agent_name="t_echo", input={}, trigger="event", enqueue=False, due_at=wall[0] + dt.timedelta(days=2)
    )
    jump = clockwork.skip_ahead_if_idle()
    assert jump == dt.timedelta(days=2)
    assert clock.now() == later.due_at
    assert ClockOffset.objects.get(pk=1).seconds == 2 * 86400
    # Work is due now: nothing moves until it is done.
    assert clockwork.skip_ahead_if_idle() == dt.timedelta(0)
    runtime.execute(later.pk)
    assert clockwork.skip_ahead_if_idle() == dt.timedelta(0)  # nothing left to skip to
    clock._offset_cache.clear()


@pytest.mark.django_db
def test_without_the_demo_setting_business_time_never_skips(settings: Any) -> None:
    settings.CLOCK_SKIP_IDLE = False
    start_run(agent_name="t_echo", input={}, trigger="event", enqueue=False, due_at=clock.now() + dt.timedelta(days=2))
    assert clockwork.skip_ahead_if_idle() == dt.timedelta(0)
    assert not ClockOffset.objects.exists()


@pytest.mark.django_db
def test_upkeep_on_wall_time_is_left_to_beats_own_schedule(frozen_clock: Any) -> None:
    from agents import registry

    assert registry.get("webhook_replay").schedule_clock == "wall"
    _schedule("webhook_replay", every=60)
    _schedule("t_echo", every=60)
    started = AgentRun.objects.filter(pk__in=clockwork.start_due_ticks())
    assert [r.agent_name for r in started] == ["t_echo"]


@pytest.mark.django_db
def test_the_skip_passes_a_pollers_empty_ticks_and_stops_when_its_work_falls_due(
    frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents import registry

    _schedule("t_echo", every=300)  # a five-minute poller
    echo = registry.get("t_echo")
    now = frozen_clock.now
    assert clockwork.next_due_work(now) == now + dt.timedelta(minutes=5)  # by default: every tick

    monkeypatch.setattr(echo, "next_work_at", classmethod(lambda cls, at: None))
    assert clockwork.next_due_work(now) is None  # nothing for it until other work brings some

    due = now + dt.timedelta(hours=26, minutes=2)
    monkeypatch.setattr(echo, "next_work_at", classmethod(lambda cls, at: due))
    # Its first tick at or after the moment the work falls due, not every five minutes until then.
    assert clockwork.next_due_work(now) == now + dt.timedelta(hours=26, minutes=5)
    monkeypatch.setattr(echo, "next_work_at", classmethod(lambda cls, at: now - dt.timedelta(hours=1)))
    assert clockwork.next_due_work(now) is None  # already due: its tick after the next skip runs it


def test_earliest_after_ignores_the_past_and_the_missing() -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    hour = dt.timedelta(hours=1)
    assert clockwork.earliest_after(now, None, now - hour, now + 2 * hour, now + hour) == now + hour
    assert clockwork.earliest_after(now, None, now) is None


@pytest.mark.parametrize(
    "watcher",
    ["health_check", "error_monitoring", "escalation_manager", "cost_monitor", "learning_extraction"],
)
def test_watchers_never_hold_the_demos_skip(watcher: str) -> None:
    from agents import registry

    assert registry.get(watcher).next_work_at(dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) is None
