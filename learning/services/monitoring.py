"""error_monitoring's work: error spikes per agent or integration, compared with their own baseline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from learning.models import ErrorLog
from smarter_team import clock

BASELINE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Spike:
    kind: str  # "agent" or "integration"
    name: str
    count: int
    baseline_per_window: float
    window_minutes: int

    @property
    def dedupe_key(self) -> str:
        # One open escalation per spiking agent/integration, however many ticks see the spike.
        return f"error-spike:{self.kind}:{self.name}"

    @property
    def reason(self) -> str:
        return (
            f"error spike in {self.kind} {self.name}: {self.count} errors in the last {self.window_minutes} min "
            f"(baseline {self.baseline_per_window:.1f} per {self.window_minutes} min)"
        )


def _counts(field: str, *, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    rows = (
        # (since, until]: an error logged at this very instant belongs to the latest window.
        ErrorLog.objects.filter(occurred_at__gt=since, occurred_at__lte=until)
        .exclude(**{field: ""})
        .values(field)
        .annotate(n=Count("id"))
    )
    return {row[field]: row["n"] for row in rows}


def detect_spikes(*, now: dt.datetime | None = None) -> list[Spike]:
    """Agents/integrations whose errors in the last window exceed both a floor and factor x baseline.

    The baseline is the average per window over the 24 hours before the window, so a component that
    always fails a little does not page anyone, and one that suddenly fails a lot does.
    """
    until = now or clock.now()
    minutes = max(1, int(settings.LEARNING_SPIKE_WINDOW_MINUTES))
    window = dt.timedelta(minutes=minutes)
    floor = int(settings.LEARNING_SPIKE_MIN_ERRORS)
    factor = float(settings.LEARNING_SPIKE_FACTOR)
    windows_in_baseline = BASELINE / window
    spikes = []
    for kind, field in (("agent", "agent_name"), ("integration", "provider")):
        recent = _counts(field, since=until - window, until=until)
        if not any(n >= floor for n in recent.values()):
            continue
        before = _counts(field, since=until - window - BASELINE, until=until - window)
        for name, count in sorted(recent.items()):
            baseline = before.get(name, 0) / windows_in_baseline
            if count >= floor and count >= factor * max(baseline, 1.0):
                spikes.append(Spike(kind, name, count, baseline, minutes))
    return spikes
