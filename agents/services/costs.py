"""Spend against budgets, for cost_monitor: LLM cost (AgentRun.cost) and provider calls (ApiUsage).

Two aggregates whatever the number of budgets, each a range scan of its period on an index
(agents migration 0004: ``started_at`` with ``cost`` included; ApiUsage's ``at``). The brain's
check before every model call (agents/services/budgets.py) stays the only per-call check; this
module looks at the whole period, provider spend included, once an hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from agents.models import AgentRun, Budget
from agents.services.budgets import period_bounds
from agents.services.pauses import scope_q
from integrations.models import ApiUsage

ZERO = Decimal("0")


@dataclass(frozen=True)
class Spend:
    budget: Budget
    llm: Decimal
    api: Decimal
    period_start: dt.datetime
    period_end: dt.datetime

    @property
    def total(self) -> Decimal:
        return self.llm + self.api

    @property
    def limit(self) -> Decimal | None:
        return self.budget.limit

    @property
    def exceeded(self) -> bool:
        # The brain's rule: a call is refused once spend reaches the limit (a limit of 0 allows nothing).
        return self.limit is not None and self.total >= self.limit

    @property
    def share(self) -> float | None:
        """Spend as a share of the limit; None when there is no positive limit to divide by."""
        if self.limit is None or self.limit <= 0:
            return None
        return float(self.total / self.limit)


def spend_per_budget(budgets: list[Budget], *, now: dt.datetime) -> list[Spend]:
    if not budgets:
        return []
    bounds = {b.pk: period_bounds(b.period, now) for b in budgets}
    earliest = min(start for start, _ in bounds.values())
    run_sums = {
        f"b{b.pk}": Sum("cost", filter=scope_q(b) & Q(started_at__gte=bounds[b.pk][0]), default=ZERO) for b in budgets
    }
    api_sums = {
        f"b{b.pk}": Sum("cost", filter=scope_q(b, prefix="run__") & Q(at__gte=bounds[b.pk][0]), default=ZERO)
        for b in budgets
    }
    llm = AgentRun.objects.filter(started_at__gte=earliest).aggregate(**run_sums)
    api = ApiUsage.objects.filter(at__gte=earliest).aggregate(**api_sums)
    return [
        Spend(
            budget=b,
            llm=Decimal(llm[f"b{b.pk}"] or 0),
            api=Decimal(api[f"b{b.pk}"] or 0),
            period_start=bounds[b.pk][0],
            period_end=bounds[b.pk][1],
        )
        for b in budgets
    ]
