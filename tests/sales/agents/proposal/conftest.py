"""Given a buyer from the sandbox market and a draft proposal of what they asked for on the call."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from agents import registry
from agents.base import Agent, Empty
from agents.errors import UnknownAgent
from crm.models import Company, Lead
from integrations.models import SandboxRecord
from integrations.sandbox.world import Person, search_people
from sales.models import Proposal
from sales.services.proposals import create_proposal_draft


class ClientRef(BaseModel):
    client_id: int


class InvoiceRequest(BaseModel):
    client_id: int
    proposal_id: int | None = None
    kind: str | None = None
    milestone_id: int | None = None


# The agents contract_signature hands off to, as their contracts say (the real ones when built).
NEIGHBOURS: dict[str, type[BaseModel]] = {"onboarding_orchestrator": ClientRef, "invoice_generation": InvoiceRequest}


@pytest.fixture(autouse=True)
def neighbours() -> Iterator[None]:
    added = []
    for name, model in NEIGHBOURS.items():
        try:
            registry.get(name)
        except UnknownAgent:
            stub = type(
                f"Standin_{name}",
                (Agent,),
                {
                    "name": name,
                    "category": "test",
                    "trigger": "handoff",
                    "Input": model,
                    "act": lambda self, ctx, facts: Empty(),
                    "__module__": __name__,
                },
            )
            registry.register(stub)
            added.append(name)
    yield
    for name in added:
        registry.unregister(name)


@pytest.fixture(autouse=True)
def sandbox_world(sandbox_world: None) -> None:
    """Every test here lives on the embedded default's sandbox market (tests/conftest.py)."""


def market_people(count: int = 300, query: str = "dental clinics") -> list[Person]:
    return search_people(query=query, location="", start=0, count=count)


def buyer_lead(person: Person, *, status: str = Lead.Status.MEETING_BOOKED) -> Lead:
    """A lead the agency met in the sandbox market (the market remembers whom it showed)."""
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    c = person.company
    company, _ = Company.objects.get_or_create(domain=c.domain, defaults={"name": c.name, "industry": c.industry})
    return Lead.objects.create(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        title=person.title,
        company=company,
        email_status="valid",
        status=status,
        time_zone=c.timezone,
    )


def requirements(*, low: int | None, high: int | None, needs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Requirements as transcript_processing writes them: each item with its line and quote."""
    needs = needs or (
        "our team spends hours every week chasing leads by hand",
        "reporting for our clients is a manual spreadsheet job every Friday",
    )
    found: dict[str, Any] = {
        "needs": [{"text": n, "quote": f"Two things really: {n}.", "line": 3} for n in needs],
        "timeline": {"text": "live within 6 weeks", "quote": "Ideally something live within 6 weeks.", "line": 9},
        "decision_makers": [
            {"name": "Dana Smith", "role": "CEO", "quote": "Me and Sam Lee, our COO.", "line": 11},
            {"name": "Sam Lee", "role": "COO", "quote": "Me and Sam Lee, our COO.", "line": 11},
        ],
    }
    if high is not None:
        said = f"We were thinking somewhere between ${low:,} and ${high:,}." if low else f"About ${high:,}."
        found["budget"] = {"low": str(low) if low else None, "high": str(high), "currency": "USD", "quote": said,
                           "line": 7}  # fmt: skip
    return found


def draft(lead: Lead, **reqs: Any) -> Proposal:
    return create_proposal_draft(
        title=f"Proposal for {lead.company.name if lead.company else lead.email}",
        lead=lead,
        requirements=requirements(**reqs) if reqs else requirements(low=8000, high=15000),
    )


def money(text: str) -> Decimal:
    return Decimal(text)
