"""Onboarding checklist and progress (delivery/services/onboarding.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from delivery.models import Onboarding
from delivery.selectors import open_onboarding, stalled_onboardings
from delivery.services import onboarding as svc
from sales.models import Client
from smarter_team import clock
from smarter_team.models import InvalidTransition
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db]


def _client() -> Client:
    return ClientFactory.create(status=Client.Status.ONBOARDING)


def test_starting_creates_the_tasks_in_order(frozen_clock: clock.FrozenClock) -> None:
    onboarding = svc.start_onboarding(client=_client(), items=["Sign DPA", "Share API keys", "Kickoff call"])

    assert onboarding.status == Onboarding.Status.IN_PROGRESS
    assert onboarding.started_at == onboarding.last_progress_at == frozen_clock.now
    assert list(onboarding.tasks.values_list("item", "order")) == [
        ("Sign DPA", 0),
        ("Share API keys", 1),
        ("Kickoff call", 2),
    ]


def test_starting_twice_returns_the_open_onboarding() -> None:
    client = _client()
    first = svc.start_onboarding(client=client, items=["Sign DPA"])

    again = svc.start_onboarding(client=client, items=["Something else"])

    assert again.pk == first.pk
    assert list(again.tasks.values_list("item", flat=True)) == ["Sign DPA"]


@pytest.mark.parametrize("items", [[], ["  "], ["a", "a"]])
def test_starting_needs_unique_items(items: list[str]) -> None:
    with pytest.raises(ValidationError):
        svc.start_onboarding(client=_client(), items=items)


def test_progress_updates_last_progress_and_unsticks(frozen_clock: clock.FrozenClock) -> None:
    onboarding = svc.start_onboarding(client=_client(), items=["a", "b"])
    svc.mark_onboarding_stuck(onboarding=onboarding)
    frozen_clock.tick(dt.timedelta(days=3))

    svc.complete_onboarding_task(task=onboarding.tasks.get(item="a"))

    onboarding.refresh_from_db()
    assert onboarding.status == Onboarding.Status.IN_PROGRESS
    assert onboarding.last_progress_at == frozen_clock.now
    assert onboarding.tasks.get(item="a").done_at == frozen_clock.now


def test_progress_on_an_in_progress_onboarding_is_saved(frozen_clock: clock.FrozenClock) -> None:
    onboarding = svc.start_onboarding(client=_client(), items=["a", "b"])
    frozen_clock.tick(dt.timedelta(days=1))

    svc.complete_onboarding_task(task=onboarding.tasks.get(item="a"))

    onboarding.refresh_from_db()
    assert onboarding.last_progress_at == frozen_clock.now


def test_the_last_task_completes_the_onboarding_and_activates_the_client(frozen_clock: clock.FrozenClock) -> None:
    client = _client()
    onboarding = svc.start_onboarding(client=client, items=["a", "b"])
    for task in onboarding.tasks.all():
        svc.complete_onboarding_task(task=task)

    onboarding.refresh_from_db()
    client.refresh_from_db()
    assert (onboarding.status, onboarding.completed_at) == (Onboarding.Status.COMPLETED, frozen_clock.now)
    assert client.status == Client.Status.ACTIVE
    assert open_onboarding(client=client) is None


def test_completing_a_task_twice_keeps_its_first_time(frozen_clock: clock.FrozenClock) -> None:
    onboarding = svc.start_onboarding(client=_client(), items=["a", "b"])
    task = onboarding.tasks.get(item="a")
    first = svc.complete_onboarding_task(task=task).done_at
    frozen_clock.tick(dt.timedelta(hours=1))

    assert svc.complete_onboarding_task(task=task).done_at == first


def test_a_canceled_onboarding_cannot_get_stuck() -> None:
    onboarding = svc.cancel_onboarding(onboarding=svc.start_onboarding(client=_client(), items=["a"]))

    with pytest.raises(InvalidTransition):
        svc.mark_onboarding_stuck(onboarding=onboarding)


def test_stalled_onboardings_are_the_idle_open_ones(frozen_clock: clock.FrozenClock) -> None:
    idle = svc.start_onboarding(client=_client(), items=["a", "b"])
    frozen_clock.tick(dt.timedelta(days=5))
    svc.start_onboarding(client=_client(), items=["a"])
    svc.record_onboarding_nudge(onboarding=idle)

    stalled = list(stalled_onboardings(idle_since=frozen_clock.now - dt.timedelta(days=2)))

    assert [o.pk for o in stalled] == [idle.pk]
    assert stalled[0].open_tasks == 2  # type: ignore[attr-defined]
    assert Onboarding.objects.get(pk=idle.pk).nudges_sent == 1
