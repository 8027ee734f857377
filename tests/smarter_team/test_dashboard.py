"""The console's dashboard: every figure counts the rows its link lists, and the page's queries do not
grow with the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Lead
from sales.models import Client
from smarter_team import clock
from smarter_team.dashboard import Dashboard, Window, gather
from smarter_team.dashboard.links import Figure
from tests.factories.agents import AgentRunFactory, BudgetFactory, EscalationFactory, HealthCheckFactory
from tests.factories.crm import EnrollmentFactory, LeadFactory, MessageFactory
from tests.factories.delivery import OffboardingFactory
from tests.factories.integrations import ApiUsageFactory, WebhookEventFactory
from tests.factories.learning import ErrorLogFactory
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, PaymentFactory, ProposalFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # the frozen_clock fixture's time
INSIDE = NOW - dt.timedelta(days=3)  # in the default 30-day window, not today
OUTSIDE = NOW - dt.timedelta(days=45)


def _at(handle: clock.FrozenClock, when: dt.datetime, make: Any) -> Any:
    """Create rows as of ``when`` (their own times default to the clock); the clock is put back."""
    handle.set(when)
    try:
        return make()
    finally:
        handle.set(NOW)


def _world(handle: clock.FrozenClock, n: int) -> None:
    """``n`` of every kind of row the dashboard counts, some inside its windows and some outside."""
    for i in range(n):
        for when in (INSIDE, OUTSIDE):
            _at(handle, when, lambda: LeadFactory.create(status="new"))
            _at(handle, when, lambda: LeadFactory.create(status="contacted"))
            enrollment = _at(handle, when, EnrollmentFactory.create)
            _at(handle, when, lambda e=enrollment: MessageFactory.create(enrollment=e))
            _at(
                handle,
                when,
                lambda e=enrollment: MessageFactory.create(enrollment=e, direction="in", status="delivered"),
            )
            _at(
                handle, when, lambda e=enrollment: MessageFactory.create(enrollment=e, direction="in", status="bounced")
            )
            _at(handle, when, lambda: MeetingFactory.create(status="held", starts_at=clock.now()))
            # Delivery, not sales: a client's kickoff (with its contact as the lead) and an upsell.
            _at(handle, when, lambda: MeetingFactory.create(kind="kickoff", status="held", starts_at=clock.now()))
            _at(handle, when, lambda: ProposalFactory.create(signed=True))
            _at(handle, when, lambda: ProposalFactory.create(signed=True, requirements={"kind": "renewal"}))
            _at(handle, when, lambda: ProposalFactory.create(signed=True, requirements={"kind": "upsell"}))
            _at(handle, when, lambda: InvoiceFactory.create(paid=True))
            _at(handle, when, OffboardingFactory.create)
        # Today's work, and what needs a person.
        AgentRunFactory.create(agent_name=f"agent_{i}", status="failed", finished_at=NOW)
        AgentRunFactory.create(agent_name=f"agent_{i}", status="succeeded")
        AgentRunFactory.create(status="queued")
        PaymentFactory.create()
        EscalationFactory.create(assigned_group=("operator", "manager")[i % 2])
        _at(handle, NOW - dt.timedelta(days=2), lambda: EscalationFactory.create(due_by=NOW - dt.timedelta(hours=1)))
        ApiUsageFactory.create(provider=f"provider_{i}", success=False)
        WebhookEventFactory.create(provider="stripe", status="failed")
        WebhookEventFactory.create(provider="stripe", status="rejected", signature_ok=False)
        HealthCheckFactory.create(component=f"integration:provider_{i}", status="down")
        HealthCheckFactory.create(component="database")
        BudgetFactory.create()
        ErrorLogFactory.create()


def _figures(board: Dashboard) -> list[Figure]:
    found = [s.figure for s in board.funnel]
    found += [board.activity.runs, board.activity.runs_failed, *board.activity.figures, *board.activity.in_flight]
    for row in board.escalations:
        found += [*row.cells, row.overdue, row.total]
    found += [a.failed for a in board.failing_agents] + [board.open_errors]
    for i in board.integrations:
        found += [i.calls_failed, i.webhooks_failed, i.webhooks_rejected]
    return found


def test_every_figure_counts_the_rows_its_link_lists(staff_client: Any, frozen_clock: clock.FrozenClock) -> None:
    _world(frozen_clock, 2)
    board = gather()
    figures = _figures(board)
    assert len(figures) > 40
    for figure in figures:
        listed = staff_client.get(figure.url)
        assert listed.status_code == 200, figure
        assert listed.context["cl"].result_count == figure.count, figure
    stage = {s.key: s.figure.count for s in board.funnel}
    # The 30-day window takes the rows from 3 days ago and leaves those from 45 days ago out.
    # Factories make leads and clients for the rows that need one: those since 45 days ago count.
    assert stage.pop("leads") == Lead.objects.filter(created_at__gt=OUTSIDE).count() > 4
    assert stage.pop("clients") == Client.objects.filter(created_at__gt=OUTSIDE).count() >= 4
    assert stage == {
        "qualified": 2,
        "enrolled": 2,
        "emailed": 2,
        "replied": 2,  # a bounce notice is no reply
        "booked": 2,  # discovery calls: a kickoff is no sale
        "held": 2,
        "proposed": 2,  # first sales: renewals and upsells are no new client
        "signed": 2,
        "paid": 2,
        "renewed": 2,
        "offboarded": 2,
    }
    assert {f.key: f.count for f in board.activity.figures}["payments-today"] == 2


def test_the_funnel_converts_each_stage_from_the_one_it_grows_from(frozen_clock: clock.FrozenClock) -> None:
    for status in ("new", "new", "qualified", "won"):
        LeadFactory.create(status=status, company=None)
    ClientFactory.create_batch(4, primary_contact=None)
    ProposalFactory.create(signed=True, lead=None, requirements={"kind": "renewal"})
    board = gather(window=Window.ALL)
    stage = {s.key: s for s in board.funnel}
    assert stage["leads"].conversion is None
    assert stage["qualified"].conversion == 0.5 and stage["qualified"].conversion_percent == "50.0%"
    assert stage["enrolled"].conversion == 0.0
    assert stage["emailed"].conversion is None  # nobody enrolled: nothing to convert from
    assert stage["renewed"].conversion == 0.25 and stage["renewed"].base_label == "Clients"
    assert stage["leads"].bar == 100.0 and stage["enrolled"].bar == 0.0


def test_the_sales_stages_count_the_sale_to_a_new_client_only(
    staff_client: Any, frozen_clock: clock.FrozenClock
) -> None:
    calls = [
        MeetingFactory.create(),
        MeetingFactory.create(status="held", starts_at=INSIDE),
        MeetingFactory.create(status="followed_up", starts_at=INSIDE),
    ]
    client = ClientFactory.create()
    for kind in ("kickoff", "check_in"):  # a client's meetings, with its contact as the lead
        MeetingFactory.create(kind=kind, status="held", starts_at=INSIDE, client=client, lead=client.primary_contact)
    MeetingFactory.create(lead=None, client=client, status="held", starts_at=INSIDE)  # no lead: not a sales call
    first_sales = [
        ProposalFactory.create(sent=True),
        ProposalFactory.create(signed=True),
        ProposalFactory.create(signed=True, requirements={}),
        ProposalFactory.create(signed=True, requirements={"billing": "monthly"}),
    ]
    for kind in ("renewal", "upsell"):
        ProposalFactory.create(sent=True, client=client, requirements={"kind": kind})
        ProposalFactory.create(signed=True, client=client, requirements={"kind": kind, "contract_end": "2026-04-30"})
    stages = {s.key: s for s in gather().funnel}
    expected = {
        "booked": {m.pk for m in calls},
        "held": {m.pk for m in calls[1:]},
        "proposed": {p.pk for p in first_sales},
        "signed": {p.pk for p in first_sales[1:]},
    }
    for key, pks in expected.items():
        figure = stages[key].figure
        listed = staff_client.get(figure.url)
        assert listed.status_code == 200, figure
        assert {row.pk for row in listed.context["cl"].result_list} == pks, figure
        assert figure.count == len(pks), figure
    assert stages["renewed"].figure.count == 1


def test_windows_start_at_midnight_of_the_business_day(frozen_clock: clock.FrozenClock) -> None:
    assert Window.TODAY.start(NOW) == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert Window.WEEK.start(NOW) == dt.datetime(2026, 2, 24, tzinfo=dt.UTC)
    assert Window.ALL.start(NOW) is None
    assert Window.parse("nonsense") is Window.MONTH and Window.parse("7d") is Window.WEEK


def test_today_is_the_business_day_and_its_runs_fill_their_hours(frozen_clock: clock.FrozenClock) -> None:
    _at(frozen_clock, NOW - dt.timedelta(hours=10), AgentRunFactory.create)  # yesterday, 23:00
    _at(frozen_clock, NOW - dt.timedelta(hours=1), lambda: AgentRunFactory.create_batch(3, status="failed"))
    AgentRunFactory.create()
    PaymentFactory.create(amount=Decimal("100.50"), invoice__currency="EUR", currency="EUR")
    PaymentFactory.create(amount=Decimal("20.00"), currency="USD", status="failed")
    today = gather().activity
    assert today.day == dt.date(2026, 3, 2)
    assert (today.runs.count, today.runs_failed.count) == (4, 3)
    assert {h.hour: h.count for h in today.hours if h.count} == {8: 3, 9: 1}
    assert [h.height for h in today.hours if h.count] == [100.0, 33.3]
    assert today.paid == {"EUR": "100.50"}


def test_open_escalations_fall_into_age_buckets_per_group(frozen_clock: clock.FrozenClock) -> None:
    for hours, group in ((1, "operator"), (5, "operator"), (30, "manager"), (100, "operator"), (2, "admin")):
        _at(frozen_clock, NOW - dt.timedelta(hours=hours), lambda g=group: EscalationFactory.create(assigned_group=g))
    EscalationFactory.create(status="approved", decided_at=NOW)  # decided: not open
    EscalationFactory.create(due_by=NOW - dt.timedelta(minutes=1))
    rows = {r.group: r for r in gather().escalations}
    assert [c.count for c in rows["operator"].cells] == [2, 1, 0, 1]
    assert [c.count for c in rows["manager"].cells] == [0, 0, 1, 0]
    assert (rows["operator"].total.count, rows["operator"].overdue.count, rows["admin"].total.count) == (4, 1, 1)


def test_failing_agents_are_the_last_days_failures_most_first(frozen_clock: clock.FrozenClock) -> None:
    AgentRunFactory.create_batch(2, agent_name="lead_scoring", status="failed")
    AgentRunFactory.create_batch(2, agent_name="lead_scoring", status="succeeded")
    AgentRunFactory.create(agent_name="copywriting", status="failed")
    _at(frozen_clock, NOW - dt.timedelta(days=2), lambda: AgentRunFactory.create_batch(5, status="failed"))
    failing, _ = gather().failing_agents, None
    assert [(a.agent_name, a.failed.count, a.runs) for a in failing] == [("lead_scoring", 2, 4), ("copywriting", 1, 1)]
    assert failing[0].failure_percent == 50.0


def test_integrations_join_calls_webhooks_and_the_last_health_check(frozen_clock: clock.FrozenClock) -> None:
    ApiUsageFactory.create(provider="apollo", success=False)
    ApiUsageFactory.create(provider="apollo")
    WebhookEventFactory.create(provider="stripe", status="processed")
    _at(frozen_clock, NOW - dt.timedelta(hours=2), lambda: HealthCheckFactory.create(component="integration:stripe"))
    HealthCheckFactory.create(component="integration:stripe", status="down", detail="401")
    HealthCheckFactory.create(component="database", latency_ms=4)
    board = gather()
    by_provider = {i.provider: i for i in board.integrations}
    assert (by_provider["apollo"].calls, by_provider["apollo"].calls_failed.count) == (2, 1)
    assert by_provider["apollo"].status == "degraded" and by_provider["stripe"].status == "down"
    assert [(c.component, c.status) for c in board.health] == [("database", "ok")]
    assert board.health_status == "ok"


def test_budgets_show_this_periods_spend_against_the_limit(frozen_clock: clock.FrozenClock) -> None:
    BudgetFactory.create(scope="agent", key="copywriting", limit=Decimal("2.00"))
    BudgetFactory.create(scope="global", key="", period="month", limit=Decimal("0"), on_exceed="pause")
    AgentRunFactory.create(agent_name="copywriting", started_at=NOW, cost=Decimal("1.70"))
    AgentRunFactory.create(agent_name="copywriting", started_at=NOW - dt.timedelta(days=1), cost=Decimal("5"))
    lines = {b.label: b for b in gather().budgets}
    assert (lines["agent copywriting"].spent, lines["agent copywriting"].percent) == (Decimal("1.7000"), 85.0)
    assert lines["agent copywriting"].level == "near" and lines["global"].level == "over"


def test_the_dashboard_costs_the_same_queries_with_more_rows(
    staff_client: Any, frozen_clock: clock.FrozenClock
) -> None:
    _world(frozen_clock, 1)
    with CaptureQueriesContext(connection) as few:
        gather()
    with CaptureQueriesContext(connection) as page_few:
        assert staff_client.get(reverse("admin:index")).status_code == 200
    _world(frozen_clock, 3)
    with CaptureQueriesContext(connection) as many:
        gather()
    with CaptureQueriesContext(connection) as page_many:
        assert staff_client.get(reverse("admin:index")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(page_many.captured_queries) == len(page_few.captured_queries)


def test_the_index_shows_the_dashboard_and_keeps_the_app_list(
    staff_client: Any, frozen_clock: clock.FrozenClock
) -> None:
    LeadFactory.create_batch(3)
    page = staff_client.get(reverse("admin:index"), {"window": "all"}).content.decode()
    for element in ("dash-funnel", "dash-today", "dash-escalations", "dash-failing", "dash-integrations"):
        assert f'id="{element}"' in page
    assert 'id="stage-leads"' in page and 'data-count="3"' in page
    assert 'id="dash-apps"' in page and reverse("admin:crm_lead_changelist") in page
    assert 'id="window-all" class="selected"' in page
