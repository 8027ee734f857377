"""What a prospect asked for, as stored in ``Proposal.requirements`` (JSON).

transcript_processing writes it from the discovery call; pricing prices its ``scope`` (shaped to
the ``budget``), proposal_creation quotes its ``needs`` back, project_management plans from it.
Every item carries the transcript line it came from (``line``: the index of the line in the
meeting's stored transcript, ``quote``: words that occur in that line), so whoever reads a
proposal can check what the prospect really said. Amounts are Decimal strings with their currency.

Read it with ``Requirements.from_proposal(proposal)``: a draft written before this schema, or by
hand, reads as empty requirements rather than failing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    from sales.models import Proposal


class Evidence(BaseModel):
    line: int = Field(ge=0, description="index of the line in the stored transcript")
    quote: str = Field(min_length=2, max_length=600, description="the prospect's words, as in that line")


class Need(Evidence):
    text: str = Field(min_length=3, max_length=300)


class ScopeItem(Evidence):
    text: str = Field(min_length=3, max_length=300)
    # The rate card's service this would be delivered as (crm AgencyProfile.rate_card), or "".
    service: str = ""


class Budget(Evidence):
    low: Decimal | None = None
    high: Decimal | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    per: Literal["", "month", "year"] = ""  # "": for the project

    @model_validator(mode="after")
    def _ordered(self) -> Budget:
        if self.low is None and self.high is None:
            raise ValueError("a budget needs an amount")
        for value in (self.low, self.high):
            if value is not None and (not value.is_finite() or value <= 0):
                raise ValueError("budget amounts are positive")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("the budget's low end is above its high end")
        return self


class Timeline(Evidence):
    text: str = Field(min_length=2, max_length=200)
    weeks: int | None = Field(default=None, ge=0, le=520, description="weeks from the call until they want it live")


class DecisionMaker(Evidence):
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(default="", max_length=120)


class Requirements(BaseModel):
    needs: list[Need] = []
    scope: list[ScopeItem] = []
    budget: Budget | None = None
    timeline: Timeline | None = None
    decision_makers: list[DecisionMaker] = []
    meeting_id: int | None = None
    recording_id: str = ""

    @field_validator("needs", "scope", "decision_makers")
    @classmethod
    def _bounded(cls, items: list[Any]) -> list[Any]:
        if len(items) > 30:
            raise ValueError("at most 30 items")
        return items

    def evidence(self) -> list[Evidence]:
        """Every item that cites the transcript."""
        found: list[Evidence] = [*self.needs, *self.scope, *self.decision_makers]
        found += [item for item in (self.budget, self.timeline) if item is not None]
        return found

    @classmethod
    def from_proposal(cls, proposal: Proposal) -> Requirements:
        try:
            return cls.model_validate(proposal.requirements or {})
        except ValidationError:
            return cls()
