"""Given a client who signed: the start of every delivery test (a person of the sandbox market,
their company, the signed proposal with its scope, the client, and an open project when asked)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crm.models import Company, Lead, Message
from delivery.models import Project
from integrations.models import SandboxRecord
from integrations.sandbox.world import Person, search_people
from sales.models import Client, Proposal
from sales.services.clients import create_client_from_proposal
from smarter_team import clock
from tests.factories.crm import ConversationFactory, MessageFactory
from tests.factories.sales import ProposalFactory

# What transcript_processing writes from a discovery call: each item with the line it came from.
REQUIREMENTS: dict[str, Any] = {
    "needs": [
        {"text": "follow-ups fall through the cracks between sales and operations", "line": 3,
         "quote": "follow-ups fall through the cracks between sales and operations"},
        {"text": "reporting for our clients is a manual spreadsheet job every Friday", "line": 3,
         "quote": "reporting for our clients is a manual spreadsheet job every Friday"},
    ],
    "budget": {"low": "10000", "high": "16000", "currency": "USD", "quote": "between $10,000 and $16,000", "line": 7},
    "timeline": {"text": "live within 8 weeks", "quote": "Ideally something live within 8 weeks.", "line": 9},
    "decision_makers": [{"text": "Karen Lopez", "role": "COO", "line": 11}],
    "tools": ["HubSpot", "Slack"],
}  # fmt: skip
# What pricing writes: the rate card's services (a workshop, two workflows).
LINE_ITEMS = [
    {"description": "AI discovery workshop", "quantity": "1", "unit_price": "2500.00", "amount": "2500.00"},
    {"description": "Workflow automation", "quantity": "2", "unit_price": "6500.00", "amount": "13000.00"},
]
TOTAL = Decimal("15500.00")


def market_person(*, country: str = "", index: int = 0, query: str = "marketing agencies") -> Person:
    """A person the sandbox market knows (so the world can react to what we send them)."""
    people = search_people(query=query, location="", start=0, count=300)
    found = [p for p in people if p.email_status == "deliverable" and (not country or p.company.country == country)]
    person = found[index]
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    return person


def signed_client(
    *,
    person: Person | None = None,
    requirements: dict[str, Any] | None = None,
    line_items: list[dict[str, str]] | None = None,
) -> Client:
    person = person or market_person()
    c = person.company
    company, _ = Company.objects.get_or_create(domain=c.domain, defaults={"name": c.name, "industry": c.industry})
    lead = Lead.objects.create(
        first_name=person.first_name, last_name=person.last_name, email=person.email, company=company,
        email_status="valid", status=Lead.Status.WON, title=person.title,
    )  # fmt: skip
    proposal = ProposalFactory.create(
        signed=True,
        lead=lead,
        company=company,
        title="Sales follow-up and client reporting automation",
        requirements=REQUIREMENTS if requirements is None else requirements,
        line_items=LINE_ITEMS if line_items is None else line_items,
        total=TOTAL,
    )
    client = create_client_from_proposal(proposal=proposal)
    client.transition_to(Client.Status.ACTIVE)
    return client


def contact(client: Client) -> Lead:
    assert client.primary_contact is not None
    return client.primary_contact


def proposal_of(client: Client) -> Proposal:
    return Proposal.objects.get(client=client)


def planned_project(client: Client | None = None) -> Project:
    """A client whose plan is made and on the PM tool (project_management ran)."""
    from agents.testing import run_agent

    client = client or signed_client()
    result = run_agent("project_management", {"client_id": client.pk})
    assert result.status == "succeeded", result.error
    return Project.objects.get(pk=result.output["project_id"])


def inbound(client: Client, text: str, *, subject: str = "A request", lead: Lead | None = None) -> Message:
    """A message from the client's contact, stored as email_response_handler stores one."""
    sender = lead or client.primary_contact
    assert sender is not None
    conversation = ConversationFactory.create(lead=sender)
    return MessageFactory.create(
        conversation=conversation, direction=Message.Direction.IN, mailbox=None, from_email=sender.email,
        to_email="anna@smarterteam.io", subject=subject, body=text, status=Message.Status.DELIVERED,
        provider_message_id=f"<in-{clock.now().timestamp()}-{len(text)}@client.example.com>",
    )  # fmt: skip


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)
