"""pricing: the price of what the buyer asked for, from the rate card, shaped to their budget.

Facts: the draft Proposal's requirements (read by sales.services.requirements: needs or scope
items, the stated budget, a requested discount) or a ChangeRequest's description; the agency's
rate card, margin floor and discount limit (AgencyProfile); the operator's answer so far when a
price under the floor was put to them.
Decides (sales.services.pricing, rules): the lines and the total. Over budget, a discount within
the limit, then fewer items, then a pilot; a requested discount over the limit is refused (capped);
a price under the margin floor waits for an operator (an approval escalation, with the priced draft
committed so they see it); rejected, the scope is priced at the floor instead.
Does: writes line_items, total, currency and the pricing breakdown onto the proposal (audited) and
hands off proposal_creation; or writes the estimate and price onto the change request (priced), with
no handoff. Bad input (nothing to price, a rate card without the needed service) escalates with the
reason and writes nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import EscalateRun, SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.services.agency import profile
from delivery.models import ChangeRequest
from sales.agents.proposal._common import approval_state, ask_approval, move
from sales.models import Proposal
from sales.services.pricing import Estimate, PricingError, Quote, Terms, estimate_change, quote_scope
from sales.services.proposals import EDITABLE, price_line_items
from sales.services.requirements import Said, read_requirements


class PricingInput(BaseModel):
    proposal_id: int | None = None
    change_request_id: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PricingInput:
        if (self.proposal_id is None) == (self.change_request_id is None):
            raise ValueError("give exactly one of proposal_id or change_request_id")
        return self


class PricingFacts(Facts):
    proposal: Proposal | None = None
    change_request: ChangeRequest | None = None
    quote: Quote | None = None
    estimate: Estimate | None = None
    approval_key: str = ""
    approval: str | None = None  # the operator's answer on a price under the floor


class Priced(BaseModel):
    proposal_id: int | None = None
    change_request_id: int | None = None
    total: str = ""
    currency: str = ""
    margin_percent: str = ""
    discount_percent: str = ""
    below_floor: bool = False
    fits_budget: bool | None = None
    waiting_for_approval: bool = False
    left_out: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def floor_key(proposal: Proposal, quote: Quote) -> str:
    # The price is part of the key: an operator approves this figure, not any later one.
    return f"proposal:{proposal.pk}:below-floor:{quote.total}"


@register
class Pricing(Agent[PricingInput, Priced]):
    name, category, trigger, queue = "pricing", "proposal", "handoff", "sales"
    Input, Facts, Output = PricingInput, PricingFacts, Priced
    next = ("proposal_creation",)

    def load(self, ctx: RunContext, data: PricingInput) -> PricingFacts:
        terms = Terms.of(profile())
        if data.change_request_id is not None:
            return self._change_request(data.change_request_id, terms)
        assert data.proposal_id is not None  # the input holds exactly one of the two
        proposal = Proposal.objects.select_related("lead", "company").get(pk=data.proposal_id)
        if proposal.status not in EDITABLE:
            raise SkipRun(f"proposal {proposal.pk} is {proposal.status}: a sent proposal is not repriced")
        requirements = read_requirements(proposal.requirements)
        # A draft written without requirements (a renewal of known lines) is priced from its lines.
        deliverables = requirements.deliverables or [
            Said(text=str(li.get("description", ""))) for li in proposal.line_items if li.get("description")
        ]
        try:
            quote = quote_scope(
                deliverables=deliverables,
                terms=terms,
                budget=requirements.budget,
                discount_requested=requirements.discount_requested,
            )
        except PricingError as exc:
            raise _cannot_price(f"proposal {proposal.pk}", str(exc), {"proposal_id": proposal.pk}) from None
        facts = PricingFacts(proposal=proposal, quote=quote)
        if quote.below_floor:
            facts.approval_key = floor_key(proposal, quote)
            facts.approval = approval_state(facts.approval_key)
            if facts.approval == Escalation.Status.REJECTED:
                # No to the low price: the scope is priced at the floor, over budget if need be.
                facts.quote = quote_scope(
                    deliverables=deliverables,
                    terms=terms,
                    budget=requirements.budget,
                    discount_requested=requirements.discount_requested,
                    allow_under_floor=False,
                )
                facts.quote.notes.append("an operator rejected the price under the floor: priced at the floor")
                if facts.quote.below_floor:
                    raise SkipRun(
                        f"proposal {proposal.pk}: the rate card prices this scope under the margin floor even "
                        "without a discount, and an operator rejected that price"
                    )
            elif facts.approval == Escalation.Status.OPEN:
                ctx.require_approval(facts.approval_key, "a price under the margin floor waits for an operator")
        return facts

    def _change_request(self, change_request_id: int, terms: Terms) -> PricingFacts:
        change = ChangeRequest.objects.select_related("project").get(pk=change_request_id)
        if change.status not in (ChangeRequest.Status.DETECTED, ChangeRequest.Status.PRICED):
            raise SkipRun(f"change request {change.pk} is {change.status}: its price is settled")
        try:
            estimate = estimate_change(change.description, terms)
        except PricingError as exc:
            raise _cannot_price(f"change request {change.pk}", str(exc), {"change_request_id": change.pk}) from None
        return PricingFacts(change_request=change, estimate=estimate)

    def act(self, ctx: RunContext, facts: PricingFacts) -> Priced:
        if facts.change_request is not None and facts.estimate is not None:
            return self._price_change(ctx, facts.change_request, facts.estimate)
        assert facts.proposal is not None and facts.quote is not None
        proposal, quote = ctx.lock(facts.proposal), facts.quote
        out = _priced(proposal, quote)
        if proposal.status not in EDITABLE:
            out.notes.append(f"the proposal is {proposal.status} now: not repriced")
            return out
        lines, total = price_line_items(quote.line_items())
        ctx.update(
            proposal,
            action="proposal.priced",
            line_items=lines,
            total=total,
            currency=quote.currency,
            pricing=quote.breakdown(),
        )
        if quote.below_floor and facts.approval != Escalation.Status.APPROVED:
            move(ctx, proposal, Proposal.Status.AWAITING_APPROVAL, action="proposal.awaiting_approval")
            ask_approval(
                ctx,
                facts.approval_key,
                f"{proposal.title}: {quote.total} {quote.currency} is a {quote.margin}% margin, under the "
                f"{quote.margin_floor}% floor",
                {"proposal_id": proposal.pk, **quote.breakdown()},
                subject=proposal,
            )
            out.waiting_for_approval = True
            return out
        if proposal.status == Proposal.Status.AWAITING_APPROVAL and not quote.below_floor:
            move(ctx, proposal, Proposal.Status.DRAFT, action="proposal.repriced_at_floor")
        ctx.handoff("proposal_creation", {"proposal_id": proposal.pk})
        return out

    def _price_change(self, ctx: RunContext, loaded: ChangeRequest, estimate: Estimate) -> Priced:
        change = ctx.lock(loaded)
        out = Priced(
            change_request_id=change.pk,
            total=str(estimate.price),
            currency=estimate.currency,
            below_floor=estimate.below_floor,
            notes=[estimate.basis],
        )
        if change.status not in (ChangeRequest.Status.DETECTED, ChangeRequest.Status.PRICED):
            out.notes.append(f"the change request is {change.status} now: not repriced")
            return out
        # A change under the floor is shown as such: change_request puts every change to an operator.
        move(
            ctx,
            change,
            ChangeRequest.Status.PRICED,
            action="change_request.priced",
            price=estimate.price,
            currency=estimate.currency,
            estimate=estimate.as_json(),
        )
        return out


def _priced(proposal: Proposal, quote: Quote) -> Priced:
    return Priced(
        proposal_id=proposal.pk,
        total=str(quote.total),
        currency=quote.currency,
        margin_percent=str(quote.margin),
        discount_percent=str(quote.discount),
        below_floor=quote.below_floor,
        fits_budget=quote.fits_budget,
        left_out=quote.left_out,
        notes=quote.notes,
    )


def _cannot_price(what: str, why: str, target: dict[str, int]) -> EscalateRun:
    """Nothing is written; an operator fixes the requirements or the rate card and approves a retry."""
    return EscalateRun(
        Escalation.Kind.ERROR,
        f"{what} cannot be priced: {why}",
        payload={**target, "reason": why},
        dedupe_key=f"pricing:{what.replace(' ', '-')}",
    )
