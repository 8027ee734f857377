"""client_health: every day, a 0-100 health score per current client, with the factors shown.

Facts: for each client not yet scored today, the four readings (delivery/agents/retention/_health.py:
payments, sentiment, delivery, engagement, each a value with the facts behind it) and the scores of
the last 30 days. Decides: the weighted score, and whether churn_risk should look (the score is low,
it fell, or the client is already at risk and may have recovered). Writes: one HealthSnapshot per
client and day (components = each reading with its value and weight) and Client.health_score.
A beat run scores at most ``BATCH`` clients and hands the rest to a run of its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from delivery.agents.retention import _health
from delivery.agents.retention._common import CURRENT
from delivery.models import HealthSnapshot
from delivery.services.retention import record_health_snapshot
from sales.models import Client

BATCH = 100
LOW = 55  # below this, churn_risk assesses the client every day
FALL_DAY = 8  # points lost since the last snapshot
FALL_MONTH = 15  # points lost from the best score of the last 30 days


class HealthInput(BaseModel):
    client_id: int | None = None
    after_id: int = 0  # a beat run's continuation: clients with a greater id


class ClientReading(Facts):
    client: Client
    readings: dict[str, _health.Reading]
    previous: int | None = None
    best_30d: int | None = None


class Due(Facts):
    today: dt.date
    clients: list[ClientReading]
    more_after: int | None = None  # the last id of a full batch: more clients may follow


class Scored(BaseModel):
    scored: dict[int, int] = Field(default_factory=dict)
    to_churn_risk: list[int] = Field(default_factory=list)
    already_scored: list[int] = Field(default_factory=list)
    continued_after: int | None = None


def needs_assessment(*, score: int, previous: int | None, best_30d: int | None, status: str) -> str:
    """Why churn_risk should look at this client today ("" when it need not)."""
    if status == Client.Status.AT_RISK:
        return "the client is at risk: see whether it recovered"
    if score < LOW:
        return f"score {score} is below {LOW}"
    if previous is not None and previous - score >= FALL_DAY:
        return f"score fell {previous - score} points since the last snapshot"
    if best_30d is not None and best_30d - score >= FALL_MONTH:
        return f"score fell {best_30d - score} points in 30 days"
    return ""


@register
class ClientHealth(Agent[HealthInput, Scored]):
    name, category, trigger, queue = "client_health", "retention", ("schedule", "handoff"), "delivery"
    Input, Facts, Output = HealthInput, Due, Scored
    schedule = "0 5 * * *"  # daily, before the business day: churn_risk's save plays go out in working hours
    next = ("churn_risk", "client_health")

    def load(self, ctx: RunContext, data: HealthInput) -> Due:
        now = ctx.now()
        today = now.date()
        clients = Client.objects.filter(status__in=CURRENT, pk__gt=data.after_id).select_related("company")
        if data.client_id is not None:
            clients = clients.filter(pk=data.client_id)
        batch = list(clients.exclude(health_snapshots__taken_on=today).order_by("pk")[:BATCH])
        # The batch's rows are read once per table, not per client (every current client, every day).
        history: dict[int, list[int]] = defaultdict(list)  # newest first
        recent = (
            HealthSnapshot.objects.filter(client__in=batch, taken_on__gte=today - dt.timedelta(days=30))
            .exclude(taken_on=today)
            .order_by("-taken_on")
            .values_list("client_id", "score")
        )
        for client_id, past in recent:
            history[client_id].append(past)
        readings = _health.read_many(batch, now=now)
        due = [
            ClientReading(
                client=client,
                readings=readings[client.pk],
                previous=history[client.pk][0] if history[client.pk] else None,
                best_30d=max(history[client.pk], default=None),
            )
            for client in batch
        ]
        more = batch[-1].pk if len(batch) == BATCH and data.client_id is None else None
        return Due(today=today, clients=due, more_after=more)

    def act(self, ctx: RunContext, facts: Due) -> Scored:
        out = Scored()
        for reading in facts.clients:
            client = ctx.lock(reading.client)
            if client.status not in CURRENT:
                continue
            if HealthSnapshot.objects.filter(client=client, taken_on=facts.today).exists():
                out.already_scored.append(client.pk)  # another run got there first: once per day
                continue
            score = _health.score(reading.readings)
            components = {name: r.model_dump() for name, r in reading.readings.items()}
            snapshot = record_health_snapshot(client=client, score=score, components=components, taken_on=facts.today)
            out.scored[client.pk] = score
            why = needs_assessment(
                score=score, previous=reading.previous, best_30d=reading.best_30d, status=client.status
            )
            if why:
                ctx.log.info("client %s: %s", client.pk, why)
                ctx.handoff("churn_risk", {"client_id": client.pk, "snapshot_id": snapshot.pk})
                out.to_churn_risk.append(client.pk)
        if facts.more_after is not None:
            ctx.handoff("client_health", {"after_id": facts.more_after})
            out.continued_after = facts.more_after
        return out
