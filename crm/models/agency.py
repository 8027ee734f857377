"""What the agency is: one editable row the agents read (its offer, sender, address, prices, policy).

Nothing about the agency is hard-coded in an agent: niche research scores niches for this offer,
copy signs with this sender and puts this postal address in the footer (CAN-SPAM), pricing works
from this rate card, and the autopilot policy says which drafted replies may go out unapproved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from pydantic import BaseModel, Field, field_validator
from pydantic import ValidationError as PydanticError

from smarter_team.models import TimeStampedModel


class RateCardItem(BaseModel):
    """One service the agency sells, with its unit price and what a unit costs us."""

    service: str = Field(min_length=1, max_length=120)
    unit: str = Field(default="project", max_length=40)
    unit_price: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    unit_cost: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    description: str = ""


class RateCard(BaseModel):
    items: list[RateCardItem] = Field(default_factory=list)

    @field_validator("items")
    @classmethod
    def _unique_services(cls, items: list[RateCardItem]) -> list[RateCardItem]:
        names = [i.service.strip().lower() for i in items]
        if len(names) != len(set(names)):
            raise ValueError("each service appears once on the rate card")
        return items


class AutopilotPolicy(BaseModel):
    """What agents may do without a human's approval."""

    # Reply intents whose drafted answer may be sent without approval (others wait as escalations).
    auto_send_intents: list[str] = Field(default_factory=lambda: ["question"])
    # A new campaign's first messages wait for one operator approval, shown as a batch.
    first_batch_size: int = Field(default=20, ge=0, le=1000)
    # Proposals above this total need an approval before they are sent.
    proposal_approval_above: Decimal = Field(default=Decimal("20000"), ge=0)


class AgencyProfile(TimeStampedModel):
    """The agency (one row: pk=1). Read it through ``crm.services.agency.profile()``."""

    name = models.CharField(max_length=120, default="Smarter Team")
    offer = models.TextField(help_text="what we sell and to whom, in a few sentences agents can reason from")
    services = models.JSONField(default=list, blank=True, help_text='keywords of what we deliver, e.g. ["AI chatbots"]')
    sender_name = models.CharField(max_length=120)
    sender_email = models.EmailField()
    sender_title = models.CharField(max_length=120, blank=True)
    postal_address = models.TextField(help_text="printed in every cold email's footer (CAN-SPAM)")
    website = models.URLField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    rate_card = models.JSONField(
        default=dict, blank=True, help_text='{"items": [{"service", "unit", "unit_price", "unit_cost"}]}'
    )
    margin_floor = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("35.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("95"))],
        help_text="lowest gross margin in % a price may reach without approval",
    )
    max_discount = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("15.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("90"))],
        help_text="largest discount in % off the rate card without approval",
    )
    autopilot = models.JSONField(default=dict, blank=True, help_text="AutopilotPolicy as JSON")

    class Meta:
        verbose_name = "agency profile"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="agencyprofile_single_row")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            self.card()
        except PydanticError as exc:
            errors["rate_card"] = _plain(exc)
        try:
            self.policy()
        except PydanticError as exc:
            errors["autopilot"] = _plain(exc)
        if not self.currency.isalpha() or len(self.currency) != 3:
            errors["currency"] = "an ISO 4217 code such as USD or EUR"
        if errors:
            raise ValidationError(errors)

    def card(self) -> RateCard:
        return RateCard.model_validate(self.rate_card or {})

    def policy(self) -> AutopilotPolicy:
        return AutopilotPolicy.model_validate(self.autopilot or {})


def _plain(exc: PydanticError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
