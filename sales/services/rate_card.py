"""The rate card as pricing reads it: the agency's terms, a priced line, and which service on the card
a piece of work the buyer asked for is.

A service belongs to a kind of AI-agency work by its name (a chatbot, a workflow automation, a
workshop, a retainer); a need matches a service by the words of its kind and by the service's own
name and description, so an edited card in the admin is matched without code changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

from crm.models import AgencyProfile, RateCardItem

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
RECURRING_UNITS = frozenset({"month", "monthly", "mo"})
HOURLY_UNITS = frozenset({"hour", "hours", "hr", "h"})
# Words that tell which kind of work a need is, for the kinds an AI agency's services fall in. A
# service belongs to a kind by its name (``KIND_OF_SERVICE``); a need matches a service by these
# words and by the service's own name and description.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "chat": (
        "chat", "bot", "assistant", "faq", "questions", "support", "ticket", "inquir", "enquir", "answer",
        "website visitor", "24/7", "intake", "customers ask", "booking request", "live agent",
    ),
    "automation": (
        "automat", "workflow", "by hand", "manual", "spreadsheet", "copy", "paste", "chasing", "follow-up",
        "follow up", "fall through", "cracks", "connected", "integrat", "sync", "onboarding", "reporting",
        "report", "invoice", "data entry", "repetitive", "back and forth", "hours every", "campaign",
        "track", "attribution", "dashboard", "pipeline", "crm", "handoff", "hand-off",
    ),
    "workshop": (
        "strategy", "roadmap", "where to start", "audit", "discovery", "workshop", "assess", "opportunit",
        "not sure", "explore", "training", "use case",
    ),
    "retainer": (
        "ongoing", "monthly", "maintain", "maintenance", "run it", "operate", "keep improving", "retainer",
        "look after", "support after", "managed",
    ),
}  # fmt: skip
KIND_OF_SERVICE: tuple[tuple[str, str], ...] = (
    ("retainer", "retainer"), ("operations", "retainer"), ("maintenance", "retainer"), ("chat", "chat"),
    ("bot", "chat"), ("assistant", "chat"), ("agent", "chat"), ("automation", "automation"),
    ("workflow", "automation"), ("integration", "automation"), ("workshop", "workshop"),
    ("discovery", "workshop"), ("strategy", "workshop"), ("audit", "workshop"),
)  # fmt: skip
_WORD = re.compile(r"[a-z][a-z0-9]{3,}")
_STOP = frozenset({"with", "from", "that", "this", "your", "their", "into", "build", "project", "service"})


class PricingError(ValueError):
    """The scope cannot be priced from this rate card (the message says what is missing)."""


@dataclass(frozen=True)
class Terms:
    """The agency's price terms, read once per run."""

    items: tuple[RateCardItem, ...]
    margin_floor: Decimal  # percent
    max_discount: Decimal  # percent
    currency: str

    @classmethod
    def of(cls, agency: AgencyProfile) -> Terms:
        return cls(
            items=tuple(agency.card().items),
            margin_floor=Decimal(agency.margin_floor),
            max_discount=Decimal(agency.max_discount),
            currency=agency.currency.upper(),
        )

    def scope_items(self) -> list[RateCardItem]:
        return [i for i in self.items if i.unit.strip().lower() not in HOURLY_UNITS]

    def hourly(self) -> RateCardItem | None:
        return next((i for i in self.items if i.unit.strip().lower() in HOURLY_UNITS), None)


class Line(BaseModel):
    service: str
    description: str
    quantity: Decimal
    list_price: Decimal  # the card's unit price (a pilot's share of it)
    unit_cost: Decimal
    unit_price: Decimal = Decimal("0")  # after the discount, rounded to the cent
    sources: list[str] = Field(default_factory=list)  # what the buyer said that this line answers
    kind: str = ""

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def cost(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def list_amount(self) -> Decimal:
        return (self.quantity * self.list_price).quantize(CENT, rounding=ROUND_HALF_UP)


def total_of(lines: Sequence[Line]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def cost_of(lines: Sequence[Line]) -> Decimal:
    return sum((line.cost for line in lines), Decimal("0.00"))


def under_floor(total: Decimal, cost: Decimal, floor: Decimal) -> bool:
    """Whether the margin of ``total`` over ``cost`` is under ``floor`` (a percent): exactly,
    (total - cost) / total < floor / 100 without dividing."""
    return total <= 0 or (total - cost) * HUNDRED < total * floor


def kind_of(item: RateCardItem) -> str:
    name = item.service.lower()
    if item.unit.strip().lower() in RECURRING_UNITS:
        return "retainer"
    return next((kind for word, kind in KIND_OF_SERVICE if word in name), "")


def match_service(text: str, items: Sequence[RateCardItem]) -> RateCardItem | None:
    """The card's service this piece of work is, by its kind's words and the service's own words."""
    folded = text.lower()
    best, best_score = None, 0
    for item in items:
        kind = kind_of(item)
        score = sum(2 for word in KIND_WORDS.get(kind, ()) if word in folded)
        own = set(_WORD.findall(f"{item.service} {item.description}".lower())) - _STOP
        score += sum(3 for word in own if word in folded)
        if score > best_score:
            best, best_score = item, score
    return best


def fallback_service(items: Sequence[RateCardItem]) -> RateCardItem:
    """Work no service matches is scoped in the paid discovery workshop first, as agencies do; without
    one on the card, it is the cheapest one-off service."""
    workshop = next((i for i in items if kind_of(i) == "workshop"), None)
    if workshop is not None:
        return workshop
    one_off = [i for i in items if kind_of(i) != "retainer"] or list(items)
    return min(one_off, key=lambda i: i.unit_price)
