"""Invariants of the delivery models that the database itself refuses to break."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tests.factories.delivery import (
    ChangeRequestFactory,
    ChurnRiskAssessmentFactory,
    ClientReportFactory,
    DeliverableFactory,
    HealthSnapshotFactory,
    MilestoneFactory,
    OffboardingFactory,
    OnboardingFactory,
    OnboardingTaskFactory,
    ProjectFactory,
    QAReviewFactory,
    SurveyResponseFactory,
    UpsellOpportunityFactory,
)

pytestmark = pytest.mark.django_db


def _refused(make: Callable[[], Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_the_factories_build_valid_rows() -> None:
    OnboardingTaskFactory.create()
    QAReviewFactory.create()
    ChangeRequestFactory.create()
    ClientReportFactory.create()
    ChurnRiskAssessmentFactory.create()
    UpsellOpportunityFactory.create()
    SurveyResponseFactory.create(kind="csat", score=5)
    SurveyResponseFactory.create(kind="exit", score=None)
    OffboardingFactory.create()
    DeliverableFactory.create()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: SurveyResponseFactory.create(kind="nps", score=11), id="NPS above 10"),
        pytest.param(lambda: SurveyResponseFactory.create(kind="csat", score=0), id="CSAT below 1"),
        pytest.param(lambda: SurveyResponseFactory.create(kind="csat", score=6), id="CSAT above 5"),
        pytest.param(lambda: HealthSnapshotFactory.create(score=101), id="health above 100"),
        pytest.param(lambda: MilestoneFactory.create(amount=Decimal("-1")), id="milestone negative amount"),
        pytest.param(lambda: MilestoneFactory.create(status="late"), id="milestone unknown status"),
        pytest.param(
            lambda: ProjectFactory.create(starts_on=dt.date(2026, 3, 2), due_on=dt.date(2026, 3, 1)),
            id="project due before start",
        ),
        pytest.param(lambda: ProjectFactory.create(committed_hours=Decimal("-1")), id="project negative hours"),
        pytest.param(
            lambda: ClientReportFactory.create(period_start=dt.date(2026, 3, 2), period_end=dt.date(2026, 3, 1)),
            id="report period reversed",
        ),
        pytest.param(lambda: ChangeRequestFactory.create(price=Decimal("-5")), id="change request negative price"),
        pytest.param(lambda: ChangeRequestFactory.create(currency="usd"), id="change request bad currency"),
        pytest.param(
            lambda: UpsellOpportunityFactory.create(estimated_value=Decimal("-1")), id="upsell negative value"
        ),
        pytest.param(
            lambda: OnboardingFactory.create(status="completed", completed_at=None), id="onboarding done, no time"
        ),
        pytest.param(
            lambda: OffboardingFactory.create(status="completed", completed_at=None), id="offboarding done, no time"
        ),
        pytest.param(lambda: QAReviewFactory.create(verdict="maybe"), id="QA unknown verdict"),
        pytest.param(lambda: ChurnRiskAssessmentFactory.create(level="extreme"), id="churn unknown level"),
    ],
)
def test_the_database_refuses(make: Callable[[], Any]) -> None:
    _refused(make)


def test_a_client_has_at_most_one_open_onboarding_and_offboarding() -> None:
    onboarding = OnboardingFactory.create()
    offboarding = OffboardingFactory.create()

    _refused(lambda: OnboardingFactory.create(client=onboarding.client, status="stuck"))
    _refused(lambda: OffboardingFactory.create(client=offboarding.client))
    # closed ones do not count
    OnboardingFactory.create(client=onboarding.client, status="canceled")


def test_the_database_refuses_duplicates() -> None:
    task = OnboardingTaskFactory.create()
    milestone = MilestoneFactory.create()
    snapshot = HealthSnapshotFactory.create()
    report = ClientReportFactory.create()
    project = ProjectFactory.create()

    _refused(lambda: OnboardingTaskFactory.create(onboarding=task.onboarding, item=task.item))
    _refused(lambda: MilestoneFactory.create(project=milestone.project, name=milestone.name))
    _refused(lambda: HealthSnapshotFactory.create(client=snapshot.client, taken_on=snapshot.taken_on))
    _refused(lambda: ClientReportFactory.create(client=report.client, period_start=report.period_start))
    _refused(lambda: ProjectFactory.create(client=project.client, name=project.name))
