from __future__ import annotations

import datetime as dt

from django.test import override_settings

from smarter_team import clock


def test_now_is_time_zone_aware() -> None:
    assert clock.now().tzinfo is not None


def test_frozen_clock_stops_and_moves_only_when_told() -> None:
    at = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    with clock.frozen(at) as frozen:
        assert clock.now() == at
        frozen.tick(dt.timedelta(hours=2))
        assert clock.now() == at + dt.timedelta(hours=2)
    assert clock.now() != at + dt.timedelta(hours=2)


def test_accelerated_clock_runs_speed_times_faster_from_the_epoch() -> None:
    epoch = clock.now() - dt.timedelta(seconds=10)
    with override_settings(CLOCK_SPEED=60.0, CLOCK_EPOCH=epoch.isoformat()):
        virtual = clock.now()
    # Ten real seconds since the epoch are ten virtual minutes (give the test a little slack).
    assert dt.timedelta(minutes=10) <= virtual - epoch < dt.timedelta(minutes=11)


def test_naive_frozen_time_is_refused() -> None:
    try:
        with clock.frozen(dt.datetime(2026, 1, 1)):
            raise AssertionError("naive time was accepted")
    except ValueError as exc:
        assert "time zone aware" in str(exc)


def test_wall_ago_is_a_wall_clock_span_in_business_time() -> None:
    at = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    with clock.frozen(at), override_settings(CLOCK_SPEED=60.0):
        # Ten wall minutes at 60x are ten business hours.
        assert clock.wall_ago(dt.timedelta(minutes=10)) == at - dt.timedelta(hours=10)
    with clock.frozen(at):
        assert clock.wall_ago(dt.timedelta(minutes=10)) == at - dt.timedelta(minutes=10)
