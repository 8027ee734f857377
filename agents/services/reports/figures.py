"""The figures of a manager report, each from one query over the period's rows.

A figure is only ever a count, a sum or a ratio of two of them, over rows whose own time
(created, sent, signed, paid...) falls in ``[start, end)`` of business time: tests build a month of
rows with known counts and check every figure against them. Money is summed per currency (never
added across currencies). Ratios are None when their base is zero, and shown as "n/a".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, Sum
from django.db.models.functions import Coalesce

ZERO = Decimal("0")
CENT = Decimal("0.01")


def ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


@dataclass
class Stage:
    name: str
    count: int
    conversion: float | None = None  # from the previous stage


@dataclass
class CampaignLine:
    campaign: str
    variant: str
    sent: int
    replies: int
    positive: int
    meetings: int

    @property
    def reply_rate(self) -> float | None:
        return ratio(self.replies, self.sent)

    @property
    def positive_rate(self) -> float | None:
        return ratio(self.positive, self.sent)

    @property
    def meeting_rate(self) -> float | None:
        return ratio(self.meetings, self.sent)


@dataclass
class Figures:
    start: dt.datetime
    end: dt.datetime
    funnel: list[Stage] = field(default_factory=list)
    campaigns: list[CampaignLine] = field(default_factory=list)
    revenue: dict[str, dict[str, str]] = field(default_factory=dict)  # currency -> {invoiced, paid, overdue}
    overdue_invoices: int = 0
    delivery: dict[str, Any] = field(default_factory=dict)
    agents: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    daily_paid: dict[str, str] = field(default_factory=dict)  # ISO date -> paid that day (report currency)

    @property
    def empty(self) -> bool:
        return not any(s.count for s in self.funnel) and not self.agents.get("runs")


def _in(field_name: str, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


# The report's stages, each the console's stage of that key (smarter_team/dashboard/funnel.py), so a
# manager reading the report and the dashboard over the same days sees the same numbers; "positive
# replies" narrows the console's replies to the interested ones.
REPORT_STAGES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("leads found", "leads", {}),
    ("cold emails sent", "emailed", {}),
    ("replies", "replied", {}),
    ("positive replies", "replied", {"intent": "interested"}),
    ("meetings booked", "booked", {}),
    ("meetings held", "held", {}),
    ("proposals sent", "proposed", {}),
    ("proposals signed", "signed", {}),
    ("clients won", "clients", {}),
    ("invoices paid", "paid", {}),
)


def funnel(start: dt.datetime, end: dt.datetime) -> list[Stage]:
    from django.apps import apps

    from smarter_team.dashboard.funnel import STAGES

    console = {spec.key: spec for spec in STAGES}
    counts = []
    for name, key, narrower in REPORT_STAGES:
        spec = console[key]
        rows = apps.get_model(spec.model)._default_manager.filter(
            _in(spec.time_field, start, end), **spec.lookups, **narrower
        )
        counts.append((name, rows.count()))
    stages = []
    for position, (name, count) in enumerate(counts):
        previous = counts[position - 1][1] if position else None
        stages.append(Stage(name, count, ratio(count, previous) if previous is not None else None))
    return stages


def campaigns(start: dt.datetime, end: dt.datetime) -> list[CampaignLine]:
    """Per campaign and variant of the first email: sent, replies, positive replies, meetings."""
    from crm.models import Message
    from sales.models import Meeting

    sent = (
        Message.objects.filter(_in("sent_at", start, end), direction="out", enrollment__isnull=False)
        .values("enrollment_id", "enrollment__lead_id", "enrollment__campaign__name", "variant__label", "sent_at")
        .order_by("sent_at")
    )
    line_of: dict[int, tuple[str, str]] = {}
    lines: dict[tuple[str, str], CampaignLine] = {}
    lead_line: dict[int, tuple[str, str]] = {}
    for row in sent:
        key = line_of.setdefault(
            row["enrollment_id"], (row["enrollment__campaign__name"], row["variant__label"] or "-")
        )  # a reply counts for the variant the enrollment first received
        lead_line.setdefault(row["enrollment__lead_id"], key)
        lines.setdefault(key, CampaignLine(key[0], key[1], 0, 0, 0, 0)).sent += 1
    replies = Message.objects.filter(_in("created_at", start, end), direction="in", enrollment__isnull=False)
    for enrollment_id, intent in replies.values_list("enrollment_id", "intent"):
        line = line_of.get(enrollment_id) if enrollment_id is not None else None
        if line is None:
            continue  # a reply to an email sent before the period
        lines[line].replies += 1
        lines[line].positive += int(intent == "interested")
    # Discovery calls: a client's kickoff or check-in carries its contact as the lead, and is delivery.
    calls = Meeting.objects.filter(_in("created_at", start, end), lead__isnull=False, kind=Meeting.Kind.DISCOVERY)
    for lead_id in calls.values_list("lead_id", flat=True):
        if lead_id in lead_line:
            lines[lead_line[lead_id]].meetings += 1
    return sorted(lines.values(), key=lambda line: (line.campaign, line.variant))


def _money(queryset: Any, field_name: str) -> dict[str, Decimal]:
    # Quantized: SQLite's SUM drops the scale PostgreSQL keeps, and a report reads the same on both.
    return {
        row["currency"]: Decimal(row["total"]).quantize(CENT)
        for row in queryset.values("currency").annotate(
            total=Coalesce(Sum(field_name), ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
        )
    }


def revenue(start: dt.datetime, end: dt.datetime) -> tuple[dict[str, dict[str, str]], int, dict[str, str]]:
    from sales.models import Invoice, Payment

    invoiced = _money(Invoice.objects.filter(issued_on__gte=start.date(), issued_on__lt=end.date()), "amount")
    payments = Payment.objects.filter(_in("paid_at", start, end))
    paid = _money(payments.filter(status="succeeded"), "amount")
    refunded = _money(payments.filter(status="refunded"), "amount")
    overdue_rows = Invoice.objects.filter(status__in=["open", "uncollectible"], due_on__lt=end.date())
    overdue = _money(overdue_rows, "amount")
    out: dict[str, dict[str, str]] = {}
    for currency in sorted({*invoiced, *paid, *refunded, *overdue}):
        out[currency] = {
            "invoiced": str(invoiced.get(currency, ZERO)),
            "paid": str(paid.get(currency, ZERO) - refunded.get(currency, ZERO)),
            "overdue": str(overdue.get(currency, ZERO)),
        }
    daily: dict[str, Decimal] = defaultdict(lambda: ZERO)
    main = max(out, key=lambda c: Decimal(out[c]["paid"]), default="")
    for paid_at, amount, status in payments.filter(currency=main).values_list("paid_at", "amount", "status"):
        if paid_at is None:
            continue
        daily[paid_at.date().isoformat()] += amount if status == "succeeded" else -amount
    return out, overdue_rows.count(), {day: str(value) for day, value in sorted(daily.items())}


def delivery(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    from delivery.models import Milestone
    from sales.models import Client

    clients = Client.objects.aggregate(
        active=Count("pk", filter=Q(status__in=["onboarding", "active", "at_risk"])),
        at_risk=Count("pk", filter=Q(status="at_risk")),
    )
    healthy = Client.objects.filter(status__in=["onboarding", "active", "at_risk"], health_score__isnull=False)
    scores = [s for s in healthy.values_list("health_score", flat=True) if s is not None]
    return {
        "active clients": clients["active"],
        "at risk": clients["at_risk"],
        "average health": round(sum(scores) / len(scores), 1) if scores else None,
        "milestones done": Milestone.objects.filter(
            _in("updated_at", start, end), status__in=["done", "accepted"]
        ).count(),
        "milestones late": Milestone.objects.filter(due_on__lt=end.date())
        .exclude(status__in=["done", "accepted"])
        .count(),
        "clients churned": Client.objects.filter(_in("updated_at", start, end), status="churned").count(),
    }


def agent_health(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    from agents.models import AgentRun
    from learning.models import KnowledgeRule

    runs = AgentRun.objects.filter(_in("created_at", start, end))
    by_status = dict(runs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    failing = list(
        runs.filter(status="failed")
        .values("agent_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "agent_name")
        .values_list("agent_name", "n")[:5]
    )
    learned = KnowledgeRule.objects.filter(_in("approved_at", start, end))
    active = KnowledgeRule.objects.filter(status="active", holdout_lift__isnull=False)
    lifts = [float(v) for v in active.values_list("holdout_lift", flat=True) if v is not None]
    return {
        "runs": sum(by_status.values()),
        "succeeded": by_status.get("succeeded", 0),
        "failed": by_status.get("failed", 0),
        "failure rate": ratio(by_status.get("failed", 0), sum(by_status.values())),
        "most failing": [{"agent": a, "failed": n} for a, n in failing],
        "rules learned": learned.count(),
        "average lift of active rules": round(sum(lifts) / len(lifts), 4) if lifts else None,
    }


def cost(start: dt.datetime, end: dt.datetime, *, leads: int) -> dict[str, Any]:
    from agents.models import AgentRun
    from integrations.models import ApiUsage

    runs = AgentRun.objects.filter(_in("started_at", start, end))
    money = DecimalField(max_digits=14, decimal_places=6)
    per_agent = [
        {"agent": a, "cost": str(Decimal(c).quantize(Decimal("0.000001")))}
        for a, c in runs.values("agent_name")
        .annotate(c=Coalesce(Sum("cost"), ZERO, output_field=money))
        .filter(c__gt=0)
        .order_by("-c", "agent_name")
        .values_list("agent_name", "c")[:10]
    ]
    per_client = [
        {"client": k, "cost": str(Decimal(c).quantize(Decimal("0.000001")))}
        for k, c in runs.exclude(client_key="")
        .values("client_key")
        .annotate(c=Coalesce(Sum("cost"), ZERO, output_field=money))
        .order_by("-c")
        .values_list("client_key", "c")[:10]
    ]
    totals = runs.aggregate(
        llm=Coalesce(Sum("cost"), ZERO, output_field=money),
        fresh=Coalesce(Sum("tokens_in"), 0),
        cached=Coalesce(Sum("cache_read_tokens"), 0),
    )
    api = ApiUsage.objects.filter(_in("at", start, end)).aggregate(c=Coalesce(Sum("cost"), ZERO, output_field=money))
    micro = Decimal("0.000001")  # the cost fields' scale, on SQLite too
    llm, api_cost = Decimal(totals["llm"]).quantize(micro), Decimal(api["c"]).quantize(micro)
    total = llm + api_cost
    return {
        "llm": str(llm),
        "api": str(api_cost),
        "total": str(total),
        "per lead": str((total / leads).quantize(Decimal("0.0001"))) if leads else None,
        "cache hit rate": ratio(totals["cached"], totals["cached"] + totals["fresh"]),
        "per agent": per_agent,
        "per client": per_client,
    }


def figures(start: dt.datetime, end: dt.datetime) -> Figures:
    out = Figures(start=start, end=end)
    out.funnel = funnel(start, end)
    out.campaigns = campaigns(start, end)
    out.revenue, out.overdue_invoices, out.daily_paid = revenue(start, end)
    out.delivery = delivery(start, end)
    out.agents = agent_health(start, end)
    out.cost = cost(start, end, leads=out.funnel[0].count)
    return out
