"""The four readings of a client's health, each a 0-100 value with the facts behind it.

client_health weighs them into the score; churn_risk reads them back from the snapshot to say why.
Each reading names what it counted (``facts``, readable; ``data``, the numbers), so the score a
manager sees in the admin can be checked against the invoices, messages and milestones it came from.
The penalties are judgements about what a client would feel, not fitted figures; what matters is
their order (an invoice 40 days late weighs more than one 3 days late).

client_health reads every current client every day, so the rows behind the readings are read for a
whole batch of clients at once (``Rows.read``: one statement per table, not fourteen per client);
each reading then works from those rows alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from django.db.models import Count, Max, Q
from pydantic import BaseModel, Field

from crm.models import Conversation, Message
from delivery.models import ChangeRequest, ClientReport, Milestone, Project, QAReview, SurveyResponse
from sales.models import Client, Invoice, Meeting, Payment

WEIGHTS = {"payments": 0.30, "sentiment": 0.25, "delivery": 0.25, "engagement": 0.20}
NO_DATA = 70  # a reading with nothing to go on: neither good news nor bad
SENTIMENT_VALUES = {"positive": 85, "neutral": 65, "negative": 25}
NEGATIVE_INTENTS = ("not_interested", "unsubscribe")
SENT = (
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.OPENED,
    Message.Status.CLICKED,
    Message.Status.REPLIED,
)


class Reading(BaseModel):
    value: int
    weight: float
    facts: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Rows:
    """What the readings of a batch of clients are made from, read once per table for the batch.
    Per client (or per company, for the threads, which belong to the company's leads)."""

    invoices: dict[int, list[Invoice]] = field(default_factory=lambda: defaultdict(list))
    failed_payments: dict[int, int] = field(default_factory=dict)
    sentiment: dict[int, str] = field(default_factory=dict)  # company: its latest thread's
    surveys: dict[tuple[int, str], SurveyResponse] = field(default_factory=dict)  # (client, kind): latest
    negatives: dict[int, int] = field(default_factory=dict)  # company
    milestones: dict[int, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    qa: dict[int, tuple[int, int]] = field(default_factory=dict)  # (failed, passed)
    waiting: dict[int, int] = field(default_factory=dict)
    inbound: dict[int, tuple[dt.datetime, int]] = field(default_factory=dict)  # company: (last, last 30 days)
    last_out: dict[int, dt.datetime | None] = field(default_factory=dict)  # company
    held: dict[int, tuple[dt.datetime, int]] = field(default_factory=dict)  # (last, last 60 days)
    last_report: dict[int, dt.datetime | None] = field(default_factory=dict)

    @classmethod
    def read(cls, clients: Sequence[Client], *, now: dt.datetime) -> Rows:
        rows = cls()
        ids = [c.pk for c in clients]
        companies = {c.company_id for c in clients}
        if not ids:
            return rows
        for invoice in Invoice.objects.filter(client__in=ids).exclude(status=Invoice.Status.VOID).order_by("pk"):
            rows.invoices[invoice.client_id].append(invoice)
        rows.failed_payments = _counts(
            Payment.objects.filter(
                invoice__client__in=ids, status=Payment.Status.FAILED, created_at__gte=now - dt.timedelta(days=90)
            ),
            "invoice__client_id",
        )
        # The latest thread with a sentiment, per company: in the database's own order (where NULLs of
        # last_message_at fall differs between backends), the first row of each company wins.
        threads = (
            Conversation.objects.filter(lead__company_id__in=companies)
            .exclude(sentiment="")
            .order_by("-last_message_at", "-pk")
            .values_list("lead__company_id", "sentiment")
        )
        for company, mood in threads:
            rows.sentiment.setdefault(company, mood)
        surveys = SurveyResponse.objects.filter(
            client__in=ids,
            kind__in=("nps", "csat"),
            score__isnull=False,
            responded_at__gte=now - dt.timedelta(days=180),
        ).order_by("-responded_at", "-pk")
        for survey in surveys:
            rows.surveys.setdefault((survey.client_id, survey.kind), survey)
        rows.negatives = _counts(
            Message.objects.filter(
                conversation__lead__company_id__in=companies,
                direction=Message.Direction.IN,
                intent__in=NEGATIVE_INTENTS,
                created_at__gte=now - dt.timedelta(days=90),
            ),
            "conversation__lead__company_id",
        )
        milestones = (
            Milestone.objects.filter(project__client__in=ids)
            .exclude(project__status=Project.Status.CANCELED)
            .select_related("project")  # in the model's order (project, order): the facts read in plan order
        )
        for milestone in milestones:
            rows.milestones[milestone.project.client_id].append(milestone)
        reviews = (
            QAReview.objects.filter(
                deliverable__milestone__project__client__in=ids, created_at__gte=now - dt.timedelta(days=60)
            )
            .values("deliverable__milestone__project__client_id")
            .annotate(
                failed=Count("pk", filter=Q(verdict=QAReview.Verdict.FAIL)),
                passed=Count("pk", filter=Q(verdict=QAReview.Verdict.PASS)),
            )
            .order_by()
        )
        rows.qa = {r["deliverable__milestone__project__client_id"]: (r["failed"], r["passed"]) for r in reviews}
        rows.waiting = _counts(
            ChangeRequest.objects.filter(
                project__client__in=ids,
                status__in=[
                    ChangeRequest.Status.DETECTED,
                    ChangeRequest.Status.PRICED,
                    ChangeRequest.Status.AWAITING_APPROVAL,
                ],
                created_at__lt=now - dt.timedelta(days=7),
            ),
            "project__client_id",
        )
        company_messages = Message.objects.filter(conversation__lead__company_id__in=companies)
        inbound = (
            company_messages.filter(direction=Message.Direction.IN)
            .values("conversation__lead__company_id")
            .annotate(at=Max("created_at"), recent=Count("pk", filter=Q(created_at__gte=now - dt.timedelta(days=30))))
            .order_by()
        )
        rows.inbound = {r["conversation__lead__company_id"]: (r["at"], r["recent"]) for r in inbound}
        rows.last_out = _latest(
            company_messages.filter(direction=Message.Direction.OUT, status__in=SENT),
            "conversation__lead__company_id",
            "sent_at",
        )
        held = (
            Meeting.objects.filter(
                client__in=ids, status__in=[Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP], starts_at__lte=now
            )
            .values("client_id")
            .annotate(at=Max("starts_at"), recent=Count("pk", filter=Q(starts_at__gte=now - dt.timedelta(days=60))))
            .order_by()
        )
        rows.held = {r["client_id"]: (r["at"], r["recent"]) for r in held}
        rows.last_report = _latest(
            ClientReport.objects.filter(client__in=ids, sent_at__isnull=False), "client_id", "sent_at"
        )
        return rows


def _counts(queryset: Any, key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in queryset.values(key).annotate(n=Count("pk")).order_by()}


def _latest(queryset: Any, key: str, moment: str) -> dict[int, dt.datetime | None]:
    return {row[key]: row["at"] for row in queryset.values(key).annotate(at=Max(moment)).order_by()}


def _clamp(value: float) -> int:
    return round(min(100.0, max(0.0, value)))


def payments(client: Client, *, now: dt.datetime, rows: Rows | None = None) -> Reading:
    rows = rows or Rows.read([client], now=now)
    today = now.date()
    invoices = rows.invoices.get(client.pk, [])
    overdue = sorted(
        (i for i in invoices if i.status == Invoice.Status.OPEN and i.due_on < today), key=lambda i: i.due_on
    )
    uncollectible = [i for i in invoices if i.status == Invoice.Status.UNCOLLECTIBLE]
    failed = rows.failed_payments.get(client.pk, 0)
    paid_late = [
        i
        for i in invoices
        if i.status == Invoice.Status.PAID
        and i.paid_at is not None
        and i.paid_at >= now - dt.timedelta(days=180)
        and i.paid_at.date() > i.due_on
    ]
    late_days = [(today - i.due_on).days for i in overdue]
    value = 100 - sum(min(60, 10 + d) for d in late_days) - 50 * len(uncollectible) - 10 * failed - 5 * len(paid_late)
    facts = [f"{i.number} overdue by {(today - i.due_on).days} days ({i.amount} {i.currency})" for i in overdue]
    facts += [f"{i.number} uncollectible" for i in uncollectible]
    if failed:
        facts.append(f"{failed} failed payment(s) in the last 90 days")
    if paid_late:
        facts.append(f"{len(paid_late)} invoice(s) paid late in the last 180 days")
    if not invoices:
        facts.append("no invoices yet")
    elif not facts:
        facts.append(f"all {len(invoices)} invoice(s) paid or not yet due")
    data = {
        "invoices": len(invoices),
        "overdue": len(overdue),
        "max_days_overdue": max(late_days, default=0),
        "uncollectible": len(uncollectible),
        "failed_payments_90d": failed,
        "paid_late_180d": len(paid_late),
    }
    return Reading(value=_clamp(value), weight=WEIGHTS["payments"], facts=facts, data=data)


def sentiment(client: Client, *, now: dt.datetime, rows: Rows | None = None) -> Reading:
    rows = rows or Rows.read([client], now=now)
    latest = rows.sentiment.get(client.company_id)
    nps, csat = rows.surveys.get((client.pk, "nps")), rows.surveys.get((client.pk, "csat"))
    negatives = rows.negatives.get(client.company_id, 0)
    parts: list[float] = []
    facts: list[str] = []
    if latest in SENTIMENT_VALUES:
        parts.append(SENTIMENT_VALUES[latest])
        facts.append(f"conversation sentiment {latest}")
    if nps is not None and nps.score is not None:
        parts.append(nps.score * 10)
        facts.append(f"NPS {nps.score} on {nps.responded_at:%Y-%m-%d} ({nps.analysis or 'scored'})")
    if csat is not None and csat.score is not None:
        parts.append((csat.score - 1) * 25)
        facts.append(f"CSAT {csat.score}/5 on {csat.responded_at:%Y-%m-%d}")
    if negatives:
        facts.append(f"{negatives} negative message(s) in the last 90 days")
    if not parts:
        facts.append("no sentiment, NPS or CSAT yet")
    value = (mean(parts) if parts else NO_DATA) - 20 * negatives
    data = {
        "conversation": latest or "",
        "nps": nps.score if nps else None,
        "csat": csat.score if csat else None,
        "negative_messages_90d": negatives,
    }
    return Reading(value=_clamp(value), weight=WEIGHTS["sentiment"], facts=facts, data=data)


def delivery(client: Client, *, now: dt.datetime, rows: Rows | None = None) -> Reading:
    rows = rows or Rows.read([client], now=now)
    today = now.date()
    milestones = rows.milestones.get(client.pk, [])
    open_states = (Milestone.Status.PENDING, Milestone.Status.IN_PROGRESS, Milestone.Status.AT_RISK)
    late = [m for m in milestones if m.status in open_states and m.due_on is not None and m.due_on < today]
    flagged = [m for m in milestones if m.status == Milestone.Status.AT_RISK and m not in late]
    delivered = [
        m
        for m in milestones
        if m.status in (Milestone.Status.DONE, Milestone.Status.ACCEPTED)
        and m.updated_at >= now - dt.timedelta(days=90)
    ]
    qa_failed, qa_passed = rows.qa.get(client.pk, (0, 0))
    waiting = rows.waiting.get(client.pk, 0)
    slip_days = [(today - m.due_on).days for m in late if m.due_on is not None]
    base = 100 if milestones else NO_DATA
    value = base - sum(min(40, 10 + 2 * d) for d in slip_days) - 10 * len(flagged) - 15 * qa_failed - 10 * waiting
    facts = [f"milestone {m.name!r} slipping by {(today - m.due_on).days} days" for m in late if m.due_on]
    facts += [f"milestone {m.name!r} flagged at risk" for m in flagged]
    if delivered:
        facts.append(f"{len(delivered)} milestone(s) delivered in the last 90 days")
    if qa_failed or qa_passed:
        facts.append(f"QA in the last 60 days: {qa_passed} passed, {qa_failed} failed")
    if waiting:
        facts.append(f"{waiting} change request(s) waiting over 7 days for an answer")
    if not milestones:
        facts.append("no milestones yet")
    data = {
        "milestones": len(milestones),
        "slipping": len(late),
        "max_slip_days": max(slip_days, default=0),
        "flagged": len(flagged),
        "delivered_90d": len(delivered),
        "qa_failed_60d": qa_failed,
        "qa_passed_60d": qa_passed,
        "change_requests_waiting": waiting,
    }
    return Reading(value=_clamp(value), weight=WEIGHTS["delivery"], facts=facts, data=data)


def _recency(days: int) -> int:
    for limit, value in ((7, 100), (14, 85), (30, 60), (60, 30)):
        if days <= limit:
            return value
    return 10


def engagement(client: Client, *, now: dt.datetime, rows: Rows | None = None) -> Reading:
    """How alive the relationship is: when the client last wrote or met us weighs most; when we last
    reached out (an email, a report) counts too, but our own emails alone do not make it two-way."""
    rows = rows or Rows.read([client], now=now)
    last_in, replies_30d = rows.inbound.get(client.company_id, (None, 0))
    last_out = rows.last_out.get(client.company_id)
    last_meeting, meetings_60d = rows.held.get(client.pk, (None, 0))
    last_report = rows.last_report.get(client.pk)
    started = dt.datetime.combine(client.started_on or now.date(), dt.time(), tzinfo=dt.UTC)

    def days_since(*moments: dt.datetime | None) -> int:
        return max(0, (now - max((m for m in moments if m is not None and m <= now), default=started)).days)

    theirs, ours_days = days_since(last_in, last_meeting), days_since(last_out, last_report)
    value = (
        0.45 * _recency(theirs)
        + 0.25 * _recency(ours_days)
        + 0.15 * (100 if replies_30d else 40)
        + 0.15 * (100 if meetings_60d else 50)
    )
    facts = [
        f"{theirs} days since the client last wrote or met us",
        f"{ours_days} days since we last wrote or reported",
        f"{replies_30d} message(s) from the client in the last 30 days",
        f"{meetings_60d} meeting(s) held in the last 60 days",
    ]
    if last_report is not None:
        facts.append(f"last report sent {last_report:%Y-%m-%d}")
    data = {
        "days_since_client_contact": theirs,
        "days_since_our_contact": ours_days,
        "replies_30d": replies_30d,
        "meetings_60d": meetings_60d,
    }
    return Reading(value=_clamp(value), weight=WEIGHTS["engagement"], facts=facts, data=data)


READINGS = {"payments": payments, "sentiment": sentiment, "delivery": delivery, "engagement": engagement}


def read_all(client: Client, *, now: dt.datetime, rows: Rows | None = None) -> dict[str, Reading]:
    rows = rows or Rows.read([client], now=now)
    return {name: read(client, now=now, rows=rows) for name, read in READINGS.items()}


def read_many(clients: Iterable[Client], *, now: dt.datetime) -> dict[int, dict[str, Reading]]:
    """Every client's four readings, from one read of each table for the lot."""
    batch = list(clients)
    rows = Rows.read(batch, now=now)
    return {client.pk: read_all(client, now=now, rows=rows) for client in batch}


def score(readings: dict[str, Reading]) -> int:
    total = sum(r.weight for r in readings.values())
    return _clamp(sum(r.value * r.weight for r in readings.values()) / total) if total else NO_DATA
