from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from crm.models import Conversation, Message
from sales.models import Client
from smarter_team import clock
from tests.factories.sales import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(frozen_clock: clock.FrozenClock) -> Iterator[clock.FrozenClock]:
    """Every retention test runs on the frozen Monday morning (factories read the clock too)."""
    yield frozen_clock


def a_client(**fields: Any) -> Client:
    fields.setdefault("started_on", clock.today() - dt.timedelta(days=120))
    fields.setdefault("contract_end", clock.today() + dt.timedelta(days=245))
    return ClientFactory.create(**fields)


def client_said(client: Client, body: str, *, intent: str = "", days_ago: int = 0, subject: str = "") -> Message:
    """An inbound message from the client's contact, as email_response_handler stores it."""
    assert client.primary_contact is not None
    conversation, _ = Conversation.objects.get_or_create(lead=client.primary_contact, channel="email")
    at = clock.now() - dt.timedelta(days=days_ago)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.IN,
        from_email=client.primary_contact.email or "",
        subject=subject,
        body=body,
        intent=intent,
        status=Message.Status.DELIVERED,
        sent_at=at,
        idempotency_key=f"inbound:test:{Message.objects.count()}:{client.pk}",
    )
    Message.objects.filter(pk=message.pk).update(created_at=at)
    conversation.last_message_at = at
    conversation.save(update_fields=["last_message_at"])
    message.refresh_from_db()
    return message
