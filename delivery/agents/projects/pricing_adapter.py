"""Pricing a change request through the agency's pricing service (sales/services/pricing.py).

That service is the proposal stage's (``estimate_change``: one more deliverable from the rate card
at its price, any other change as hours at the card's hourly rate). This adapter calls it when it
is installed, and until then (or when the rate card has no hourly service) prices the hours the
change_request agent estimated at ``DELIVERY_BLENDED_HOURLY_RATE``. Either way: Decimal money, to
the cent, in the agency's currency.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from types import ModuleType
from typing import Any

from pydantic import BaseModel, Field

from crm.services.agency import profile
from delivery.agents.projects.common import blended_rate, half_hours, money


class ChangeQuote(BaseModel):
    price: Decimal
    currency: str
    hours: Decimal
    basis: str
    estimate: dict[str, Any] = Field(default_factory=dict)  # the pricing service's working, when it priced


def _service() -> ModuleType | None:
    try:
        return importlib.import_module("sales.services.pricing")
    except ModuleNotFoundError:
        return None


def quote_change(description: str, *, hours: Decimal) -> ChangeQuote:
    agency = profile()
    service = _service()
    if service is not None:
        try:
            estimate = service.estimate_change(description, service.Terms.of(agency))
        except ValueError:  # PricingError: the card cannot price it; the hours at our rate can
            estimate = None
        if estimate is not None:
            price = money(Decimal(estimate.price))
            hourly = estimate.size != "deliverable"
            worked = sum((Decimal(line.quantity) for line in estimate.lines), Decimal("0")) if hourly else Decimal("0")
            return ChangeQuote(
                price=price,
                currency=str(estimate.currency),
                hours=half_hours(worked or price / blended_rate()),
                basis=str(estimate.basis),
                estimate=dict(estimate.as_json()),
            )
    rate = blended_rate()
    return ChangeQuote(
        price=money(hours * rate),
        currency=agency.currency.upper(),
        hours=hours,
        basis=f"{hours} hours at {rate} {agency.currency.upper()}/hour",
    )
