"""access_revocation: every recorded access taken back; personal data kept or erased as the policy says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.models import Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Lead, Message, SuppressionEntry
from crm.services.suppression import is_suppressed, value_hash
from delivery.agents.offboarding.common import ACCESS, CHECKLIST, item_done
from delivery.models import ClientAccess, Offboarding
from delivery.services.offboarding import start_offboarding
from integrations.http.errors import PermanentError
from integrations.models import SandboxRecord
from integrations.sandbox.work import SandboxProjectTool
from sales.models import Client
from tests.delivery.agents.lifecycle import delivered_client
from tests.factories.delivery import ClientAccessFactory

pytestmark = pytest.mark.django_db


def leaving(client: Client) -> Offboarding:
    return start_offboarding(client=client, reason="Budget cut", checklist=CHECKLIST)


def revoke(offboarding: Offboarding) -> dict[str, Any]:
    result = run_agent("access_revocation", {"offboarding_id": offboarding.pk})
    assert result.status == "succeeded", result.error
    return result.output


@pytest.mark.usefixtures("frozen_clock")
def test_every_access_is_taken_back_by_hand_with_who_and_when_and_a_human_confirms() -> None:
    client = delivered_client()
    never_granted = ClientAccessFactory.create(
        client=client, system="Shopify", kind="collaborator", status="requested", granted_at=None
    )
    offboarding = leaving(client)

    out = revoke(offboarding)

    held = ClientAccess.objects.filter(client=client).exclude(pk=never_granted.pk)
    assert sorted(out["by_hand"]) == sorted(a.pk for a in held)
    for access in held:
        assert access.status == "revoked" and access.revoked_at is not None
        assert access.revocation == "manual" and "access_revocation" in access.revoked_by
    never_granted.refresh_from_db()
    assert never_granted.status == "withdrawn" and out["withdrawn"] == [never_granted.pk]
    offboarding.refresh_from_db()
    assert offboarding.access_revoked_at is not None and item_done(offboarding, ACCESS)
    ask = Message.objects.get(idempotency_key=f"offboarding:{offboarding.pk}:access-removal")
    assert "HubSpot" in ask.body and "Slack" in ask.body and "Shopify" not in ask.body
    escalation = Escalation.objects.get(dedupe_key=f"offboarding:{offboarding.pk}:manual-access-removal")
    assert "2 access(es) must be removed by hand" in escalation.reason
    archive = SandboxRecord.objects.get(kind="document", data__name__icontains="archive of the engagement")
    assert archive.data["recipients"] == []


@pytest.mark.usefixtures("frozen_clock")
def test_an_access_whose_role_can_revoke_it_is_revoked_through_the_provider(monkeypatch: Any) -> None:
    calls: list[tuple[str, str]] = []

    def revoke_access(self: Any, *, idempotency_key: str, resource_id: str) -> None:
        calls.append((idempotency_key, resource_id))

    monkeypatch.setattr(SandboxProjectTool, "revoke_access", revoke_access, raising=False)
    client = delivered_client()
    ClientAccess.objects.filter(client=client).delete()
    access = ClientAccessFactory.create(
        client=client, system="Their ClickUp", kind="guest", role="project_tool", resource_id="space_42"
    )
    offboarding = leaving(client)

    out = revoke(offboarding)

    access.refresh_from_db()
    assert out["through_provider"] == [access.pk] and calls == [
        (f"offboarding.revoke_access:access:{access.pk}:revoke", "space_42")
    ]
    assert access.status == "revoked" and access.revocation == "provider"
    assert access.revoked_by == "access_revocation via sandbox"
    offboarding.refresh_from_db()
    assert offboarding.access_revoked_at is not None
    assert not Escalation.objects.exists() and not Message.objects.exists()


@pytest.mark.usefixtures("frozen_clock")
def test_a_provider_that_refuses_leaves_it_to_a_person_who_is_told(monkeypatch: Any) -> None:
    def revoke_access(self: Any, *, idempotency_key: str, resource_id: str) -> None:
        raise PermanentError("guest not found", provider="sandbox", operation="revoke_access")

    monkeypatch.setattr(SandboxProjectTool, "revoke_access", revoke_access, raising=False)
    client = delivered_client()
    ClientAccess.objects.filter(client=client).delete()
    access = ClientAccessFactory.create(client=client, system="Their ClickUp", role="project_tool", resource_id="x")
    offboarding = leaving(client)

    run_agent("access_revocation", {"offboarding_id": offboarding.pk})

    access.refresh_from_db()
    assert access.status == "revoked" and access.revocation == "manual" and "guest not found" in access.note
    assert Escalation.objects.filter(dedupe_key=f"access:{access.pk}:revoke-failed").exists()
    offboarding.refresh_from_db()
    assert offboarding.access_revoked_at is not None


@pytest.mark.usefixtures("frozen_clock")
def test_with_the_keep_policy_the_clients_people_are_kept_as_they_are() -> None:
    client = delivered_client()
    contact = client.primary_contact
    assert contact is not None and contact.email

    out = revoke(leaving(client))

    contact.refresh_from_db()
    assert out["kept_people"] == 1 and out["erased_people"] == 0
    assert contact.email and contact.first_name and not is_suppressed(contact.email)


def test_with_the_erase_policy_people_are_erased_when_due_and_only_the_hash_survives(
    settings: Any, frozen_clock: Any
) -> None:
    settings.DELIVERY_LIFECYCLE = {"contact_data": "erase", "erase_after_days": 30}
    client = delivered_client()
    contact = client.primary_contact
    assert contact is not None and contact.email
    address = contact.email
    offboarding = leaving(client)

    out = revoke(offboarding)

    assert out["erased_people"] == 0 and out["erase_on"] == {str(offboarding.pk): "2026-04-01"}
    frozen_clock.tick(dt.timedelta(days=29))
    assert run_agent("access_revocation").output["erased_people"] == 0  # the daily run: not yet due
    frozen_clock.tick(dt.timedelta(days=1))
    swept = run_agent("access_revocation")

    assert swept.output["erased_people"] == 1
    contact.refresh_from_db()
    assert contact.email is None and contact.first_name == "" and contact.do_not_contact
    entry = SuppressionEntry.objects.get(value_hash=value_hash(address))
    assert entry.value == "" and entry.reason == "gdpr_erasure"
    assert is_suppressed(address)
    assert run_agent("access_revocation").output["erased_people"] == 0  # nothing left to erase


def test_a_client_who_came_back_is_not_erased(settings: Any, frozen_clock: Any) -> None:
    settings.DELIVERY_LIFECYCLE = {"contact_data": "erase", "erase_after_days": 0}
    client = delivered_client()
    offboarding = leaving(client)
    Client.objects.filter(pk=client.pk).update(status=Client.Status.ONBOARDING)  # signed again

    out = revoke(offboarding)

    assert out["erased_people"] == 0
    assert Lead.objects.filter(company=client.company, email__isnull=False).exists()


@pytest.mark.usefixtures("frozen_clock")
def test_revoking_twice_changes_nothing_the_second_time() -> None:
    offboarding = leaving(delivered_client())

    assert_idempotent("access_revocation", {"offboarding_id": offboarding.pk})

    assert Message.objects.filter(intent="offboarding_access_removal").count() == 1
