"""health_check: the database, the broker, beat's last tick and each configured integration.

The probes run in ``load`` (network calls, outside any transaction); ``act`` writes one
HealthCheck row per component and escalates a component that is down twice in a row, once, or
resolves its escalation when it answers again. The workers are pinged by beat itself
(agents/services/health.py ``watch_workers``): a dead worker pool cannot run this agent.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.registry import register
from agents.services import health
from agents.services.health import Probe


class ComponentHealth(BaseModel):
    component: str
    status: str
    latency_ms: int | None = None
    detail: str = ""


class HealthReport(BaseModel):
    components: list[ComponentHealth] = Field(default_factory=list)
    down: list[str] = Field(default_factory=list)
    escalated: list[str] = Field(default_factory=list)
    recovered: list[str] = Field(default_factory=list)


class Probes(Facts):
    probes: list[Probe]
    previous: dict[str, str]


@register
class HealthCheckAgent(Agent[Empty, HealthReport]):
    """Database, broker, beat and each configured integration; escalates a component down twice."""

    name = "health_check"
    category = "system"
    trigger = "schedule"
    schedule = 300
    idle_finds_nothing = True
    Facts = Probes
    Output = HealthReport
    # A hung probe must not hold the run: each probe has its own short timeout.
    time_limit = 120
    lease_seconds = 300

    def load(self, ctx: RunContext, data: Empty) -> Probes:
        probes = [health.probe_database(), health.probe_broker(), health.probe_beat(), *health.probe_integrations()]
        return Probes(probes=probes, previous=health.latest_statuses([p.component for p in probes]))

    def act(self, ctx: RunContext, facts: Probes) -> HealthReport:
        decided = health.record_probes(facts.probes, previous=facts.previous, run=ctx.run)
        return HealthReport(
            components=[ComponentHealth(**p.model_dump()) for p in facts.probes],
            down=[p.component for p in facts.probes if p.down],
            escalated=decided["escalated"],
            recovered=decided["recovered"],
        )
