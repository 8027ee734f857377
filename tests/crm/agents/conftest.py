from __future__ import annotations

import pytest

from crm.models import Company, IdealCustomerProfile, Lead
from integrations.models import SandboxRecord
from integrations.sandbox.world import Person, search_people
from tests.factories.crm import IdealCustomerProfileFactory


def market_lead(person: Person, *, status: str = Lead.Status.VERIFIED) -> Lead:
    """A lead the agency found in the sandbox market (the market remembers who it showed)."""
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    c = person.company
    company, _ = Company.objects.get_or_create(domain=c.domain, defaults={"name": c.name, "industry": c.industry})
    return Lead.objects.create(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        title=person.title,
        seniority=person.seniority,
        company=company,
        linkedin_url=person.linkedin_url,
        email_status="valid",
        status=status,
    )


def person_where(predicate: object, query: str = "dental clinics") -> Person:
    return next(p for p in search_people(query=query, location="", start=0, count=400) if predicate(p))  # type: ignore[operator]


@pytest.fixture
def icp() -> IdealCustomerProfile:
    return IdealCustomerProfileFactory.create(
        name="Dental",
        industries=["dental clinics"],
        company_sizes=["11-50", "51-200", "201-500"],
        titles=["Owner", "Founder", "CEO"],
        countries=[],
    )
