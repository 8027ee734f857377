"""Budgets are checked before every brain call; on exceed: degrade, pause or escalate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agents import runtime
from agents.brains import scripted
from agents.brains.pricing import Usage
from agents.models import AgentRun, Budget, Escalation
from agents.services.budgets import exceeded_budget, period_bounds
from agents.services.escalations import decide
from agents.services.runs import start_run
from tests.factories.agents import AgentRunFactory, BudgetFactory

pytestmark = pytest.mark.django_db

HOT = {"label": "hot", "score": 90}


@pytest.fixture(autouse=True)
def scripted_brain(settings):
    settings.BRAIN_DEFAULT = "scripted"


def _spent(amount: str, when: dt.datetime, **fields) -> AgentRun:
    return AgentRunFactory.create(
        status=AgentRun.Status.SUCCEEDED, started_at=when, finished_at=when, cost=Decimal(amount), **fields
    )


def _think(**kwargs) -> AgentRun:
    run = start_run(agent_name="t_thinker", input={"text": "just browsing"}, trigger="event", enqueue=False, **kwargs)
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def test_under_budget_the_brain_answers_and_the_cost_is_recorded(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("5.00"))
    scripted.script("t_thinker", HOT, usage=Usage(model="claude-sonnet-4-5", input_tokens=1000, cost=Decimal("0.25")))
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == HOT
    assert run.brain == "scripted" and run.cost == Decimal("0.25") and run.tokens_in == 1000


def test_degrade_answers_with_the_heuristic(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("1.00"), on_exceed=Budget.OnExceed.DEGRADE)
    _spent("1.50", frozen_clock.now)
    scripted.script("t_thinker", HOT)
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.brain == "heuristic" and run.output == {"label": "cold", "score": 10}
    assert scripted.calls == []  # the paid brain was not asked


def test_pause_requeues_the_run_at_the_next_period(frozen_clock) -> None:
    BudgetFactory.create(
        scope=Budget.Scope.AGENT, key="t_thinker", period=Budget.Period.DAY, on_exceed=Budget.OnExceed.PAUSE
    )
    _spent("10.00", frozen_clock.now, agent_name="t_thinker")
    run = _think()
    assert run.status == AgentRun.Status.QUEUED
    assert run.due_at == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)  # the next day starts
    assert run.attempts == 0  # waiting for money is not a failed attempt
    assert run.error.startswith("paused:")


def test_escalate_parks_the_run_until_someone_approves_the_spend(frozen_clock, django_user_model) -> None:
    BudgetFactory.create(
        scope=Budget.Scope.CLIENT, key="client-7", period=Budget.Period.MONTH, on_exceed=Budget.OnExceed.ESCALATE
    )
    _spent("10.00", frozen_clock.now - dt.timedelta(days=1), client_key="client-7")
    run = _think(client_key="client-7")
    assert run.status == AgentRun.Status.ESCALATED
    escalation = Escalation.objects.get(run=run)
    assert escalation.kind == Escalation.Kind.BUDGET
    assert escalation.payload["limit"] == "10.00"

    decide(escalation=escalation, approve=True, user=django_user_model.objects.create_user("cfo"))
    scripted.script("t_thinker", HOT)
    runtime.execute(run.pk)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == HOT


def test_other_scopes_do_not_limit_this_run(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.AGENT, key="another_agent", on_exceed=Budget.OnExceed.PAUSE)
    BudgetFactory.create(scope=Budget.Scope.CAMPAIGN, key="camp-1", on_exceed=Budget.OnExceed.PAUSE)
    _spent("99.00", frozen_clock.now, agent_name="another_agent", campaign_key="camp-1")
    scripted.script("t_thinker", HOT)
    assert _think().status == AgentRun.Status.SUCCEEDED


def test_spend_before_the_period_does_not_count(frozen_clock) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("1.00"), on_exceed=Budget.OnExceed.PAUSE)
    _spent("5.00", frozen_clock.now - dt.timedelta(days=1))
    run = AgentRunFactory.create(agent_name="t_thinker")
    assert exceeded_budget(run=run) is None
    assert exceeded_budget(run=run, unsaved_cost=Decimal("1.00")) is not None  # this attempt's own spend counts


def test_the_most_severe_exceeded_budget_wins(frozen_clock, django_assert_num_queries) -> None:
    BudgetFactory.create(scope=Budget.Scope.GLOBAL, key="", limit=Decimal("1.00"), on_exceed=Budget.OnExceed.DEGRADE)
    BudgetFactory.create(
        scope=Budget.Scope.AGENT, key="t_thinker", limit=Decimal("1.00"), on_exceed=Budget.OnExceed.ESCALATE
    )
    BudgetFactory.create(
        scope=Budget.Scope.GLOBAL,
        key="",
        period=Budget.Period.MONTH,
        limit=Decimal("1.00"),
        on_exceed=Budget.OnExceed.PAUSE,
    )
    _spent("2.00", frozen_clock.now, agent_name="t_thinker")
    run = AgentRunFactory.create(agent_name="t_thinker")
    with django_assert_num_queries(2):  # whatever the number of budgets
        exceeded = exceeded_budget(run=run)
    assert exceeded is not None and exceeded.on_exceed == Budget.OnExceed.ESCALATE


def test_period_bounds_use_utc_days_and_calendar_months() -> None:
    now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert period_bounds("day", now) == (
        dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    assert period_bounds("month", now) == (
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
