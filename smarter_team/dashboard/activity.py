"""Today's activity on the business clock: runs (and their hours), emails, replies, meetings, payments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour

from smarter_team.dashboard.links import Figure, between, changelist, count_figure, rows

IN_FLIGHT = ("queued", "running", "escalated")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class HourBar:
    hour: int
    count: int
    height: float  # percent of the busiest hour
    url: str

    # Geometry in the chart's viewBox (240 x 64): a 10-unit slot per hour, bars up to 60 high.
    @property
    def x(self) -> int:
        return self.hour * 10 + 1

    @property
    def bar_height(self) -> float:
        return max(0.6 * self.height, 1.0 if self.count else 0.0)

    @property
    def y(self) -> float:
        return 62 - self.bar_height


@dataclass(frozen=True)
class Activity:
    day: dt.date
    runs: Figure
    runs_failed: Figure
    hours: list[HourBar]
    in_flight: list[Figure]
    figures: list[Figure]
    paid: dict[str, str] = field(default_factory=dict)  # currency -> amount received today


def business_day(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The business day holding ``now``, midnight to midnight in the project's time zone."""
    from django.utils import timezone

    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def _hours(start: dt.datetime, end: dt.datetime) -> list[HourBar]:
    per_hour = {
        row["hour"].astimezone(start.tzinfo).hour: row["n"]
        for row in rows("agents.AgentRun", between("created_at", start, end))
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by()
    }
    busiest = max(per_hour.values(), default=0)
    bars = []
    for hour in range(24):
        at = start + dt.timedelta(hours=hour)
        count = per_hour.get(hour, 0)
        url = changelist("agents.AgentRun", between("created_at", at, at + dt.timedelta(hours=1)))
        bars.append(HourBar(hour, count, round(100 * count / busiest, 1) if busiest else 0.0, url))
    return bars


def activity(now: dt.datetime) -> Activity:
    start, end = business_day(now)
    today = between("created_at", start, end)
    runs = rows("agents.AgentRun", today).aggregate(total=Count("pk"), failed=Count("pk", filter=Q(status="failed")))
    in_flight = dict(
        rows("agents.AgentRun", {"status__in": IN_FLIGHT}).values_list("status").annotate(n=Count("pk")).order_by()
    )
    succeeded = {"status": "succeeded", **between("paid_at", start, end)}
    paid = {
        row["currency"]: str(Decimal(row["total"]).quantize(CENT))
        for row in rows("sales.Payment", succeeded).values("currency").annotate(total=Sum("amount")).order_by()
    }
    return Activity(
        day=start.date(),
        runs=Figure("runs-today", "Agent runs", runs["total"], changelist("agents.AgentRun", today)),
        runs_failed=Figure(
            "runs-failed-today",
            "failed",
            runs["failed"],
            changelist("agents.AgentRun", {"status": "failed", **today}),
        ),
        hours=_hours(start, end),
        in_flight=[
            Figure(
                f"runs-{status}", status, in_flight.get(status, 0), changelist("agents.AgentRun", {"status": status})
            )
            for status in IN_FLIGHT
        ],
        figures=[
            count_figure(
                "emails-sent-today",
                "Emails sent",
                "crm.Message",
                {"direction": "out", **between("sent_at", start, end)},
            ),
            count_figure(
                "replies-today",
                "Replies received",
                "crm.Message",
                {"direction": "in", "status": "delivered", **today},
            ),
            count_figure("meetings-booked-today", "Meetings booked", "sales.Meeting", today),
            count_figure(
                "meetings-today", "Meetings on today's calendar", "sales.Meeting", between("starts_at", start, end)
            ),
            count_figure("payments-today", "Payments received", "sales.Payment", succeeded),
        ],
        paid=paid,
    )
