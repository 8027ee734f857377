"""What needs a person: open escalations by age and group, failing agents and integrations, spend
against budgets, and the health the system agents last recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q

from smarter_team.dashboard.links import Figure, changelist, count_figure, rows

# Age buckets of open escalations: (label, youngest, oldest); None is open-ended.
AGE_BUCKETS: tuple[tuple[str, dt.timedelta, dt.timedelta | None], ...] = (
    ("< 4 h", dt.timedelta(0), dt.timedelta(hours=4)),
    ("4-24 h", dt.timedelta(hours=4), dt.timedelta(hours=24)),
    ("1-3 d", dt.timedelta(hours=24), dt.timedelta(days=3)),
    ("> 3 d", dt.timedelta(days=3), None),
)
GROUPS = ("operator", "manager", "admin")
RECENT = dt.timedelta(hours=24)
FAILING_SHOWN = 10
BUDGETS_SHOWN = 20


# --- escalations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRow:
    group: str
    cells: list[Figure]  # one per age bucket
    overdue: Figure
    total: Figure


def _age(now: dt.datetime, youngest: dt.timedelta, oldest: dt.timedelta | None) -> dict[str, Any]:
    lookups: dict[str, Any] = {"created_at__lte": now - youngest}
    if oldest is not None:
        lookups["created_at__gt"] = now - oldest
    return lookups


def escalations(now: dt.datetime) -> list[EscalationRow]:
    """One aggregate per group and bucket in a single query (open escalations are few, and indexed)."""
    counts: dict[str, Any] = {}
    for g in GROUPS:
        counts[f"{g}_total"] = Count("pk", filter=Q(assigned_group=g))
        counts[f"{g}_overdue"] = Count("pk", filter=Q(assigned_group=g, due_by__lt=now))
        for i, (_, youngest, oldest) in enumerate(AGE_BUCKETS):
            counts[f"{g}_{i}"] = Count("pk", filter=Q(assigned_group=g, **_age(now, youngest, oldest)))
    found = rows("agents.Escalation", {"status": "open"}).aggregate(**counts)
    table = []
    for g in GROUPS:
        open_in_group = {"status": "open", "assigned_group": g}
        table.append(
            EscalationRow(
                group=g,
                cells=[
                    Figure(
                        f"escalations-{g}-{i}",
                        label,
                        found[f"{g}_{i}"],
                        changelist("agents.Escalation", {**open_in_group, **_age(now, youngest, oldest)}),
                    )
                    for i, (label, youngest, oldest) in enumerate(AGE_BUCKETS)
                ],
                overdue=Figure(
                    f"escalations-{g}-overdue",
                    "overdue",
                    found[f"{g}_overdue"],
                    changelist("agents.Escalation", {**open_in_group, "due_by__lt": now}),
                ),
                total=Figure(
                    f"escalations-{g}", g, found[f"{g}_total"], changelist("agents.Escalation", open_in_group)
                ),
            )
        )
    return table


# --- failing agents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailingAgent:
    agent_name: str
    runs: int
    failed: Figure
    last_failed_at: dt.datetime | None

    @property
    def failure_rate(self) -> float:
        return self.failed.count / self.runs if self.runs else 0.0

    @property
    def failure_percent(self) -> float:
        return round(100 * self.failure_rate, 1)


def failing_agents(now: dt.datetime) -> tuple[list[FailingAgent], Figure]:
    """The agents with failed runs in the last day, most failures first, and the unresolved errors."""
    since = now - RECENT
    recent = {"created_at__gte": since}
    per_agent = (
        rows("agents.AgentRun", recent)
        .values("agent_name")
        .annotate(
            runs=Count("pk"),
            failed=Count("pk", filter=Q(status="failed")),
            last=Max("finished_at", filter=Q(status="failed")),
        )
        .filter(failed__gt=0)
        .order_by("-failed", "agent_name")[:FAILING_SHOWN]
    )
    agents = [
        FailingAgent(
            agent_name=row["agent_name"],
            runs=row["runs"],
            failed=Figure(
                f"failing-{row['agent_name']}",
                row["agent_name"],
                row["failed"],
                changelist("agents.AgentRun", {"status": "failed", "agent_name": row["agent_name"], **recent}),
            ),
            last_failed_at=row["last"],
        )
        for row in per_agent
    ]
    errors = count_figure(
        "errors-open",
        "Unresolved errors",
        "learning.ErrorLog",
        {"resolved_at__isnull": True, "occurred_at__gte": since},
    )
    return agents, errors


# --- integrations and health -----------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    component: str
    status: str
    checked_at: dt.datetime
    latency_ms: int | None
    detail: str
    url: str


def latest_checks(wall_now: dt.datetime) -> dict[str, Check]:
    """Each component's last check of the past day: two queries however many checks were recorded."""
    recent = rows("agents.HealthCheck", {"checked_at__gte": wall_now - RECENT})
    last = dict(recent.values_list("component").annotate(at=Max("checked_at")).order_by())
    if not last:
        return {}
    match = Q()
    for component, at in last.items():
        match |= Q(component=component, checked_at=at)
    checks: dict[str, Check] = {}
    for row in recent.filter(match).order_by("component", "-pk"):
        checks.setdefault(
            row.component,
            Check(
                row.component,
                row.status,
                row.checked_at,
                row.latency_ms,
                row.detail,
                changelist("agents.HealthCheck", {"component": row.component}),
            ),
        )
    return checks


