"""The meeting agents' world: leads the sandbox market knows, in their own zones, who wrote to us."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from agents import registry
from agents.base import Agent, Empty
from agents.errors import UnknownAgent
from agents.registry import register
from crm.models import Company, Conversation, Lead, Message
from integrations.models import SandboxRecord
from integrations.sandbox.world import Person, search_people
from sales.agents.meeting.no_show import MeetingRef
from smarter_team import clock


@pytest.fixture(autouse=True)
def sandbox_world(sandbox_world: None) -> None:
    """Every test here lives on the embedded default's sandbox market (tests/conftest.py)."""


def person_in(city: str, n: int = 0) -> Person:
    """The n-th person a search for dental clinics in ``city`` finds."""
    found = search_people(query="dental clinics", location=city, start=0, count=60)
    return [p for p in found if p.company.city == city][n]


def market_lead(person: Person, *, status: str = Lead.Status.INTERESTED, time_zone: str | None = None) -> Lead:
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    c = person.company
    company, _ = Company.objects.get_or_create(domain=c.domain, defaults={"name": c.name, "industry": c.industry})
    country = {"Australia": "AU", "Germany": "DE", "United States": "US", "United Kingdom": "GB"}.get(c.country, "")
    return Lead.objects.create(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        company=company,
        country=country,
        time_zone=c.timezone if time_zone is None else time_zone,
        email_status="valid",
        status=status,
    )


def wrote(lead: Lead, text: str, *, at: dt.datetime | None = None, n: int = 1) -> Message:
    """An inbound reply from the lead, received ``at`` (default: now)."""
    when = at or clock.now()
    conversation = Conversation.objects.filter(lead=lead).first() or Conversation.objects.create(lead=lead)
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.IN,
        from_email=lead.email or "",
        to_email="alex@agency.example",
        subject="Re: Quick idea",
        body=text,
        status=Message.Status.DELIVERED,
        sent_at=when,
        intent="interested",
        provider_message_id=f"<in-{lead.pk}-{n}@mail.example>",
        idempotency_key=f"test:inbound:{lead.pk}:{n}",
    )


@pytest.fixture
def sydney_lead(frozen_clock: Any) -> Lead:
    return market_lead(person_in("Sydney"))


@pytest.fixture
def berlin_lead(frozen_clock: Any) -> Lead:
    return market_lead(person_in("Berlin"))


class _Prep(Agent[MeetingRef, Empty]):
    """A stand-in for meeting_prep (built in another package): records that it was asked."""

    name, category, trigger = "meeting_prep", "meeting", "handoff"
    Input = MeetingRef

    def act(self, ctx: Any, facts: Any) -> Empty:
        return Empty()


@pytest.fixture
def prep_agent() -> Iterator[None]:
    """meeting_prep registered for the test when it is not built yet (the real one when it is)."""
    try:
        registry.get("meeting_prep")
        yield
        return
    except UnknownAgent:
        register(_Prep)
    yield
    registry.unregister("meeting_prep")
