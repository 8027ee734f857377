"""The learning system agents: error_monitoring, learning_extraction, agent_performance.

Thin classes: the work is in ``learning.services`` (monitoring, extraction, performance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts, LLMAgent
from agents.context import RunContext
from agents.errors import BrainOutputInvalid
from agents.models import Escalation
from agents.registry import register
from learning.conditions import describe
from learning.derivation import NoRule
from learning.services import extraction, monitoring, performance
from learning.services.monitoring import Spike


class SpikeOut(BaseModel):
    kind: str
    name: str
    count: int
    baseline_per_window: float
    escalation_id: int


class MonitoringOutput(BaseModel):
    spikes: list[SpikeOut] = Field(default_factory=list)


class Spikes(Facts):
    spikes: list[Spike]


@register
class ErrorMonitoring(Agent[Empty, MonitoringOutput]):
    """Error spikes per agent/integration against their own 24h baseline -> one open escalation each."""

    name = "error_monitoring"
    category = "system"
    trigger = "schedule"
    schedule = 300
    idle_finds_nothing = True
    Facts = Spikes
    Output = MonitoringOutput

    def load(self, ctx: RunContext, data: Empty) -> Spikes:
        return Spikes(spikes=monitoring.detect_spikes(now=ctx.now()))

    def act(self, ctx: RunContext, facts: Spikes) -> MonitoringOutput:
        out = MonitoringOutput()
        for spike in facts.spikes:
            escalation = ctx.escalate(
                Escalation.Kind.ERROR,
                spike.reason,
                {"kind": spike.kind, "name": spike.name, "count": spike.count, "baseline": spike.baseline_per_window},
                wait=False,
                dedupe_key=spike.dedupe_key,
            )
            out.spikes.append(
                SpikeOut(
                    kind=spike.kind,
                    name=spike.name,
                    count=spike.count,
                    baseline_per_window=round(spike.baseline_per_window, 3),
                    escalation_id=escalation.pk,
                )
            )
        return out


class DraftRequest(BaseModel):
    """What the model sees to word a rule (no secrets: messages are redacted when logged)."""

    agent: str
    error_type: str
    step: str
    normalised_message: str
    occurrences: int
    rule_type: str
    condition: str
    action_params: dict[str, Any] = Field(default_factory=dict)
    template_text: str


class DraftedRule(BaseModel):
    text: str = Field(min_length=10, max_length=600, description="one or two imperative sentences")


class ExtractionOutput(BaseModel):
    groups_seen: int = 0
    proposed: list[int] = Field(default_factory=list)
    auto_approved: list[int] = Field(default_factory=list)
    retired: list[int] = Field(default_factory=list)


class Drafts(BaseModel):
    """One text per planned rule, in order ("" keeps the derived template)."""

    texts: list[str] = Field(default_factory=list)


class Plan(Facts):
    plan: extraction.ExtractionPlan


@register
class LearningExtraction(LLMAgent[Empty, ExtractionOutput, DraftedRule]):
    """Recurring alike errors -> proposed KnowledgeRules (text worded by the brain); rule evidence refreshed."""

    name = "learning_extraction"
    category = "system"
    trigger = "schedule"
    queue = "system"
    schedule = 3600
    idle_finds_nothing = True
    Facts = Plan
    Output = ExtractionOutput
    Decision = DraftedRule
    tool_name = "rule"
    tool_description = "Word the rule for the agent's prompt."
    max_tokens = 400
    system_prompt = (
        "You maintain the rule book of an AI agency's agents. Given a recurring error and the rule the system "
        "derived (type, condition, parameters), write the rule as one or two short imperative sentences an "
        "agent can follow: say what to check or do, and why (the error it prevents). Do not invent facts, "
        "ids, names or numbers that are not in the input. No preamble."
    )

    def load(self, ctx: RunContext, data: Empty) -> Plan:
        return Plan(plan=extraction.plan(now=ctx.now()))

    def heuristic(self, ctx: RunContext, subject: DraftRequest) -> DraftedRule:
        return DraftedRule(text=subject.template_text)

    def decide(self, ctx: RunContext, facts: Plan) -> Drafts:
        """One question per new rule; a rule the model cannot word keeps its derived text."""
        texts = []
        for item in facts.plan.planned:
            group, proposal = item.group, item.proposal
            if isinstance(proposal, NoRule):
                texts.append("")  # nothing to word: the error group says why no rule fits
                continue
            request = DraftRequest(
                agent=group.agent_name or group.provider or "all agents",
                error_type=group.error_type,
                step=group.step,
                normalised_message=group.pattern[:500],
                occurrences=group.occurrences,
                rule_type=proposal.rule_type,
                condition=describe(proposal.condition) if proposal.condition else "",
                action_params={k: v for k, v in proposal.action_params.items() if k != "evidence"},
                template_text=proposal.text,
            )
            try:
                decision = ctx.brain.decide(request)
            except BrainOutputInvalid as exc:  # the template text is a fine fallback; the log says so
                ctx.log.warning("rule text drafting failed (%s); using the template", type(exc).__name__)
                texts.append("")
                continue
            texts.append(str(getattr(decision, "text", "") or ""))
        return Drafts(texts=texts)

    def act(self, ctx: RunContext, facts: Plan, decision: Drafts) -> ExtractionOutput:
        for item, text in zip(facts.plan.planned, decision.texts, strict=False):
            if text.strip() and not isinstance(item.proposal, NoRule):
                item.proposal.text = text.strip()[:2000]
        result = extraction.apply(facts.plan)
        return ExtractionOutput(
            groups_seen=result.groups_seen,
            proposed=[r.pk for r in result.proposed],
            auto_approved=[r.pk for r in result.auto_approved],
            retired=[r.pk for r in result.retired],
        )


class PerformanceInput(BaseModel):
    day: dt.date | None = None


class PerformanceOutput(BaseModel):
    day: dt.date
    rows: int
    overall: int
    rules: int
    fingerprints: int


@register
class AgentPerformance(Agent[PerformanceInput, PerformanceOutput]):
    """Daily AgentLearning rows: per agent overall, before/after each approved rule, recurring errors."""

    name = "agent_performance"
    category = "system"
    trigger = "schedule"
    schedule = "30 2 * * *"
    Input = PerformanceInput
    Output = PerformanceOutput

    def act(self, ctx: RunContext, data: PerformanceInput) -> PerformanceOutput:
        day = data.day or (ctx.now() - dt.timedelta(days=1)).date()
        rows = performance.compute(day=day)
        areas = [r.learning_area for r in rows]
        return PerformanceOutput(
            day=day,
            rows=len(rows),
            overall=areas.count("overall"),
            rules=sum(a.startswith("rule:") for a in areas),
            fingerprints=sum(a.startswith("fp:") for a in areas),
        )
