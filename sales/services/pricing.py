"""Pricing: a scope priced from the agency's rate card, shaped to the buyer's budget, within limits.

The rate card, the margin floor and the discount limit are the agency's (``AgencyProfile``: editable
in the admin). The rules a small agency prices by:

- Each piece of work the buyer asked for is matched to a rate-card service (``match_service``) and
  priced at its unit price; recurring services (unit ``month``) for a minimum term.
- A discount is never more than ``max_discount``: a larger one asked for is refused (capped at the
  limit, and recorded as refused).
- The margin is ``(price - cost) / price``, from the card's unit costs. A price whose margin is
  under ``margin_floor`` is allowed only with an operator's approval (``Quote.below_floor``).
- Over the stated budget, the scope is shaped to it the way an agency would: a small discount first,
  then fewer items (the first-stated need is the core, later ones become a second phase), then a
  pilot of the core. Only when no shape fits within both limits does the price go under the floor
  (approval) or, when even that cannot fit, stay over budget with the reason stated.

Money is Decimal in the card's currency: unit prices after discount are rounded to the cent (half
up), each line is quantity x unit price rounded to the cent, and the total is the sum of the
rounded lines (what the document and the invoice show). Discounts are whole percents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field

from sales.services.rate_card import (
    CENT,
    HUNDRED,
    Line,
    PricingError,
    Terms,
    cost_of,
    fallback_service,
    kind_of,
    match_service,
    total_of,
    under_floor,
)
from sales.services.requirements import Budget, Said

# Callers price through this module: the card's types and matching are re-exported with it.
__all__ = ["Estimate", "Line", "PricingError", "Quote", "Terms", "estimate_change", "match_service", "quote_scope"]

# A pilot is one use case of the core service, end to end, at about half the full build's price and
# effort (so the same margin); the full build follows once it has proven itself. A judgement.
PILOT_SHARE = Decimal("0.5")
# Recurring services are proposed for a minimum term: three months is the usual shortest retainer
# small agencies sign (enough to show results). A judgement.
RETAINER_MONTHS = 3
# Where in the buyer's stated range a shaped price aims: short of the top, which is what they would
# stretch to rather than what they plan to spend (a judgement from sales practice). Without a lower
# bound, a twentieth under the top.
RANGE_AIM = Decimal("0.8")
TOP_ONLY_AIM = Decimal("0.95")
# Change requests sized by what they touch, in hours of work (a judgement from agency practice:
# a copy tweak is an afternoon, a new integration or language a week).
CHANGE_HOURS = {"small": 6, "medium": 16, "large": 40}
_SMALL = re.compile(
    r"\b(typo|wording|copy|text change|colou?r|logo|rename|small|minor|tweak|adjust|label|font|button)\w*"
)
_LARGE = re.compile(
    r"\b(integrat|another language|new language|translat|new channel|whatsapp|sms|voice|phone|migrat|"
    r"new system|\bapi\b|new workflow|another workflow|second bot|new bot|rebuild|redesign)\w*"
)
_NEW_DELIVERABLE = re.compile(r"\b(another|new|second|additional|extra|one more)\b")


class Quote(BaseModel):
    currency: str
    lines: list[Line]
    list_total: Decimal  # the whole scope asked for, at the card's prices
    discount: Decimal = Decimal("0")  # whole percent applied to every line
    discount_refused: Decimal | None = None  # a requested discount over the limit
    budget_high: Decimal | None = None
    left_out: list[str] = Field(default_factory=list)  # asked for, proposed as a later phase
    pilot: bool = False
    notes: list[str] = Field(default_factory=list)
    margin_floor: Decimal = Decimal("0")

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def cost(self) -> Decimal:
        return sum((line.cost for line in self.lines), Decimal("0.00"))

    @property
    def margin(self) -> Decimal:
        """Gross margin in percent (two decimals, half up); 0 for a zero price."""
        if self.total <= 0:
            return Decimal("0.00")
        return ((self.total - self.cost) / self.total * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def below_floor(self) -> bool:
        return under_floor(self.total, self.cost, self.margin_floor)

    @property
    def fits_budget(self) -> bool | None:
        return None if self.budget_high is None else self.total <= self.budget_high

    def line_items(self) -> list[dict[str, str]]:
        """Proposal.line_items: ``[{description, quantity, unit_price}]`` (amounts added by the service)."""
        return [
            {"description": line.description, "quantity": str(line.quantity), "unit_price": str(line.unit_price)}
            for line in self.lines
        ]

    def breakdown(self) -> dict[str, Any]:
        """Proposal.pricing: how the price was reached, for the operator and the audit trail."""
        return {
            "currency": self.currency,
            "list_total": str(self.list_total),
            "total": str(self.total),
            "cost": str(self.cost),
            "margin_percent": str(self.margin),
            "margin_floor_percent": str(self.margin_floor),
            "below_floor": self.below_floor,
            "discount_percent": str(self.discount),
            "discount_refused_percent": str(self.discount_refused) if self.discount_refused is not None else None,
            "budget_high": str(self.budget_high) if self.budget_high is not None else None,
            "fits_budget": self.fits_budget,
            "pilot": self.pilot,
            "left_out": self.left_out,
            "lines": [
                {
                    "service": li.service,
                    "kind": li.kind,
                    "quantity": str(li.quantity),
                    "list_price": str(li.list_price),
                    "unit_price": str(li.unit_price),
                    "unit_cost": str(li.unit_cost),
                    "sources": li.sources,
                }
                for li in self.lines
            ],
            "notes": self.notes,
        }


def unlabelled(service: str, text: str) -> str:
    """``text`` without the service's label in front: what the buyer asked for often arrives already
    labelled (discovery writes a scope item as "Workflow automation: ...", a renewal re-prices last
    term's lines), and labelling it again named each milestone "Workflow automation: Workflow
    automation: ...", one more time with every renewal."""
    prefix = f"{service}: ".lower()
    body = text.strip()
    while body.lower().startswith(prefix):
        body = body[len(prefix) :].lstrip()
    return body


def labelled(service: str, text: str) -> str:
    """ "<service>: <text>", the label once."""
    return f"{service}: {unlabelled(service, text)}"


def scope_lines(deliverables: Sequence[Said], terms: Terms) -> list[Line]:
    """One line per service, in the order the buyer first asked for it (the first is the core)."""
    items = terms.scope_items()
    if not items:
        raise PricingError("the rate card has no services to price a scope with: add them in the agency profile")
    lines: dict[str, Line] = {}
    for asked in deliverables:
        text = f"{asked.text} {asked.quote}"
        item = match_service(text, items) or fallback_service(items)
        line = lines.get(item.service)
        if line is None:
            kind = kind_of(item)
            lines[item.service] = Line(
                service=item.service,
                description=labelled(item.service, asked.text)[:300],
                quantity=Decimal(RETAINER_MONTHS) if kind == "retainer" else Decimal(1),
                list_price=item.unit_price,
                unit_cost=item.unit_cost,
                sources=[asked.text],
                kind=kind,
            )
            continue
        line.sources.append(asked.text)
        if line.kind != "retainer":  # a second automation is a second unit; a retainer stays one term
            line.quantity += 1
            line.description = (
                f"{item.service} x{line.quantity}: "
                + "; ".join(unlabelled(item.service, s) for s in line.sources)[:280]
            )
    return list(lines.values())


# --- the price ----------------------------------------------------------------------------------------


def _priced(lines: Sequence[Line], discount: Decimal) -> list[Line]:
    factor = (HUNDRED - discount) / HUNDRED
    return [
        line.model_copy(update={"unit_price": (line.list_price * factor).quantize(CENT, rounding=ROUND_HALF_UP)})
        for line in lines
    ]


def _discount_to_fit(lines: Sequence[Line], high: Decimal, start: Decimal) -> Decimal | None:
    """The smallest whole-percent discount (at least ``start``) that brings the lines to ``high`` or
    under; None when even 99% would not."""
    listed = sum((line.list_amount for line in lines), Decimal("0.00"))
    if listed <= 0:
        return start
    needed = Decimal(max(math.ceil((1 - high / listed) * 100), 0))
    discount = max(needed, start)
    while discount < HUNDRED:
        if total_of(_priced(lines, discount)) <= high:
            return discount
        discount += 1  # rounding to the cent left it a few cents over
    return None


def _single(line: Line) -> Line:
    return line.model_copy(
        update={
            "quantity": Decimal(1),
            "description": labelled(line.service, line.sources[0])[:300],
            "sources": line.sources[:1],
        }
    )


def _pilot(line: Line) -> Line:
    use_case = unlabelled(line.service, line.sources[0])
    return line.model_copy(
        update={
            "description": f"Pilot: {line.service}, one use case end to end ({use_case[:160]})",
            "quantity": Decimal(1),
            "list_price": (line.list_price * PILOT_SHARE).quantize(CENT, rounding=ROUND_HALF_UP),
            "unit_cost": (line.unit_cost * PILOT_SHARE).quantize(CENT, rounding=ROUND_HALF_UP),
            "sources": line.sources[:1],
        }
    )


def _shapes(lines: list[Line]) -> list[tuple[list[Line], bool]]:
    """The scope from the whole of it down to a pilot of its core: (lines, is_pilot)."""
    shapes = [(lines[:k], False) for k in range(len(lines), 0, -1)]
    core = lines[0]
    if core.quantity > 1 and core.kind != "retainer":
        shapes.append(([_single(core)], False))
    shapes.append(([_pilot(core)], True))
    return shapes


def _left_out(lines: Sequence[Line], shape: Sequence[Line], *, pilot: bool) -> list[str]:
    """What the buyer asked for that this price does not include (proposed as a later phase)."""
    included = {source for line in shape for source in line.sources}
    left = [source for line in lines for source in line.sources if source not in included]
    return ([f"the full {shape[0].service.lower()} after the pilot"] if pilot else []) + left


def quote_scope(
    *,
    deliverables: Sequence[Said],
    terms: Terms,
    budget: Budget | None = None,
    discount_requested: Decimal | None = None,
    allow_under_floor: bool = True,
) -> Quote:
    """Price what was asked for; with a budget, shape it to the budget within the limits.

    ``allow_under_floor=False`` (an operator said no to a price under the floor): the shapes that
    would need one are skipped and any discount stops at the floor."""
    if not deliverables:
        raise PricingError("nothing to price: the requirements state no needs or scope items")
    lines = scope_lines(deliverables, terms)
    list_total = total_of(_priced(lines, Decimal(0)))
    quote = Quote(currency=terms.currency, lines=lines, list_total=list_total, margin_floor=terms.margin_floor)
    base = Decimal(0)
    if discount_requested is not None:
        base = min(discount_requested.quantize(Decimal(1), rounding=ROUND_HALF_UP), _limit(terms))
        if discount_requested > terms.max_discount:
            quote.discount_refused = discount_requested
            quote.notes.append(
                f"a {discount_requested}% discount was asked for; the limit is {terms.max_discount}%, so "
                f"{base}% is offered"
            )
    budget_high = budget.high if budget is not None and budget.currency.upper() == terms.currency else None
    if budget is not None and budget_high is None:
        quote.notes.append(f"the budget is in {budget.currency}, the card in {terms.currency}: not compared")
    quote.budget_high = budget_high
    if not allow_under_floor:
        base = min(base, _floor_discount(lines, terms))
    if budget is None or budget_high is None:
        return _finish(quote, lines, base, [], pilot=False)
    return _fit(quote, lines, base, aim(budget), terms, allow_under_floor=allow_under_floor)


def aim(budget: Budget) -> Decimal:
    """The price a shaped scope aims at inside the stated budget."""
    if budget.low is not None and budget.low < budget.high:
        return (budget.low + (budget.high - budget.low) * RANGE_AIM).quantize(CENT, rounding=ROUND_HALF_UP)
    return (budget.high * TOP_ONLY_AIM).quantize(CENT, rounding=ROUND_HALF_UP)


def _fit(
    quote: Quote, lines: list[Line], base: Decimal, target: Decimal, terms: Terms, *, allow_under_floor: bool
) -> Quote:
    last_resort: tuple[list[Line], bool, Decimal] | None = None  # fits, but only under the floor
    for shape, pilot in _shapes(lines):
        discount = _discount_to_fit(shape, target, base)
        if discount is None or discount > terms.max_discount:
            continue
        priced = _priced(shape, discount)
        if not under_floor(total_of(priced), cost_of(priced), terms.margin_floor):
            return _finish(quote, shape, discount, _left_out(lines, shape, pilot=pilot), pilot=pilot)
        last_resort = last_resort or (shape, pilot, discount)
    if last_resort is not None and allow_under_floor:
        shape, pilot, discount = last_resort
        quote.notes.append("only a price under the margin floor fits the budget: it needs an operator's approval")
        return _finish(quote, shape, discount, _left_out(lines, shape, pilot=pilot), pilot=pilot)
    # Nothing fits within the limits: the smallest shape at the lowest price the limits allow.
    shape, pilot = _shapes(lines)[-1]
    discount = _floor_discount(shape, terms)
    quote.notes.append(
        f"the stated budget ({quote.budget_high} {terms.currency}) is under the lowest price this scope allows; "
        "offered at that price"
    )
    return _finish(quote, shape, discount, _left_out(lines, shape, pilot=pilot), pilot=pilot, fits=False)


def _limit(terms: Terms) -> Decimal:
    """The discount limit in whole percents (a 15.5% limit allows 15%)."""
    return terms.max_discount.quantize(Decimal(1), rounding=ROUND_DOWN)


def _floor_discount(lines: Sequence[Line], terms: Terms) -> Decimal:
    """The largest discount within the limit that keeps the margin at the floor."""
    discount = _limit(terms)
    while discount > 0:
        priced = _priced(lines, discount)
        if not under_floor(total_of(priced), cost_of(priced), terms.margin_floor):
            return discount
        discount -= 1
    return Decimal(0)


def _finish(
    quote: Quote, lines: Sequence[Line], discount: Decimal, left_out: list[str], *, pilot: bool, fits: bool = True
) -> Quote:
    quote.lines = _priced(lines, discount)
    quote.discount = discount
    quote.left_out = left_out
    quote.pilot = pilot
    if pilot:
        quote.notes.append("a pilot of the core need first; the full build follows as a second phase")
    elif left_out and fits:
        quote.notes.append(f"{len(left_out)} item(s) left for a second phase to fit the budget")
    if discount and quote.discount_refused is None:
        quote.notes.append(f"{discount}% off the rate card")
    return quote


# --- change requests ----------------------------------------------------------------------------------


class Estimate(BaseModel):
    """A change request's price: hours of work at the card's hourly rate, or a new deliverable."""

    currency: str
    size: str  # small, medium, large, or "deliverable"
    lines: list[Line]
    margin_floor: Decimal
    basis: str

    @property
    def price(self) -> Decimal:
        return total_of(self.lines)

    @property
    def cost(self) -> Decimal:
        return cost_of(self.lines)

    @property
    def below_floor(self) -> bool:
        return under_floor(self.price, self.cost, self.margin_floor)

    def as_json(self) -> dict[str, Any]:
        price = self.price
        margin = ((price - self.cost) / price * HUNDRED).quantize(CENT) if price > 0 else Decimal("0.00")
        return {
            "currency": self.currency,
            "size": self.size,
            "basis": self.basis,
            "price": str(price),
            "cost": str(self.cost),
            "margin_percent": str(margin),
            "below_floor": self.below_floor,
            "lines": [
                {
                    "service": li.service,
                    "description": li.description,
                    "quantity": str(li.quantity),
                    "unit_price": str(li.unit_price),
                    "unit_cost": str(li.unit_cost),
                }
                for li in self.lines
            ],
        }


def estimate_change(description: str, terms: Terms) -> Estimate:
    """Price a change to work in progress. Asking for one more of something on the card ("another
    workflow for invoices") is that service's unit price; any other change is hours at the card's
    hourly rate, sized by what it touches."""
    text = " ".join(description.lower().split())
    if not text:
        raise PricingError("the change request has no description to price")
    item = match_service(text, terms.scope_items())
    if item is not None and _NEW_DELIVERABLE.search(text) and kind_of(item) in ("chat", "automation"):
        line = Line(
            service=item.service,
            description=labelled(item.service, description)[:300],
            quantity=Decimal(1),
            list_price=item.unit_price,
            unit_cost=item.unit_cost,
            unit_price=item.unit_price,
            sources=[description.strip()[:300]],
        )
        basis = f"a new {item.service.lower()} ({item.unit}) at the card's price"
        return Estimate(
            currency=terms.currency, size="deliverable", lines=[line], margin_floor=terms.margin_floor, basis=basis
        )
    hourly = terms.hourly()
    if hourly is None:
        raise PricingError("the rate card has no hourly rate for change work: add an item with unit 'hour'")
    size = "large" if _LARGE.search(text) else "small" if _SMALL.search(text) else "medium"
    hours = Decimal(CHANGE_HOURS[size])
    line = Line(
        service=hourly.service,
        description=f"{hourly.service}, {hours} hours: {description.strip()}"[:300],
        quantity=hours,
        list_price=hourly.unit_price,
        unit_cost=hourly.unit_cost,
        unit_price=hourly.unit_price,
        sources=[description.strip()[:300]],
    )
    basis = f"a {size} change: {hours} hours at {hourly.unit_price} {terms.currency}/hour"
    return Estimate(currency=terms.currency, size=size, lines=[line], margin_floor=terms.margin_floor, basis=basis)
