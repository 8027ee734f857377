from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from crm.models import Conversation, Message
from sales.models import Client, Meeting, Payment
from smarter_team import clock
from tests.factories.delivery import MilestoneFactory, ProjectFactory, QAReviewFactory, SurveyResponseFactory
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, PaymentFactory

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


def troubled(**fields: Any) -> Client:
    """Late on money, late on work, unhappy and silent."""
    client = a_client(**fields)
    InvoiceFactory.create(client=client, due_on=clock.today() - dt.timedelta(days=35))
    failed = InvoiceFactory.create(client=client, due_on=clock.today() + dt.timedelta(days=5))
    PaymentFactory.create(invoice=failed, status=Payment.Status.FAILED, paid_at=None)
    project = ProjectFactory.create(client=client, starts_on=clock.today() - dt.timedelta(days=60))
    MilestoneFactory.create(project=project, due_on=clock.today() - dt.timedelta(days=12), status="in_progress")
    QAReviewFactory.create(deliverable__milestone__project=project, verdict="fail")
    assert client.primary_contact is not None
    Conversation.objects.create(lead=client.primary_contact, sentiment="negative", last_message_at=clock.now())
    return client


def thriving() -> Client:
    client = a_client()
    InvoiceFactory.create(client=client, paid=True, due_on=clock.today() - dt.timedelta(days=10))
    project = ProjectFactory.create(client=client, starts_on=clock.today() - dt.timedelta(days=60))
    MilestoneFactory.create(project=project, due_on=clock.today() - dt.timedelta(days=5), status="done")
    MilestoneFactory.create(project=project, due_on=clock.today() + dt.timedelta(days=20))
    SurveyResponseFactory.create(client=client, kind="nps", score=9, responded_at=clock.now() - dt.timedelta(days=20))
    client_said(client, "Thanks, the new flow works great!", intent="interested", days_ago=3)
    Conversation.objects.filter(lead=client.primary_contact).update(sentiment="positive")
    MeetingFactory.create(
        client=client, lead=client.primary_contact, kind=Meeting.Kind.CHECK_IN, status=Meeting.Status.HELD,
        starts_at=clock.now() - dt.timedelta(days=9),
    )  # fmt: skip
    return client
