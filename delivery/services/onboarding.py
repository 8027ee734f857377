"""Onboarding: the checklist a new client goes through, and its progress."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery.models import Onboarding, OnboardingTask
from sales.models import Client
from smarter_team import clock

S = Onboarding.Status


def start_onboarding(*, client: Client, items: Sequence[str], shared_folder_url: str = "") -> Onboarding:
    """Open the client's onboarding with one task per checklist item, in order.

    Idempotent: while an onboarding is open (in progress or stuck) it is returned unchanged; the
    database allows only one open onboarding per client.
    """
    names = [item.strip() for item in items if item.strip()]
    if not names:
        raise ValidationError("An onboarding needs at least one checklist item", code="no_items")
    if len(set(names)) != len(names):
        raise ValidationError("Checklist items must be unique", code="duplicate_items")
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()  # serialise starts for one client
        existing = Onboarding.objects.filter(client=client, status__in=[S.IN_PROGRESS, S.STUCK]).first()
        if existing is not None:
            return existing
        now = clock.now()
        onboarding = Onboarding.objects.create(
            client=client, started_at=now, last_progress_at=now, shared_folder_url=shared_folder_url
        )
        OnboardingTask.objects.bulk_create(
            OnboardingTask(onboarding=onboarding, item=name, order=index) for index, name in enumerate(names)
        )
        return onboarding


def complete_onboarding_task(*, task: OnboardingTask) -> OnboardingTask:
    """Tick one item off. Progress un-sticks the onboarding; the last item completes it and the
    client becomes active."""
    with transaction.atomic():
        onboarding = Onboarding.objects.select_for_update().get(pk=task.onboarding_id)
        task = OnboardingTask.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            return task
        if onboarding.status not in (S.IN_PROGRESS, S.STUCK):
            raise ValidationError(f"The onboarding is {onboarding.status}", code="onboarding_closed")
        now = clock.now()
        task.done_at = now
        task.save(update_fields=["done_at"])
        onboarding.last_progress_at = now
        if onboarding.tasks.filter(done_at__isnull=True).exists():
            onboarding.transition_to(S.IN_PROGRESS, also=["last_progress_at"])
        else:
            onboarding.completed_at = now
            onboarding.transition_to(S.COMPLETED, also=["last_progress_at", "completed_at"])
            client = Client.objects.select_for_update().get(pk=onboarding.client_id)
            if client.status == Client.Status.ONBOARDING:
                client.transition_to(Client.Status.ACTIVE)
        return task


def mark_onboarding_stuck(*, onboarding: Onboarding) -> Onboarding:
    with transaction.atomic():
        onboarding = Onboarding.objects.select_for_update().get(pk=onboarding.pk)
        onboarding.transition_to(S.STUCK)
        return onboarding


def record_onboarding_nudge(*, onboarding: Onboarding) -> Onboarding:
    """Count a reminder sent to the client about open items."""
    with transaction.atomic():
        onboarding = Onboarding.objects.select_for_update().get(pk=onboarding.pk)
        onboarding.nudges_sent += 1
        onboarding.save(update_fields=["nudges_sent"])
        return onboarding


def cancel_onboarding(*, onboarding: Onboarding) -> Onboarding:
    with transaction.atomic():
        onboarding = Onboarding.objects.select_for_update().get(pk=onboarding.pk)
        onboarding.transition_to(S.CANCELED)
        return onboarding