@dataclass(frozen=True)
class Integration:
    provider: str
    calls: int
    calls_failed: Figure
    webhooks: int
    webhooks_failed: Figure
    webhooks_rejected: Figure
    check: Check | None

    @property
    def status(self) -> str:
        if self.check is not None and self.check.status != "ok":
            return self.check.status
        troubled = self.calls_failed.count or self.webhooks_failed.count or self.webhooks_rejected.count
        return "degraded" if troubled else "ok"


def integrations(now: dt.datetime, checks: dict[str, Check]) -> list[Integration]:
    """Per provider over the last day: outbound calls that failed, webhooks that failed or were
    refused, and the provider's last health check."""
    since = now - RECENT
    calls = {
        row["provider"]: row
        for row in rows("integrations.ApiUsage", {"at__gte": since})
        .values("provider")
        .annotate(n=Count("pk"), failed=Count("pk", filter=Q(success=False)))
        .order_by()
    }
    hooks = {
        row["provider"]: row
        for row in rows("integrations.WebhookEvent", {"received_at__gte": since})
        .values("provider")
        .annotate(
            n=Count("pk"),
            failed=Count("pk", filter=Q(status="failed")),
            rejected=Count("pk", filter=Q(status="rejected")),
        )
        .order_by()
    }
    checked = {c.removeprefix("integration:"): check for c, check in checks.items() if c.startswith("integration:")}
    found = []
    for provider in sorted({*calls, *hooks, *checked}):
        call, hook = calls.get(provider, {}), hooks.get(provider, {})
        hook_lookups = {"provider": provider, "received_at__gte": since}
        found.append(
            Integration(
                provider=provider,
                calls=call.get("n", 0),
                calls_failed=Figure(
                    f"calls-failed-{provider}",
                    "failed calls",
                    call.get("failed", 0),
                    changelist("integrations.ApiUsage", {"provider": provider, "success": False, "at__gte": since}),
                ),
                webhooks=hook.get("n", 0),
                webhooks_failed=Figure(
                    f"webhooks-failed-{provider}",
                    "failed webhooks",
                    hook.get("failed", 0),
                    changelist("integrations.WebhookEvent", {**hook_lookups, "status": "failed"}),
                ),
                webhooks_rejected=Figure(
                    f"webhooks-rejected-{provider}",
                    "rejected webhooks",
                    hook.get("rejected", 0),
                    changelist("integrations.WebhookEvent", {**hook_lookups, "status": "rejected"}),
                ),
                check=checked.get(provider),
            )
        )
    return found


# --- budgets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    label: str
    period: str
    on_exceed: str
    spent: Decimal
    limit: Decimal
    currency: str
    percent: float | None  # of the limit; None for a zero limit
    paused_until: dt.datetime | None
    url: str  # the budget itself
    runs_url: str  # the runs whose cost it counts, this period

    @property
    def bar(self) -> float:
        return min(self.percent or 0.0, 100.0)

    @property
    def level(self) -> str:
        if self.percent is None or self.percent >= 100:
            return "over"
        return "near" if self.percent >= 80 else "ok"


def budgets(now: dt.datetime) -> list[BudgetLine]:
    """Active budgets and their spend this period (LLM and provider calls): three queries in all."""
    from django.urls import reverse

    from agents.models import Budget
    from agents.services.costs import spend_per_budget
    from agents.services.pauses import scope_q

    active = list(Budget.objects.filter(active=True).order_by("scope", "key", "period")[:BUDGETS_SHOWN])
    lines = []
    for spend in spend_per_budget(active, now=now):
        b = spend.budget
        share = spend.share
        scope: dict[str, Any] = dict(scope_q(b).children)  # type: ignore[arg-type]  # (field, key) pairs
        lines.append(
            BudgetLine(
                label=f"{b.scope} {b.key}".strip(),
                period=b.period,
                on_exceed=b.get_on_exceed_display(),
                spent=spend.total.quantize(Decimal("0.0001")),
                limit=b.limit,
                currency=b.currency,
                percent=round(100 * share, 1) if share is not None else None,
                paused_until=b.paused_until if b.paused_until and b.paused_until > now else None,
                url=reverse("admin:agents_budget_change", args=[b.pk]),
                runs_url=changelist("agents.AgentRun", {**scope, "started_at__gte": spend.period_start}),
            )
        )
    return lines
