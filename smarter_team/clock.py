"""The project's one clock. Every piece of code reads time here, never ``datetime.now()``.

Two reasons: tests freeze time (``frozen``), and the sandbox world runs faster than the wall
clock (``CLOCK_SPEED``) so a month of agency life passes in minutes. Accelerated time is
anchored at ``CLOCK_EPOCH`` (real and virtual time agree there), so every process of one
deployment (web, worker, beat) computes the same virtual time without talking to each other.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

UTC = dt.UTC

_state = threading.local()
_frozen_global: list[dt.datetime] = []


def _wall() -> dt.datetime:
    return dt.datetime.now(tz=UTC)  # the only wall-clock read in the project


def _epoch() -> dt.datetime | None:
    raw = getattr(settings, "CLOCK_EPOCH", "")
    if not raw:
        return None
    epoch = dt.datetime.fromisoformat(raw)
    return epoch if epoch.tzinfo else epoch.replace(tzinfo=UTC)


def now() -> dt.datetime:
    """The current time, time zone aware (UTC)."""
    frozen = getattr(_state, "frozen", None) or (_frozen_global[-1] if _frozen_global else None)
    if frozen is not None:
        return frozen
    wall = _wall()
    speed = float(getattr(settings, "CLOCK_SPEED", 1.0))
    epoch = _epoch()
    if speed == 1.0 or epoch is None:
        return wall
    return epoch + (wall - epoch) * speed


def today() -> dt.date:
    return now().date()


def real_seconds(virtual: dt.timedelta) -> float:
    """How many wall-clock seconds a span of virtual time takes at the current speed."""
    return virtual.total_seconds() / float(getattr(settings, "CLOCK_SPEED", 1.0) or 1.0)


class FrozenClock:
    """A handle on frozen time that tests can move forward."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("frozen time must be time zone aware")
        _frozen_global.append(at)
        self._index = len(_frozen_global) - 1

    def tick(self, delta: dt.timedelta) -> dt.datetime:
        _frozen_global[self._index] = _frozen_global[self._index] + delta
        return _frozen_global[self._index]

    def set(self, at: dt.datetime) -> None:
        _frozen_global[self._index] = at

    @property
    def now(self) -> dt.datetime:
        return _frozen_global[self._index]


@contextmanager
def frozen(at: dt.datetime) -> Iterator[FrozenClock]:
    """Freeze ``now()`` at ``at`` for every thread until the block ends."""
    handle = FrozenClock(at)
    try:
        yield handle
    finally:
        _frozen_global.pop()
