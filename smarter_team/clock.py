"""The project's one clock. Every piece of code reads time here, never ``datetime.now()``.

Two kinds of time, never mixed (ARCHITECTURE.md, Time):

- ``now()``, **business time**: due times, send windows, meeting and invoice dates, agents'
  schedules. The demo accelerates it (``CLOCK_SPEED``) so a month of agency life passes in
  minutes, and may skip it ahead to the next due work when every queue is idle (``skip_to``).
  Accelerated time is anchored at ``CLOCK_EPOCH`` (real and virtual time agree there), so every
  process of one deployment computes the same virtual time; a skip is a shared offset (a row)
  that each process re-reads at most once a second.
- ``wall_now()``, **infrastructure time**: leases, republish timers, signature tolerance, breaker
  cool-downs, retry back-off, time limits. Always the wall clock, whatever the demo's speed: at
  1,000x a 900 s lease must still last 900 s, or the sweeper would run live work twice.

Tests freeze both at once (``frozen``): a frozen test controls all time.
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


def _frozen() -> dt.datetime | None:
    return getattr(_state, "frozen", None) or (_frozen_global[-1] if _frozen_global else None)


def speed() -> float:
    return float(getattr(settings, "CLOCK_SPEED", 1.0) or 1.0)


def now() -> dt.datetime:
    """Business time, time zone aware (UTC): accelerated and skipped ahead in the demo."""
    frozen = _frozen()
    if frozen is not None:
        return frozen
    wall = _wall()
    rate = speed()
    epoch = _epoch()
    virtual = wall if rate == 1.0 or epoch is None else epoch + (wall - epoch) * rate
    return virtual + _offset(wall)


def wall_now() -> dt.datetime:
    """Infrastructure time (leases, timers, back-off): the wall clock at any demo speed."""
    frozen = _frozen()
    return frozen if frozen is not None else _wall()


def after_wall(seconds: float) -> dt.datetime:
    """The business time at which ``seconds`` of wall-clock time will have passed.

    For business rows that wait on infrastructure (a run retried after a provider's back-off):
    the wait lasts its seconds on the wall, not 1/CLOCK_SPEED of them.
    """
    return now() + dt.timedelta(seconds=seconds * speed())


def wall_ago(span: dt.timedelta) -> dt.datetime:
    """The business time that was ``span`` of wall-clock time ago.

    For infrastructure timers kept on business-stamped rows (a run published at ``enqueued_at``, a
    webhook event received at ``received_at``): "republish after ten minutes" means ten minutes on
    the wall, so at 60x the demo waits ten hours of business time, not ten seconds (which would
    publish every unclaimed run again every ten seconds and flood the broker with duplicates). A
    skip ahead inside the span makes it end early; that costs one harmless republish.
    """
    return now() - span * speed()


# --- skipping ahead when idle (the demo) ------------------------------------------------------
# The offset is shared through a row (agents.ClockOffset) so every process skips together. Read
# at most once a second of wall time per process; zero, and never read, unless CLOCK_SKIP_IDLE.
_OFFSET_TTL = dt.timedelta(seconds=1)
_offset_cache: list[tuple[dt.datetime, dt.timedelta]] = []


def _offset(wall: dt.datetime) -> dt.timedelta:
    if not getattr(settings, "CLOCK_SKIP_IDLE", False):
        return dt.timedelta(0)
    if _offset_cache and wall - _offset_cache[0][0] < _OFFSET_TTL:
        return _offset_cache[0][1]
    offset = _read_offset()
    _offset_cache[:] = [(wall, offset)]
    return offset


def _read_offset() -> dt.timedelta:
    from django.db import DatabaseError

    try:
        from agents.models import ClockOffset

        seconds = ClockOffset.objects.filter(pk=1).values_list("seconds", flat=True).first()
    except DatabaseError:  # not migrated yet (first start): no skip so far
        return dt.timedelta(0)
    return dt.timedelta(seconds=seconds or 0)


def skip_to(target: dt.datetime) -> dt.timedelta:
    """Move business time forward to ``target`` (never back); every process follows within a second."""
    from django.db import transaction

    from agents.models import ClockOffset

    with transaction.atomic():
        row, _ = ClockOffset.objects.select_for_update().get_or_create(pk=1)
        jump = target - now()
        if jump > dt.timedelta(0):
            row.seconds += jump.total_seconds()
            row.save(update_fields=["seconds"])
    _offset_cache.clear()
    return max(jump, dt.timedelta(0))


def today() -> dt.date:
    return now().date()


def real_seconds(virtual: dt.timedelta) -> float:
    """How many wall-clock seconds a span of virtual time takes at the current speed."""
    return virtual.total_seconds() / speed()


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
