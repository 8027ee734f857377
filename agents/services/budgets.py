"""Budgets: is there money left for a brain call of this run? Spend is the sum of AgentRun.cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from agents.models import AgentRun, Budget
from smarter_team import clock

# When several budgets are exceeded, the one that stops the most work wins.
_SEVERITY = {Budget.OnExceed.ESCALATE: 3, Budget.OnExceed.PAUSE: 2, Budget.OnExceed.DEGRADE: 1}


@dataclass(frozen=True)
class Exceeded:
    budget: Budget
    spent: Decimal
    period_start: dt.datetime
    period_end: dt.datetime

    @property
    def on_exceed(self) -> str:
        return self.budget.on_exceed

    @property
    def reason(self) -> str:
        b = self.budget
        who = f"{b.scope} {b.key}".strip() if b.key else b.scope
        return f"{who} budget of {b.limit} {b.currency}/{b.period} reached (spent {self.spent:.4f})"


def period_bounds(period: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (exclusive) of the UTC day or calendar month containing ``now``."""
    now = now.astimezone(dt.UTC)
    if period == Budget.Period.DAY:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + dt.timedelta(days=1)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _scope_filter(budget: Budget) -> Q:
    field = {
        Budget.Scope.GLOBAL: None,
        Budget.Scope.AGENT: "agent_name",
        Budget.Scope.CLIENT: "client_key",
        Budget.Scope.CAMPAIGN: "campaign_key",
    }[Budget.Scope(budget.scope)]
    return Q() if field is None else Q(**{field: budget.key})


def exceeded_budget(*, run: AgentRun, unsaved_cost: Decimal = Decimal("0")) -> Exceeded | None:
    """The most severe budget this run's next brain call would break, or None.

    Two queries whatever the number of budgets: the applicable budgets, then one aggregate
    with a filtered sum per budget. ``unsaved_cost`` is this attempt's spend not yet saved.
    """
    applicable = Q(scope=Budget.Scope.GLOBAL) | Q(scope=Budget.Scope.AGENT, key=run.agent_name)
    if run.client_key:
        applicable |= Q(scope=Budget.Scope.CLIENT, key=run.client_key)
    if run.campaign_key:
        applicable |= Q(scope=Budget.Scope.CAMPAIGN, key=run.campaign_key)
    budgets = list(Budget.objects.filter(applicable, active=True))
    if not budgets:
        return None
    now = clock.now()
    bounds = {b.pk: period_bounds(b.period, now) for b in budgets}
    sums = {
        f"b{b.pk}": Sum("cost", filter=_scope_filter(b) & Q(started_at__gte=bounds[b.pk][0]), default=Decimal("0"))
        for b in budgets
    }
    earliest = min(start for start, _ in bounds.values())
    spent = AgentRun.objects.filter(started_at__gte=earliest).aggregate(**sums)
    worst: Exceeded | None = None
    for b in budgets:
        total = Decimal(spent[f"b{b.pk}"] or 0) + unsaved_cost
        if total < b.limit:
            continue
        start, end = bounds[b.pk]
        candidate = Exceeded(budget=b, spent=total, period_start=start, period_end=end)
        if worst is None or _SEVERITY[Budget.OnExceed(b.on_exceed)] > _SEVERITY[Budget.OnExceed(worst.on_exceed)]:
            worst = candidate
    return worst
