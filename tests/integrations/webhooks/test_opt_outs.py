"""An opt-out is suppressed when its event is processed, whatever agents exist and whatever fails.

Run with no agent registered at all: the processing service suppresses the address itself, in a
transaction of its own that commits before the handler, so neither a missing agent nor a failing
handler can lose it; the event then fails clearly and stays replayable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agents import registry
from crm.models import Lead, SuppressionEntry
from crm.services.suppression import is_suppressed, record_opt_out
from integrations.models import WebhookEvent
from integrations.webhooks import services
from integrations.webhooks.providers import PROVIDERS, instantly
from tests.factories.crm import LeadFactory
from tests.integrations.webhooks.conftest import fixture_json

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_agents() -> Iterator[None]:
    """Every agent unregistered for the test (the stand-ins and any real ones), restored after."""
    saved = list(registry.all_agents())
    for cls in saved:
        registry.unregister(cls.name)
    yield
    for cls in saved:
        if not registry.is_registered(cls.name):
            registry.register(cls)


def receive(post_signed: Any, name: str, **changes: Any) -> WebhookEvent:
    body = json.dumps({**fixture_json("instantly", name), **changes}).encode()
    response = post_signed("instantly", body)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(event_id=response.json()["event_id"])


@pytest.mark.parametrize(
    ("name", "changes", "reason", "lead_status"),
    [
        ("lead_unsubscribed", {}, "unsubscribe", "unsubscribed"),
        ("email_complained", {}, "complaint", "unsubscribed"),
        ("email_bounced", {"bounce_type": "hard"}, "hard_bounce", "bounced"),
    ],
)
def test_an_opt_out_is_suppressed_with_no_agent_registered_and_the_event_fails_replayably(
    no_agents: None, post_signed: Any, name: str, changes: dict[str, Any], reason: str, lead_status: str
) -> None:
    address = fixture_json("instantly", name)["lead_email"]
    lead = LeadFactory.create(email=address, status="contacted") if lead_status else None
    event = receive(post_signed, name, **changes)

    assert services.process_event(event_pk=event.pk) == "failed"

    entry = SuppressionEntry.objects.get()
    assert (entry.value, entry.reason, entry.source) == (address, reason, "webhook:instantly")
    assert is_suppressed(address)
    assert lead is not None
    lead.refresh_from_db()
    assert lead.do_not_contact and lead.status == lead_status
    event.refresh_from_db()
    assert event.status == "failed"
    assert "no agent to hand this event to" in event.error and "replay it once the agent is registered" in event.error
    assert address not in event.error


def test_a_failing_handler_cannot_roll_the_suppression_back(post_signed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(event: WebhookEvent, payload: Any) -> bool:
        raise RuntimeError("the agent runtime is down")

    monkeypatch.setitem(instantly.PROVIDER.handlers, "lead_unsubscribed", explode)
    event = receive(post_signed, "lead_unsubscribed")
    assert services.process_event(event_pk=event.pk) == "failed"
    assert is_suppressed(fixture_json("instantly", "lead_unsubscribed")["lead_email"])


def test_a_replayed_opt_out_suppresses_once_and_a_soft_bounce_suppresses_nobody(post_signed: Any) -> None:
    event = receive(post_signed, "lead_unsubscribed")
    assert services.process_event(event_pk=event.pk) == "processed"
    services.replay_event(event=event)
    services.process_event(event_pk=event.pk)
    assert SuppressionEntry.objects.count() == 1

    soft = receive(post_signed, "email_bounced", bounce_type="soft", email_id="em_soft")
    assert services.process_event(event_pk=soft.pk) == "processed"
    assert not is_suppressed(fixture_json("instantly", "email_bounced")["lead_email"])


def test_an_opt_out_naming_a_domain_or_nothing_suppresses_nothing(post_signed: Any) -> None:
    for value in ("northlegal.com", "", "\u0000"):
        event = receive(post_signed, "lead_unsubscribed", lead_email=value, email_id=f"em_{value!r}")
        services.process_event(event_pk=event.pk)
    assert not SuppressionEntry.objects.exists()
    assert not Lead.objects.filter(do_not_contact=True).exists()


def test_record_opt_out_is_the_single_entry_point_and_takes_only_opt_outs() -> None:
    with pytest.raises(ValueError, match="not an opt-out"):
        record_opt_out(email="a@b.example", reason="manual", source="test")
    with pytest.raises(ValueError, match="not a domain"):
        record_opt_out(email="b.example", reason="unsubscribe", source="test")
    assert record_opt_out(email="A@B.example", reason="unsubscribe", source="one-click").value == "a@b.example"


def test_every_opt_out_type_is_urgent() -> None:
    for provider in PROVIDERS.values():
        assert set(provider.opt_outs) <= provider.urgent
