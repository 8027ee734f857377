"""The figures of the console's index: the funnel, today's activity, what needs a person.

Reads only (selectors), each block a fixed number of aggregates whatever the number of rows, so the
page costs the same number of queries at ten rows and at a million (tests/smarter_team/test_dashboard.py
counts them). Every figure carries the admin changelist URL that lists exactly the rows it counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from smarter_team import clock
from smarter_team.dashboard.activity import Activity, activity, business_day
from smarter_team.dashboard.funnel import Stage, funnel
from smarter_team.dashboard.links import Figure
from smarter_team.dashboard.oversight import (
    AGE_BUCKETS,
    BudgetLine,
    Check,
    EscalationRow,
    FailingAgent,
    Integration,
    budgets,
    escalations,
    failing_agents,
    integrations,
    latest_checks,
)

__all__ = ["Dashboard", "Window", "gather"]


class Window(Enum):
    """The funnel's window, in whole business days back from today (``all``: since the start)."""

    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"

    @classmethod
    def parse(cls, raw: str | None) -> Window:
        try:
            return cls(raw)
        except ValueError:
            return cls.MONTH  # the default, and what an unknown value falls back to

    @property
    def label(self) -> str:
        return {"today": "today", "7d": "last 7 days", "30d": "last 30 days", "all": "all time"}[self.value]

    def start(self, now: dt.datetime) -> dt.datetime | None:
        days = {"today": 0, "7d": 6, "30d": 29}.get(self.value)
        if days is None:
            return None
        return business_day(now)[0] - dt.timedelta(days=days)


@dataclass(frozen=True)
class Dashboard:
    now: dt.datetime  # business time
    wall_now: dt.datetime  # health checks are timed on the wall clock
    window: Window
    windows: tuple[Window, ...]
    funnel: list[Stage]
    activity: Activity
    escalations: list[EscalationRow]
    escalation_buckets: tuple[str, ...]
    failing_agents: list[FailingAgent]
    open_errors: Figure
    integrations: list[Integration]
    budgets: list[BudgetLine]
    health: list[Check]

    @property
    def health_status(self) -> str:
        statuses = {c.status for c in self.health}
        return next((s for s in ("down", "degraded") if s in statuses), "ok" if statuses else "unknown")


def gather(*, window: Window = Window.MONTH, now: dt.datetime | None = None) -> Dashboard:
    now = now or clock.now()
    wall_now = clock.wall_now()
    checks = latest_checks(wall_now)
    failing, open_errors = failing_agents(now)
    return Dashboard(
        now=now,
        wall_now=wall_now,
        window=window,
        windows=tuple(Window),
        funnel=funnel(window.start(now)),
        activity=activity(now),
        escalations=escalations(now),
        escalation_buckets=tuple(label for label, _, _ in AGE_BUCKETS),
        failing_agents=failing,
        open_errors=open_errors,
        integrations=integrations(now, checks),
        budgets=budgets(now),
        health=[c for name, c in sorted(checks.items()) if not name.startswith("integration:")],
    )
