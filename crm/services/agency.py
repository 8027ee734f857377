"""Reading and saving the agency's profile (crm.models.AgencyProfile, one row)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from agents.services.audit import record_change
from crm.models import AgencyProfile

DEFAULT_RATE_CARD = {
    "items": [
        {"service": "AI discovery workshop", "unit": "workshop", "unit_price": "2500.00", "unit_cost": "900.00"},
        {"service": "AI chatbot build", "unit": "project", "unit_price": "18000.00", "unit_cost": "9500.00"},
        {"service": "Workflow automation", "unit": "workflow", "unit_price": "6500.00", "unit_cost": "3200.00"},
        {"service": "AI operations retainer", "unit": "month", "unit_price": "4000.00", "unit_cost": "2100.00"},
        {"service": "Change request work", "unit": "hour", "unit_price": "150.00", "unit_cost": "70.00"},
    ]
}


def profile() -> AgencyProfile:
    """The agency's profile; created from the settings' defaults the first time it is read, so a
    fresh install works before anyone opens the admin."""
    found = AgencyProfile.objects.filter(pk=1).first()
    if found is not None:
        return found
    with transaction.atomic():
        created, _ = AgencyProfile.objects.get_or_create(pk=1, defaults=_defaults())
    return created


def _defaults() -> dict[str, Any]:
    return {
        "name": settings.AGENCY_NAME,
        "offer": (
            "We design, build and run AI assistants and workflow automations for small and mid-sized "
            "service businesses, so their teams answer customers faster and stop doing repetitive work."
        ),
        "services": ["AI chatbots", "workflow automation", "AI strategy"],
        "sender_name": "Alex Morgan",
        "sender_email": settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">") or "agency@localhost",
        "sender_title": "Founder",
        "postal_address": settings.AGENCY_POSTAL_ADDRESS,
        "currency": settings.DEFAULT_CURRENCY,
        "rate_card": DEFAULT_RATE_CARD,
        "margin_floor": Decimal("35.00"),
        "max_discount": Decimal("15.00"),
        "autopilot": {},
    }


def update_profile(*, user: Any = None, **changes: Any) -> AgencyProfile:
    """Change the profile (validated as in the admin), with the diff in the audit trail."""
    with transaction.atomic():
        current = AgencyProfile.objects.select_for_update().get(pk=profile().pk)
        before = {name: getattr(current, name) for name in changes}
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save(update_fields=list(changes))
        record_change(
            action="agency.update",
            target=current,
            before={k: str(v) for k, v in before.items()},
            after={k: str(getattr(current, k)) for k in changes},
            user=user,
        )
    return current
