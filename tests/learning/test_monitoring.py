from __future__ import annotations

import datetime as dt

import pytest

from learning.services.monitoring import detect_spikes
from tests.factories.learning import ErrorLogFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _spike_settings(settings) -> None:
    settings.LEARNING_SPIKE_WINDOW_MINUTES = 15
    settings.LEARNING_SPIKE_MIN_ERRORS = 5
    settings.LEARNING_SPIKE_FACTOR = 3.0


def _errors(n: int, *, at: dt.datetime, agent: str = "lead_research", provider: str = "") -> None:
    for _ in range(n):
        ErrorLogFactory.create(agent_name=agent, provider=provider, occurred_at=at)


def test_a_burst_above_floor_and_baseline_is_a_spike(frozen_clock) -> None:
    _errors(6, at=frozen_clock.now - dt.timedelta(minutes=5))
    [spike] = detect_spikes()
    assert (spike.kind, spike.name, spike.count) == ("agent", "lead_research", 6)
    assert spike.dedupe_key == "error-spike:agent:lead_research"
    assert "6 errors in the last 15 min" in spike.reason


def test_below_the_floor_is_quiet(frozen_clock) -> None:
    _errors(4, at=frozen_clock.now - dt.timedelta(minutes=1))
    assert detect_spikes() == []


def test_a_component_that_always_fails_this_much_is_not_a_spike(frozen_clock) -> None:
    # 96 windows in the baseline day with 6 errors each: 6 now is normal for it.
    for w in range(1, 97):
        _errors(6, at=frozen_clock.now - dt.timedelta(minutes=15 * w + 1))
    _errors(6, at=frozen_clock.now - dt.timedelta(minutes=1))
    assert detect_spikes() == []
    _errors(14, at=frozen_clock.now - dt.timedelta(minutes=1))  # 20 now vs 6 usual: > 3x
    assert [s.count for s in detect_spikes()] == [20]


def test_integrations_are_watched_separately(frozen_clock) -> None:
    _errors(5, at=frozen_clock.now, agent="", provider="icypeas")
    assert [(s.kind, s.name) for s in detect_spikes()] == [("integration", "icypeas")]


def test_old_errors_are_not_in_the_window(frozen_clock) -> None:
    _errors(10, at=frozen_clock.now - dt.timedelta(minutes=16))
    assert detect_spikes() == []
