"""`manage.py agency` (make run): the demo clock its processes share, and the set-up it does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from smarter_team import clock
from smarter_team.management.commands.agency import DEMO_SPEED, demo_clock, market_morning


@pytest.fixture
def var(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings.VAR_DIR = tmp_path
    for name in ("CLOCK_SPEED", "CLOCK_SKIP_IDLE", "CLOCK_EPOCH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_demo_runs_fast_skips_idle_hours_and_keeps_its_epoch_across_restarts(var: Path) -> None:
    first = demo_clock(None)
    assert first["CLOCK_SPEED"] == f"{DEMO_SPEED:g}" and first["CLOCK_SKIP_IDLE"] == "true"
    assert first["CLOCK_EPOCH"] and (var / "clock-epoch").read_text() == first["CLOCK_EPOCH"]
    assert first["first_start"] == "true"
    again = demo_clock(None)
    assert again["CLOCK_EPOCH"] == first["CLOCK_EPOCH"]  # a restart goes on, never back
    assert "first_start" not in again  # nor is it moved to another morning


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "morning"),
    [
        ("2026-12-05T08:10", "2026-12-07T12:00"),  # a Saturday: Monday
        ("2026-12-07T08:10", "2026-12-07T12:00"),  # a Monday before the market wakes: that noon
        ("2026-12-07T15:00", None),  # a Monday afternoon: go on from now
        ("2026-12-11T21:00", "2026-12-14T12:00"),  # a Friday night: Monday
    ],
)
def test_the_demo_begins_when_its_market_works(now: str, morning: str | None) -> None:
    assert market_morning(at(now)) == (at(morning) if morning else None)


def test_an_operators_clock_settings_win(var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCK_SPEED", "1")
    assert demo_clock(None) == {"CLOCK_SPEED": "1", "CLOCK_SKIP_IDLE": "false", "CLOCK_EPOCH": ""}
    assert demo_clock(500)["CLOCK_SPEED"] == "500"


@pytest.mark.django_db
def test_prepare_only_sets_up_the_agency_and_prints_the_login_and_the_clock(
    var: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crm.models import AgencyProfile, IdealCustomerProfile, Mailbox

    call_command("agency", "--prepare-only", "--addr", "127.0.0.1:8123")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/admin/" in out and "login:    admin / " in out
    assert f"{DEMO_SPEED:g}x business time" in out
    assert AgencyProfile.objects.count() == 1 and IdealCustomerProfile.objects.count() == 2
    assert Mailbox.objects.count() == 2
    # The first start moved business time to a working hour of the market (shared by every process).
    epoch = (var / "clock-epoch").read_text()
    with override_settings(CLOCK_SPEED=DEMO_SPEED, CLOCK_EPOCH=epoch, CLOCK_SKIP_IDLE=True):
        clock._offset_cache.clear()
        assert market_morning(clock.now()) is None
    clock._offset_cache.clear()
