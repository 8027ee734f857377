"""offboarding_orchestrator: the checklist, the handoffs once, and closing when every item is done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.models import AgentRun
from agents.registry import is_registered
from agents.testing import assert_idempotent, drain, run_agent
from delivery.agents.offboarding.common import ACCESS, CHECKLIST, FINAL_INVOICE, HANDOVER, SURVEY
from delivery.models import Offboarding, Onboarding
from delivery.services.onboarding import start_onboarding
from sales.models import Client
from smarter_team import clock
from tests.delivery.agents.lifecycle import delivered_client, signed_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def offboard(client: Client, reason: str = "Contract not renewed: budget cut") -> dict[str, Any]:
    result = run_agent("offboarding_orchestrator", {"client_id": client.pk, "reason": reason})
    assert result.status == "succeeded", result.error
    return {"result": result, "offboarding": Offboarding.objects.get(client=client)}


def test_a_leaving_client_gets_the_checklist_a_cool_off_and_every_item_handed_off(frozen_clock: Any) -> None:
    client = delivered_client()

    started = offboard(client)

    offboarding, result = started["offboarding"], started["result"]
    assert [e["item"] for e in offboarding.checklist] == list(CHECKLIST)
    assert offboarding.reason == "Contract not renewed: budget cut"
    assert offboarding.reactivation_after == frozen_clock.now.date() + dt.timedelta(days=90)
    client.refresh_from_db()
    assert client.status == Client.Status.CHURNED
    handed = {r.agent_name: r.input for r in result.handoffs}
    assert handed["knowledge_transfer"] == handed["access_revocation"] == {"offboarding_id": offboarding.pk}
    assert handed["exit_survey"] == {"offboarding_id": offboarding.pk, "message_id": None}
    if is_registered("invoice_generation"):
        assert handed["invoice_generation"]["kind"] == "final"


def test_the_cool_off_follows_the_policy(settings: Any, frozen_clock: Any) -> None:
    settings.DELIVERY_LIFECYCLE = {"client_cool_off_days": 30}

    offboarding = offboard(delivered_client())["offboarding"]

    assert offboarding.reactivation_after == frozen_clock.now.date() + dt.timedelta(days=30)


def test_leaving_during_onboarding_cancels_the_onboarding() -> None:
    client = signed_client()
    onboarding = start_onboarding(client=client, items=["Welcome email sent"])

    offboard(client, reason="Changed their mind in the first week")

    onboarding.refresh_from_db()
    assert onboarding.status == Onboarding.Status.CANCELED


def test_an_offboarding_needs_a_reason_and_an_offboarded_client_is_skipped() -> None:
    client = delivered_client()
    assert run_agent("offboarding_orchestrator", {"client_id": client.pk}).status == "skipped"
    Client.objects.filter(pk=client.pk).update(status=Client.Status.OFFBOARDED)

    result = run_agent("offboarding_orchestrator", {"client_id": client.pk, "reason": "again"})

    assert result.status == "skipped" and "offboarded already" in result.error
    assert not Offboarding.objects.exists()


def test_a_second_request_while_it_runs_starts_nothing_again() -> None:
    client = delivered_client()

    first, _second = assert_idempotent("offboarding_orchestrator", {"client_id": client.pk, "reason": "budget"})

    assert Offboarding.objects.count() == 1 and first.output["started"]


def test_the_chain_ticks_its_items_and_the_daily_look_closes_it_once_the_final_invoice_exists() -> None:
    client = delivered_client()
    offboarding = offboard(client)["offboarding"]
    # invoice_generation is built now and would bill at once: hold its run back to see the look wait for it.
    billing = AgentRun.objects.filter(agent_name="invoice_generation", status=AgentRun.Status.QUEUED)
    held = list(billing.values_list("pk", flat=True))
    billing.update(due_at=clock.now() + dt.timedelta(days=365))
    drain()  # knowledge_transfer, access_revocation, exit_survey
    offboarding.refresh_from_db()
    done = {e["item"] for e in offboarding.checklist if e["done_at"]}
    assert done == {HANDOVER, ACCESS, SURVEY} and offboarding.status == Offboarding.Status.IN_PROGRESS

    assert run_agent("offboarding_orchestrator").output["completed"] == []  # nothing billed yet
    # The real final invoice, or invoice_generation finding nothing left to bill, both count.
    AgentRun.objects.filter(pk__in=held).update(due_at=clock.now())
    assert [r.status for r in drain() if r.pk in held] == [AgentRun.Status.SUCCEEDED]
    swept = run_agent("offboarding_orchestrator")

    assert swept.output["completed"] == [offboarding.pk]
    assert swept.output["ticked"] == {str(offboarding.pk): [FINAL_INVOICE]}
    offboarding.refresh_from_db()
    client.refresh_from_db()
    assert offboarding.status == Offboarding.Status.COMPLETED and offboarding.completed_at is not None
    assert client.status == Client.Status.OFFBOARDED


def test_invoice_generation_finding_nothing_to_bill_counts_as_the_final_invoice_done() -> None:
    client = delivered_client()
    offboarding = offboard(client)["offboarding"]
    AgentRun.objects.create(
        agent_name="invoice_generation", status=AgentRun.Status.SUCCEEDED, trigger=AgentRun.Trigger.HANDOFF,
        input={"client_id": client.pk, "kind": "final"}, idempotency_key="invoice-final-test", queue="sales",
    )  # fmt: skip

    swept = run_agent("offboarding_orchestrator")

    assert swept.output["ticked"] == {str(offboarding.pk): [FINAL_INVOICE]}
