"""Factories for the delivery app's models (realistic rows that satisfy every database constraint)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from delivery.models import (
    ChangeRequest,
    ChurnRiskAssessment,
    ClientAccess,
    ClientReport,
    Deliverable,
    HealthSnapshot,
    Milestone,
    Offboarding,
    Onboarding,
    OnboardingTask,
    Project,
    ProjectTask,
    QAReview,
    SurveyResponse,
    UpsellOpportunity,
)
from smarter_team import clock
from tests.factories.sales import ClientFactory


class OnboardingFactory(DjangoModelFactory[Onboarding]):
    class Meta:
        model = Onboarding

    client = factory.SubFactory(ClientFactory, status="onboarding")
    status = Onboarding.Status.IN_PROGRESS
    started_at = factory.LazyFunction(clock.now)
    last_progress_at = factory.LazyAttribute(lambda o: o.started_at)
    shared_folder_url = "https://drive.example.com/folders/onboarding"


class OnboardingTaskFactory(DjangoModelFactory[OnboardingTask]):
    class Meta:
        model = OnboardingTask

    onboarding = factory.SubFactory(OnboardingFactory)
    item = factory.Sequence(lambda n: f"Share access to system {n}")
    order = factory.Sequence(lambda n: n)


class ProjectFactory(DjangoModelFactory[Project]):
    class Meta:
        model = Project

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Support assistant build {n}")
    status = Project.Status.ACTIVE
    starts_on = factory.LazyFunction(clock.today)
    due_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=42))
    pm_tool_id = factory.Sequence(lambda n: f"list_{n}")
    committed_hours = Decimal("120.00")


class MilestoneFactory(DjangoModelFactory[Milestone]):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    order = factory.Sequence(lambda n: n)
    due_on = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=14))
    acceptance_criteria = factory.LazyFunction(lambda: ["answers 90% of the test questions", "handoff to a human"])
    amount = Decimal("3000.00")


class ProjectTaskFactory(DjangoModelFactory[ProjectTask]):
    class Meta:
        model = ProjectTask

    project = factory.SubFactory(ProjectFactory)
    milestone = factory.SubFactory(MilestoneFactory, project=factory.SelfAttribute("..project"))
    key = factory.Sequence(lambda n: f"factory:task:{n}")
    title = factory.Sequence(lambda n: f"M1. Build the answer flow {n}")
    description = "Milestone: Build\nEstimate: 8h"
    estimate_hours = Decimal("8.00")
    due_on = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=7))
    status = ProjectTask.Status.TO_DO


class DeliverableFactory(DjangoModelFactory[Deliverable]):
    class Meta:
        model = Deliverable

    milestone = factory.SubFactory(MilestoneFactory)
    name = factory.Sequence(lambda n: f"Deliverable {n}")
    url = "https://docs.example.com/deliverable"
    description = "Prompt library and evaluation report."
    status = Deliverable.Status.IN_PROGRESS


class QAReviewFactory(DjangoModelFactory[QAReview]):
    class Meta:
        model = QAReview

    deliverable = factory.SubFactory(DeliverableFactory, status=Deliverable.Status.APPROVED)
    verdict = QAReview.Verdict.PASS
    findings = factory.LazyFunction(lambda: [{"criterion": "accuracy", "met": True, "note": "92% on the test set"}])


class ChangeRequestFactory(DjangoModelFactory[ChangeRequest]):
    class Meta:
        model = ChangeRequest

    project = factory.SubFactory(ProjectFactory)
    description = "Add a Slack channel to the assistant."
    price = Decimal("1800.00")
    currency = "USD"
    status = ChangeRequest.Status.PRICED


class ClientReportFactory(DjangoModelFactory[ClientReport]):
    class Meta:
        model = ClientReport

    client = factory.SubFactory(ClientFactory)
    period_start = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=7 * n))
    period_end = factory.LazyAttribute(lambda o: o.period_start + dt.timedelta(days=6))
    content = "Tickets deflected: 41%. Median first response: 12s."


class HealthSnapshotFactory(DjangoModelFactory[HealthSnapshot]):
    class Meta:
        model = HealthSnapshot

    client = factory.SubFactory(ClientFactory)
    taken_on = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    score = 74
    components = factory.LazyFunction(lambda: {"payments": 90, "sentiment": 70, "delivery": 75, "engagement": 60})


class ChurnRiskAssessmentFactory(DjangoModelFactory[ChurnRiskAssessment]):
    class Meta:
        model = ChurnRiskAssessment

    client = factory.SubFactory(ClientFactory)
    snapshot = factory.SubFactory(HealthSnapshotFactory, client=factory.SelfAttribute("..client"))
    level = ChurnRiskAssessment.Level.MEDIUM
    factors = factory.LazyFunction(lambda: ["two late invoices", "fewer logins"])
    save_play = "Book a check-in and share the ROI report."


class UpsellOpportunityFactory(DjangoModelFactory[UpsellOpportunity]):
    class Meta:
        model = UpsellOpportunity

    client = factory.SubFactory(ClientFactory)
    title = "Add a voice channel"
    rationale = "Call volume is 3x ticket volume."
    estimated_value = Decimal("2400.00")
    currency = "USD"


class SurveyResponseFactory(DjangoModelFactory[SurveyResponse]):
    class Meta:
        model = SurveyResponse

    client = factory.SubFactory(ClientFactory)
    kind = SurveyResponse.Kind.NPS
    score = 9
    answers = factory.LazyFunction(lambda: {"why": "fast and responsive team"})
    sent_at = factory.LazyFunction(clock.now)
    responded_at = factory.LazyFunction(clock.now)


class OffboardingFactory(DjangoModelFactory[Offboarding]):
    class Meta:
        model = Offboarding

    client = factory.SubFactory(ClientFactory, status="churned")
    reason = "Budget cut after a reorganisation."
    checklist = factory.LazyFunction(
        lambda: [{"item": "Export data", "done_at": None}, {"item": "Revoke access", "done_at": None}]
    )
    reactivation_after = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=90))


class ClientAccessFactory(DjangoModelFactory[ClientAccess]):
    class Meta:
        model = ClientAccess

    client = factory.SubFactory(ClientFactory)
    system = factory.Iterator(["HubSpot", "Slack", "Shopify", "WordPress", "Notion"])
    kind = factory.Iterator([c for c, _ in ClientAccess.Kind.choices])
    status = ClientAccess.Status.GRANTED
    requested_at = factory.LazyFunction(lambda: clock.now() - dt.timedelta(days=30))
    granted_at = factory.LazyFunction(lambda: clock.now() - dt.timedelta(days=28))
    note = "how: a user seat with CRM access"
