"""cost_monitor: spend (runs + provider calls) against budgets; degrade, pause or escalate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from agents.models import AgentRun, Budget, Escalation
from agents.services import pauses
from agents.services.runs import start_run
from agents.testing import assert_idempotent, run_agent
from smarter_team import clock
from tests.factories.agents import AgentRunFactory, BudgetFactory
from tests.factories.crm import CampaignFactory, CampaignStepFactory
from tests.factories.integrations import ApiUsageFactory

pytestmark = pytest.mark.django_db


def _spent(amount: str, when: dt.datetime, **fields) -> AgentRun:
    return AgentRunFactory.create(
        status=AgentRun.Status.SUCCEEDED, started_at=when, finished_at=when, cost=Decimal(amount), **fields
    )


def test_nothing_to_check_is_a_clear_result(frozen_clock) -> None:
    result = run_agent("cost_monitor")
    assert result.status == "succeeded"
    assert result.output["summary"] == "no active budget: nothing to check"


def test_within_budget_changes_nothing(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("5"))
    _spent("1.00", clock.now(), agent_name="t_thinker")
    result = run_agent("cost_monitor")
    (report,) = result.output["budgets"]
    assert report["decision"] == "within" and report["share"] == pytest.approx(0.2)
    assert not result.escalations and not result.writes


def test_provider_spend_counts_with_llm_spend_in_the_budgets_scope(frozen_clock) -> None:
    now = clock.now()
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="lead_enrichment", limit=Decimal("2"), on_exceed="escalate")
    run = _spent("0.50", now, agent_name="lead_enrichment")
    ApiUsageFactory.create(run=run, cost=Decimal("1.60"), at=now)
    ApiUsageFactory.create(run=_spent("0", now, agent_name="other"), cost=Decimal("9"), at=now)  # not in scope
    ApiUsageFactory.create(run=run, cost=Decimal("9"), at=now - dt.timedelta(days=2))  # yesterday's day budget
    result = run_agent("cost_monitor")
    (report,) = result.output["budgets"]
    assert Decimal(report["spent_api"]) == Decimal("1.60") and Decimal(report["spent_llm"]) == Decimal("0.50")
    assert report["decision"] == "escalate"
    (escalation,) = result.escalations
    assert escalation.kind == Escalation.Kind.BUDGET and escalation.assigned_group == "manager"


def test_an_exceeded_budget_is_escalated_once_per_period(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("1"), on_exceed="escalate")
    _spent("3", clock.now())
    first, second = assert_idempotent("cost_monitor")
    assert len(first.escalations) == 1 and not second.escalations
    # Resolved by an operator: the same period is not raised again.
    Escalation.objects.update(status=Escalation.Status.RESOLVED, decided_at=clock.now())
    assert not run_agent("cost_monitor").escalations
    assert Escalation.objects.count() == 1


def test_degrade_is_left_to_the_brains_check_before_every_call(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("1"), on_exceed="degrade")
    _spent("2", clock.now(), agent_name="t_thinker")
    result = run_agent("cost_monitor")
    assert result.output["budgets"][0]["decision"] == "degrade"
    assert not result.escalations and not result.writes


def test_a_paused_agent_starts_nothing_until_the_period_ends(frozen_clock) -> None:
    now = clock.now()
    budget = BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("1"), on_exceed="pause")
    queued = start_run(agent_name="t_thinker", input={"text": "a"}, trigger="event", enqueue=False)
    other = start_run(agent_name="t_echo", input={"text": "b"}, trigger="event", enqueue=False)
    _spent("1.5", now, agent_name="t_thinker")

    result = run_agent("cost_monitor")

    end_of_day = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    budget.refresh_from_db()
    assert budget.paused_until == end_of_day
    assert result.output["budgets"][0]["decision"] == "pause"
    assert [w.action for w in result.writes] == ["budget.paused"]
    assert len(result.escalations) == 1  # the managers are told
    queued.refresh_from_db()
    other.refresh_from_db()
    assert queued.due_at == end_of_day and queued.enqueued_at is None  # held, not dropped
    assert other.due_at == now  # another agent is not in this budget's scope
    # A new run of the paused agent waits too; the watchers themselves never pause.
    later = start_run(agent_name="t_thinker", input={"text": "c"}, trigger="event", enqueue=False)
    assert later.due_at == end_of_day
    # Once the period is over the pause has lifted by itself.
    frozen_clock.tick(dt.timedelta(days=1))
    fresh = start_run(agent_name="t_thinker", input={"text": "d"}, trigger="event", enqueue=False)
    assert fresh.due_at == clock.now()


def test_a_pause_made_during_a_wave_holds_the_runs_started_after_it(frozen_clock) -> None:
    # The simulated-time driver asks once per wave whether any budget is paused (pauses.one_wave);
    # cost_monitor pausing one in the middle of the wave must hold what the wave starts after it.
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("1"), on_exceed="pause")
    _spent("1.5", clock.now(), agent_name="t_thinker")
    with pauses.one_wave(clock.now()):
        before = start_run(agent_name="t_thinker", input={"text": "a"}, trigger="event", enqueue=False)
        run_agent("cost_monitor")
        after = start_run(agent_name="t_thinker", input={"text": "b"}, trigger="event", enqueue=False)
    end_of_day = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    before.refresh_from_db()
    assert before.due_at == end_of_day  # re-dated by cost_monitor
    assert after.due_at == end_of_day  # dated there when started


def test_a_global_pause_never_holds_the_system_agents(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("1"), on_exceed="pause")
    _spent("5", clock.now())
    run_agent("cost_monitor")
    held = start_run(agent_name="t_echo", input={"text": "x"}, trigger="event", enqueue=False)
    watcher = start_run(agent_name="cost_monitor", input={}, trigger="schedule", enqueue=False)
    assert held.due_at > clock.now()
    assert watcher.due_at == clock.now()


def test_a_campaign_budget_pauses_the_campaign(frozen_clock) -> None:
    campaign = CampaignFactory.create(status="draft")
    CampaignStepFactory.create(campaign=campaign)
    campaign.transition_to("review")
    campaign.transition_to("active")
    BudgetFactory.create(scope=Budget.Scope.CAMPAIGN, key=str(campaign.pk), limit=Decimal("1"), on_exceed="pause")
    _spent("2", clock.now(), campaign_key=str(campaign.pk))
    result = run_agent("cost_monitor")
    campaign.refresh_from_db()
    assert campaign.status == "paused" and campaign.paused_reason.startswith("budget:")
    assert "campaign.paused" in [w.action for w in result.writes]


def test_a_budget_of_zero_is_enforced_without_dividing_by_it(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("0"), on_exceed="escalate")
    result = run_agent("cost_monitor")
    (report,) = result.output["budgets"]
    assert result.status == "succeeded"
    assert report["share"] is None and report["decision"] == "escalate"
    assert "allows no paid call" in result.escalations[0].reason


def test_a_budget_without_a_limit_is_reported_not_enforced(frozen_clock) -> None:
    from agents.agents.cost_monitor import CostMonitor
    from agents.services.costs import spend_per_budget

    budget = BudgetFactory.build(pk=999, limit=None)
    (spend,) = spend_per_budget([budget], now=clock.now())
    assert not spend.exceeded and spend.share is None
    report = CostMonitor()._handle(None, spend, already_told=False)  # type: ignore[arg-type]
    assert report.decision == "no_limit" and "no limit" in report.note


@pytest.mark.postgresql
def test_the_month_wide_sum_uses_the_started_at_index(frozen_clock) -> None:
    from agents.services.costs import spend_per_budget

    budgets = [
        BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", period="month"),
        BudgetFactory.create(scope=Budget.Scope.AGENT, key="t_thinker", period="month"),
    ]
    for i in range(50):
        _spent("0.01", clock.now() - dt.timedelta(hours=i), agent_name="t_thinker")
    captured: list[str] = []

    def explain(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and "agents_agentrun" in sql and "SUM" in sql.upper():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN " + sql, params)
                captured.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        from django.db import transaction

        with transaction.atomic():
            spend_per_budget(budgets, now=clock.now())
    plan = next(p for p in captured if "agents_agentrun" in p or "agentrun" in p)
    assert "agentrun_started_cost" in plan, plan
