"""The agency's lifecycle policy for clients who arrive and leave: the numbers agents must not invent.

Read from ``settings.DELIVERY_LIFECYCLE`` (a dict; every key optional), so a deployment sets its own
without a code change and a test overrides one value. Defaults are the agency's judgement, stated
beside each.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from pydantic import BaseModel, Field


class LifecyclePolicy(BaseModel):
    # An onboarding that has not moved for this many business days gets a nudge to the client.
    stuck_after_business_days: int = Field(default=3, ge=1, le=30)
    # Business days between two nudges, and between the last nudge and the escalation.
    nudge_every_business_days: int = Field(default=2, ge=1, le=30)
    # Nudges before a human is told (the escalation comes on a later day than the last nudge).
    nudges_before_escalation: int = Field(default=2, ge=1, le=5)
    # A former client is not written to before this many days have passed since they left.
    client_cool_off_days: int = Field(default=90, ge=14, le=730)
    # A declined proposal's buyer is not written to before this many days after the decline.
    lost_deal_cool_off_days: int = Field(default=90, ge=14, le=730)
    # What happens to the personal data of a departed client's people: "keep" (the relationship
    # stays, win-back allowed) or "erase" (only the suppression hash remains; they are never
    # contacted again), applied ``erase_after_days`` after the offboarding started, so the exit
    # survey can still be answered and the final invoice paid.
    contact_data: Literal["keep", "erase"] = "keep"
    erase_after_days: int = Field(default=30, ge=0, le=3650)


def lifecycle_policy() -> LifecyclePolicy:
    return LifecyclePolicy.model_validate(getattr(settings, "DELIVERY_LIFECYCLE", None) or {})
