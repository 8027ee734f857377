"""escalation_manager: route to the group, tell its staff once, remind on SLA, expire (never approve)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from agents.models import AgentRun, Escalation
from agents.testing import assert_idempotent, run_agent
from smarter_team import clock
from tests.factories.agents import AgentRunFactory, EscalationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    def member(username: str, group: str, email: str = "", active: bool = True):
        user = django_user_model.objects.create_user(username, email or f"{username}@agency.test", is_active=active)
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    member("olga", "operator")
    member("max", "manager")
    member("gone", "manager", active=False)
    member("ada", "admin")
    return member


def test_nothing_open_is_a_clear_result(frozen_clock) -> None:
    result = run_agent("escalation_manager")
    assert result.status == "succeeded"
    assert result.output["summary"] == "no open escalation needs anything" and not mail.outbox


def test_a_new_escalation_is_routed_given_a_due_time_and_its_group_told_once(frozen_clock, staff) -> None:
    budget = EscalationFactory.create(kind=Escalation.Kind.BUDGET, reason="global budget reached")
    approval = EscalationFactory.create(kind=Escalation.Kind.APPROVAL, reason="Send the first batch?")

    first, second = assert_idempotent("escalation_manager")

    budget.refresh_from_db()
    approval.refresh_from_db()
    assert budget.assigned_group == "manager" and approval.assigned_group == "operator"
    assert budget.due_by == clock.now() + dt.timedelta(hours=72) and budget.reminded_at == clock.now()
    assert first.output["routed"] == 2 and second.output["routed"] == 0
    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert recipients == [("max@agency.test",), ("olga@agency.test",)]  # the inactive manager is not told
    assert "global budget reached" in next(m.body for m in mail.outbox if m.to == ["max@agency.test"])
    assert {a.idempotency_key for a in first.acts} == {
        f"staff.notify:escalation:{budget.pk}:notify",
        f"staff.notify:escalation:{approval.pk}:notify",
    }


def test_a_group_without_staff_is_reported(frozen_clock) -> None:
    escalation = EscalationFactory.create(kind=Escalation.Kind.LOOP)
    result = run_agent("escalation_manager")
    assert result.output["without_recipients"] == [escalation.pk] and not mail.outbox


def test_an_open_escalation_is_reminded_after_the_sla(frozen_clock, staff, settings) -> None:
    settings.ESCALATION_REMIND_HOURS = 4
    escalation = EscalationFactory.create(kind=Escalation.Kind.APPROVAL)
    run_agent("escalation_manager")
    frozen_clock.tick(dt.timedelta(hours=3))
    assert run_agent("escalation_manager").output["reminded"] == 0
    frozen_clock.tick(dt.timedelta(hours=2))
    result = run_agent("escalation_manager")
    assert result.output["reminded"] == 1
    escalation.refresh_from_db()
    assert escalation.reminded_at == clock.now()
    assert [m.subject.split("]")[1].split(":")[0].strip() for m in mail.outbox] == ["New", "Reminder"]


def test_an_approval_past_its_due_time_expires_unapproved_and_its_runs_are_canceled(frozen_clock, staff) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.ESCALATED)
    also_waiting = AgentRunFactory.create(status=AgentRun.Status.ESCALATED)
    escalation = EscalationFactory.create(
        kind=Escalation.Kind.APPROVAL, run=run, due_by=clock.now() - dt.timedelta(minutes=1)
    )
    AgentRun.objects.filter(pk__in=[run.pk, also_waiting.pk]).update(waiting_on=escalation)

    result = run_agent("escalation_manager")

    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.EXPIRED and escalation.decided_by is None
    assert result.output["expired"] == 1 and result.output["runs_canceled"] == 2
    for parked in (run, also_waiting):
        parked.refresh_from_db()
        assert parked.status == AgentRun.Status.CANCELED and "expired" in parked.error
    assert "escalation.expire" in [w.action for w in result.writes]
    assert not Escalation.objects.filter(status=Escalation.Status.APPROVED).exists()


def test_an_escalation_whose_run_is_gone_expires_with_a_clear_result(frozen_clock) -> None:
    run = AgentRunFactory.create(status=AgentRun.Status.ESCALATED)
    escalation = EscalationFactory.create(run=run, due_by=clock.now() - dt.timedelta(hours=1))
    run.delete()  # the FK is SET_NULL: the escalation stays, its run is gone
    result = run_agent("escalation_manager")
    assert result.status == "succeeded"
    assert result.output["run_gone"] == [escalation.pk] and result.output["expired"] == 1


def test_a_decided_escalation_is_left_alone(frozen_clock, staff) -> None:
    EscalationFactory.create(
        status=Escalation.Status.APPROVED, decided_at=clock.now(), due_by=clock.now() - dt.timedelta(days=1)
    )
    result = run_agent("escalation_manager")
    assert result.output["expired"] == 0 and result.output["routed"] == 0 and not mail.outbox
