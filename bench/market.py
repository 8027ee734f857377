"""The market the lead benches import (bench/funnel, bench/lifecycle): the sandbox people the ICPs'
searches find, as one CSV lead list, and the sizing of the mailboxes that send to them.

No side effects on import (no database, no django.setup()): a test may import it, and so may a
bench after its own setup."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any

from crm.agents.lead_list_builder import lead_data
from integrations.sandbox.market import _lead_item
from integrations.sandbox.world import Person, search_people

# On their own beats these would bring leads the import did not (or study the market, not leads).
NOT_HERE = frozenset({"lead_list_builder", "niche_research", "competitive_intelligence", "icp_refinement"})
MARKETS = (("dental clinics", "United States"), ("law firms", "United Kingdom"))
MAILBOX_CAP = 40
LEADS_PER_MAILBOX = 40
# Lead data key -> the column heading a directory export uses (crm.services.imports). No phone: the
# market's London and Sydney numbers are a digit short, and the import rejects such a row whole.
CSV_FIELDS = {
    "email": "Email", "first_name": "First Name", "last_name": "Last Name", "title": "Title",
    "seniority": "Seniority", "country": "Country", "time_zone": "Time Zone",
    "linkedin_url": "LinkedIn URL", "company_name": "Company", "domain": "Website", "industry": "Industry",
    "employee_range": "Employees", "revenue_band": "Revenue", "source_ref": "Source ID",
}  # fmt: skip


class QueryCounter:
    """Every statement this process sends (a connection execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def market_people(count: int) -> list[Person]:
    """``count`` people the ICPs' searches find, the markets alternating (the same for every size:
    a larger size is a longer list)."""
    half = math.ceil(count / len(MARKETS))
    lists = [search_people(query=q, location=loc, start=0, count=half) for q, loc in MARKETS]
    mixed = [p for pair in zip(*lists, strict=True) for p in pair]
    return mixed[:count]


def lead_list(people: list[Person]) -> str:
    """The CSV an operator imports: the directory's fields for each person, as a lead search lists them."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_FIELDS.values()))
    writer.writeheader()
    for person in people:
        data = lead_data(_lead_item(person), "sandbox")
        writer.writerow({heading: data.get(key, "") for key, heading in CSV_FIELDS.items()})
    return out.getvalue()
