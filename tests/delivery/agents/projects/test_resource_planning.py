"""resource_planning: committed hours per coming week against the team's capacity; one warning a week."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents.models import Escalation
from agents.testing import assert_idempotent, run_agent
from delivery.agents.projects.resource_planning import Commitment, weekly_load, weeks_until
from delivery.models import Project
from tests.delivery.agents.projects.scene import days
from tests.factories.delivery import ProjectFactory, ProjectTaskFactory

pytestmark = [pytest.mark.django_db]


def test_hours_are_spread_over_the_weeks_left_and_overdue_work_lands_now() -> None:
    monday = dt.date(2026, 3, 2)
    assert weeks_until(monday + days(20), week_start=monday) == 3
    assert weeks_until(monday - days(3), week_start=monday) == 1
    assert weeks_until(None, week_start=monday) == 1
    load = weekly_load(
        [
            Commitment(project_id=1, name="a", hours_left=Decimal("90"), weeks_left=3),
            Commitment(project_id=2, name="late", hours_left=Decimal("25"), weeks_left=1),
        ],
        horizon=4,
    )
    assert load == [Decimal("55.0"), Decimal("30.0"), Decimal("30.0"), Decimal("0.0")]


def busy(frozen_clock: Any, hours: str, *, weeks: int) -> Project:
    project = ProjectFactory.create(due_on=frozen_clock.now.date() + days(7 * weeks - 3))
    ProjectTaskFactory.create(project=project, estimate_hours=Decimal(hours))
    return project


def test_a_coming_week_over_capacity_is_escalated_with_the_numbers_once(frozen_clock: Any, settings: Any) -> None:
    settings.DELIVERY_TEAM_HOURS_PER_WEEK = 100
    busy(frozen_clock, "240", weeks=2)  # 120 h a week for two weeks
    busy(frozen_clock, "40", weeks=4)  # 10 h a week

    first, second = assert_idempotent("resource_planning", {})

    assert [str(w["hours"]) for w in first.output["weeks"]] == ["130.0", "130.0", "10.0", "10.0"]
    assert len(first.output["over"]) == 2 and first.output["escalated"]
    warning = Escalation.objects.get(dedupe_key__endswith=":overload")
    assert "needs 130.0 h against a capacity of 100 h a week (130%)" in warning.reason
    assert warning.payload["heaviest"][0]["hours_left"] == "240.00"
    assert not second.output["escalated"]
    frozen_clock.tick(days(7))
    assert run_agent("resource_planning", {}).output["escalated"]  # a new week, a new warning


def test_work_within_capacity_raises_nothing(frozen_clock: Any, settings: Any) -> None:
    settings.DELIVERY_TEAM_HOURS_PER_WEEK = 120
    busy(frozen_clock, "100", weeks=2)

    result = run_agent("resource_planning", {})

    assert result.output["weeks"][0]["utilisation"] == 42 and not result.output["over"]
    assert not Escalation.objects.exists()


def test_done_work_and_closed_projects_weigh_nothing(frozen_clock: Any, settings: Any) -> None:
    settings.DELIVERY_TEAM_HOURS_PER_WEEK = 10
    project = busy(frozen_clock, "200", weeks=2)
    project.tasks.update(status="done")
    ProjectFactory.create(status=Project.Status.COMPLETED, committed_hours=Decimal("500"))

    result = run_agent("resource_planning", {})

    assert not result.output["over"] and not result.output["escalated"]
