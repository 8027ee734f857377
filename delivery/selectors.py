"""Reads of the delivery app."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from delivery.models import HealthSnapshot, Milestone, Onboarding, SurveyResponse
from sales.models import Client


def open_onboarding(*, client: Client) -> Onboarding | None:
    return Onboarding.objects.filter(
        client=client, status__in=[Onboarding.Status.IN_PROGRESS, Onboarding.Status.STUCK]
    ).first()


def stalled_onboardings(*, idle_since: dt.datetime) -> QuerySet[Onboarding]:
    """Open onboardings without progress since ``idle_since`` (the nudge agent's work list)."""
    return (
        Onboarding.objects.filter(
            status__in=[Onboarding.Status.IN_PROGRESS, Onboarding.Status.STUCK], last_progress_at__lt=idle_since
        )
        .select_related("client__company")
        .annotate(open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True)))
        .order_by("last_progress_at", "pk")
    )


def milestones_due_by(*, day: dt.date) -> QuerySet[Milestone]:
    """Unfinished milestones due on or before ``day``."""
    return (
        Milestone.objects.filter(
            due_on__lte=day,
            status__in=[Milestone.Status.PENDING, Milestone.Status.IN_PROGRESS, Milestone.Status.AT_RISK],
        )
        .select_related("project__client__company")
        .order_by("due_on", "pk")
    )


def latest_health_snapshot(*, client: Client) -> HealthSnapshot | None:
    return HealthSnapshot.objects.filter(client=client).order_by("-taken_on").first()


# A reply this long after the exit survey went out is a new conversation, not its answer.
EXIT_ANSWER_WINDOW = dt.timedelta(days=60)


def offboarding_awaiting_exit_answer(*, company_id: int, now: dt.datetime) -> int | None:
    """The offboarding whose exit survey this company's people were sent and have not answered yet."""
    survey = (
        SurveyResponse.objects.filter(
            client__company_id=company_id,
            kind=SurveyResponse.Kind.EXIT,
            sent_at__gte=now - EXIT_ANSWER_WINDOW,
            responded_at__isnull=True,
        )
        .order_by("-sent_at", "-pk")
        .first()
    )
    found = survey.answers.get("offboarding_id") if survey is not None else None
    return found if isinstance(found, int) else None
