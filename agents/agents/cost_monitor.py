"""cost_monitor: LLM and provider spend against the daily and monthly budgets, once an hour.

Each exceeded budget is handled as its ``on_exceed`` says:
- degrade: nothing to do here; the brain answers with the heuristic before every call (one place);
- pause: the work in its scope waits for the period's end (agents/services/pauses.py), a budgeted
  campaign is paused, and the managers are told once per period;
- escalate: the managers are told once per period (an operator may approve going over per run).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from agents import registry
from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Budget, Escalation, StaffGroup
from agents.registry import register
from agents.services import pauses
from agents.services.audit import record_change
from agents.services.costs import Spend, spend_per_budget


class BudgetReport(BaseModel):
    budget: int
    scope: str
    key: str
    period: str
    limit: Decimal | None
    spent_llm: Decimal
    spent_api: Decimal
    share: float | None
    decision: str  # within, no_limit, degrade, pause, escalate
    note: str = ""


class CostReport(BaseModel):
    budgets: list[BudgetReport] = Field(default_factory=list)
    summary: str = ""


class Spending(Facts):
    spends: list[Spend]
    told: list[str]  # dedupe keys of the notices already raised this period


def _notice_key(spend: Spend) -> str:
    return f"budget:{spend.budget.pk}:{spend.period_start:%Y-%m-%d}"


@register
class CostMonitor(Agent[Empty, CostReport]):
    """LLM and API spend against daily/monthly budgets; throttles or pauses agents and campaigns."""

    name = "cost_monitor"
    category = "system"
    trigger = "schedule"
    schedule = 3600
    idle_finds_nothing = True
    Facts = Spending
    Output = CostReport

    def load(self, ctx: RunContext, data: Empty) -> Spending:
        budgets = list(Budget.objects.filter(active=True).order_by("pk"))
        spends = spend_per_budget(budgets, now=ctx.now())
        keys = [_notice_key(s) for s in spends if s.exceeded]
        told = list(Escalation.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        return Spending(spends=spends, told=told)

    def act(self, ctx: RunContext, facts: Spending) -> CostReport:
        reports = [self._handle(ctx, spend, already_told=_notice_key(spend) in facts.told) for spend in facts.spends]
        over = [r for r in reports if r.decision in ("degrade", "pause", "escalate")]
        summary = f"{len(reports)} budget(s), {len(over)} exceeded" if reports else "no active budget: nothing to check"
        return CostReport(budgets=reports, summary=summary)

    def _handle(self, ctx: RunContext, spend: Spend, *, already_told: bool) -> BudgetReport:
        b = spend.budget
        report = BudgetReport(
            budget=b.pk,
            scope=b.scope,
            key=b.key,
            period=b.period,
            limit=b.limit,
            spent_llm=spend.llm,
            spent_api=spend.api,
            share=spend.share,
            decision="within",
        )
        if b.limit is None:
            return report.model_copy(update={"decision": "no_limit", "note": "no limit set: nothing to enforce"})
        if not spend.exceeded:
            return report
        reason = (
            f"{b.scope} {b.key or ''} budget of {b.limit} {b.currency}/{b.period} reached: "
            f"spent {spend.total:.4f} (LLM {spend.llm:.4f}, API {spend.api:.4f})"
        ).replace("  ", " ")
        if b.limit == 0:
            reason += " (a limit of 0 allows no paid call)"
        decision = str(b.on_exceed)
        note = ""
        if decision == Budget.OnExceed.PAUSE:
            note = self._pause(ctx, spend)
        if decision in (Budget.OnExceed.PAUSE, Budget.OnExceed.ESCALATE) and not already_told:
            ctx.escalate(
                Escalation.Kind.BUDGET,
                reason + (f"; {note}" if note else ""),
                {
                    "budget": b.pk,
                    "spent": str(spend.total),
                    "limit": str(b.limit),
                    "until": spend.period_end.isoformat(),
                },
                group=StaffGroup.MANAGER,
                wait=False,
                dedupe_key=_notice_key(spend),
                subject=b,
            )
        return report.model_copy(update={"decision": decision, "note": note})

    def _pause(self, ctx: RunContext, spend: Spend) -> str:
        budget = ctx.lock(spend.budget)
        until = spend.period_end
        if budget.paused_until is None or budget.paused_until < until:
            ctx.update(budget, action="budget.paused", paused_until=until)
        system = [a.name for a in registry.all_agents() if a.category == "system"]
        deferred = pauses.defer_queued_runs(budget=budget, until=until, system_agents=system)
        note = f"work in scope paused until {until:%Y-%m-%d %H:%M} UTC ({deferred} queued run(s) deferred)"
        if budget.scope == Budget.Scope.CAMPAIGN and _pause_campaign(ctx, budget.key, note):
            note += f"; campaign {budget.key} paused"
        return note


def _pause_campaign(ctx: RunContext, key: str, reason: str) -> bool:
    """Pause the budget's campaign when it is running (crm's status machine decides)."""
    from crm.models import Campaign
    from crm.services.campaigns import campaign_set_status

    campaign = Campaign.objects.filter(pk=int(key)).first() if key.isdigit() else None
    if campaign is None or campaign.status != Campaign.Status.ACTIVE:
        return False
    campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, reason=f"budget: {reason}")
    record_change(
        action="campaign.paused", target=campaign, before={"status": "active"}, after={"status": "paused"}, run=ctx.run
    )
    return True
