"""Offboarding checklist and completion (delivery/services/offboarding.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from delivery.models import Offboarding
from delivery.services import offboarding as svc
from sales.models import Client
from smarter_team import clock
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _start(client: Client | None = None) -> Offboarding:
    return svc.start_offboarding(
        client=client or ClientFactory.create(), reason="Budget cut", checklist=["Export data", "Revoke access"]
    )


def test_starting_churns_the_client_and_opens_the_checklist() -> None:
    offboarding = _start()

    offboarding.client.refresh_from_db()
    assert offboarding.client.status == Client.Status.CHURNED
    assert offboarding.checklist == [
        {"item": "Export data", "done_at": None},
        {"item": "Revoke access", "done_at": None},
    ]


def test_starting_twice_returns_the_open_offboarding() -> None:
    client = ClientFactory.create()
    first = _start(client)

    assert _start(client).pk == first.pk
    assert Offboarding.objects.count() == 1


def test_it_completes_only_when_every_item_is_done() -> None:
    offboarding = _start()
    offboarding = svc.complete_offboarding_item(offboarding=offboarding, item="Export data")

    with pytest.raises(ValidationError, match="Revoke access"):
        svc.complete_offboarding(offboarding=offboarding)

    svc.complete_offboarding_item(offboarding=offboarding, item="Revoke access")
    svc.record_access_revoked(offboarding=offboarding)
    offboarding = svc.complete_offboarding(offboarding=offboarding, handover_document="# Handover")

    assert (offboarding.status, offboarding.completed_at) == (Offboarding.Status.COMPLETED, clock.now())
    assert offboarding.access_revoked_at == clock.now()
    offboarding.client.refresh_from_db()
    assert offboarding.client.status == Client.Status.OFFBOARDED


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(ValidationError, match="not on the offboarding checklist"):
        svc.complete_offboarding_item(offboarding=_start(), item="Shred the contract")
