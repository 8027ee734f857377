"""Budget pauses: a "pause" budget that cost_monitor found exceeded holds the work in its scope.

A paused budget carries ``paused_until`` (the end of its period). Work in its scope (every agent
for a global budget; the agent, client or campaign it names otherwise) is held as queued rows due
at that time, never dropped: ``start_run`` dates new runs there, and cost_monitor re-dates the
runs already queued. Past ``paused_until`` the pause has lifted by itself. System agents (the
watchers: health, costs, escalations) are never paused, or nobody would notice the pause.
LLM calls of runs already running meet the brain's own per-call check (context.BrainHandle).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.signals import post_save

from agents.models import AgentRun, Budget

# How many queued runs one cost_monitor pass re-dates per budget (one short UPDATE).
DEFER_BATCH = 1000


def scope_q(budget: Budget, *, prefix: str = "") -> Q:
    """The AgentRun rows a budget covers (``prefix``: the path to the run, e.g. ``run__``)."""
    field = {
        Budget.Scope.GLOBAL: None,
        Budget.Scope.AGENT: "agent_name",
        Budget.Scope.CLIENT: "client_key",
        Budget.Scope.CAMPAIGN: "campaign_key",
    }[Budget.Scope(budget.scope)]
    return Q() if field is None else Q(**{f"{prefix}{field}": budget.key})


@dataclass
class _Wave:
    none_paused: bool


_wave: ContextVar[_Wave | None] = ContextVar("pauses_wave", default=None)
_waves: dict[int, _Wave] = {}


@contextmanager
def one_wave(now: dt.datetime) -> Iterator[None]:
    """The runs started inside (a wave of the simulated-time driver: the runs due at one look, or
    one step's ticks) ask once whether any budget is paused at all, instead of once each. With none
    paused at ``now`` none is paused later either, unless a budget is saved meanwhile (cost_monitor
    pausing one, an operator's edit): that ends the shortcut at once (``_budget_saved``)."""
    state = _Wave(none_paused=not Budget.objects.filter(active=True, paused_until__gt=now).exists())
    token = _wave.set(state)
    _waves[id(state)] = state
    try:
        yield
    finally:
        _waves.pop(id(state), None)
        _wave.reset(token)


def _budget_saved(**kwargs: Any) -> None:
    for state in list(_waves.values()):
        state.none_paused = False


post_save.connect(_budget_saved, sender=Budget, dispatch_uid="pauses_budget_saved")


def paused_until(
    *, agent_name: str, category: str, client_key: str, campaign_key: str, now: dt.datetime
) -> dt.datetime | None:
    """When the latest pause covering a new run of ``agent_name`` lifts, or None (not paused)."""
    if category == "system":
        return None
    wave = _wave.get()
    if wave is not None and wave.none_paused:
        return None
    applicable = Q(scope=Budget.Scope.GLOBAL) | Q(scope=Budget.Scope.AGENT, key=agent_name)
    if client_key:
        applicable |= Q(scope=Budget.Scope.CLIENT, key=client_key)
    if campaign_key:
        applicable |= Q(scope=Budget.Scope.CAMPAIGN, key=campaign_key)
    ends = [
        end
        for end in Budget.objects.filter(applicable, active=True, paused_until__gt=now).values_list(
            "paused_until", flat=True
        )
        if end is not None
    ]
    return max(ends, default=None)


def defer_queued_runs(*, budget: Budget, until: dt.datetime, system_agents: list[str]) -> int:
    """Re-date the queued runs in the budget's scope to ``until`` (call in the act's transaction).
    Unpublished: ``dispatch_due`` publishes them when due; a message already in the broker finds
    the run not due and leaves it (the claim checks due_at)."""
    queued: QuerySet[AgentRun] = (
        AgentRun.objects.filter(scope_q(budget), status=AgentRun.Status.QUEUED, due_at__lt=until)
        .exclude(agent_name__in=system_agents)
        .order_by("pk")
    )
    ids = list(queued.values_list("pk", flat=True)[:DEFER_BATCH])
    return AgentRun.objects.filter(pk__in=ids).update(due_at=until, enqueued_at=None) if ids else 0
