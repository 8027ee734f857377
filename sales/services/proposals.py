"""Proposals: drafting, pricing and the signature lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Company, Lead
from sales.models import Client, Meeting, Proposal
from smarter_team import clock

S = Proposal.Status
CENT = Decimal("0.01")
EDITABLE = (S.DRAFT, S.AWAITING_APPROVAL)


def _decimal(value: Any, *, field: str, index: int) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"Line {index + 1}: {field} must be a number", code="invalid_line_item")
    try:
        # str() first: Decimal(0.1) would carry the float's binary error into the money.
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            f"Line {index + 1}: {field} {value!r} is not a number", code="invalid_line_item"
        ) from None
    if not number.is_finite():
        raise ValidationError(f"Line {index + 1}: {field} must be finite", code="invalid_line_item")
    return number


def price_line_items(line_items: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, str]], Decimal]:
    """Validate ``[{description, quantity, unit_price}]``; returns the normalised lines and the total.

    Amounts are Decimal, each line rounded to the cent (half up) and the total is the sum of the
    rounded lines, so the document and the invoice add up to the same figure.
    """
    lines: list[dict[str, str]] = []
    total = Decimal("0.00")
    for index, item in enumerate(line_items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"Line {index + 1}: expected an object", code="invalid_line_item")
        unknown = set(item) - {"description", "quantity", "unit_price", "amount"}
        if unknown:
            raise ValidationError(f"Line {index + 1}: unknown fields {sorted(unknown)}", code="invalid_line_item")
        description = str(item.get("description") or "").strip()
        if not description:
            raise ValidationError(f"Line {index + 1}: a description is required", code="invalid_line_item")
        quantity = _decimal(item.get("quantity"), field="quantity", index=index)
        unit_price = _decimal(item.get("unit_price"), field="unit_price", index=index)
        if quantity <= 0:
            raise ValidationError(f"Line {index + 1}: quantity must be greater than zero", code="invalid_line_item")
        if unit_price < 0:
            raise ValidationError(f"Line {index + 1}: unit_price cannot be negative", code="invalid_line_item")
        amount = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        total += amount
        lines.append(
            {
                "description": description,
                "quantity": str(quantity),
                "unit_price": str(unit_price.quantize(CENT, rounding=ROUND_HALF_UP)),
                "amount": str(amount),
            }
        )
    return lines, total


def create_proposal_draft(
    *,
    title: str,
    lead: Lead | None = None,
    company: Company | None = None,
    client: Client | None = None,
    meeting: Meeting | None = None,
    currency: str = "USD",
    requirements: Mapping[str, Any] | None = None,
    valid_until: dt.date | None = None,
    line_items: Sequence[Mapping[str, Any]] = (),
) -> Proposal:
    if lead is None and company is None and client is None:
        raise ValidationError("A proposal needs a lead, a company or a client", code="no_recipient")
    if not title.strip():
        raise ValidationError("A proposal needs a title", code="missing_title")
    lines, total = price_line_items(line_items)
    return Proposal.objects.create(
        title=title.strip(),
        lead=lead,
        company=company or (lead.company if lead is not None else None),
        client=client,
        meeting=meeting,
        currency=currency.upper(),
        requirements=dict(requirements or {}),
        valid_until=valid_until,
        line_items=lines,
        total=total,
    )


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def set_proposal_line_items(*, proposal: Proposal, line_items: Sequence[Mapping[str, Any]]) -> Proposal:
    """Replace the priced lines and the total; only while the proposal has not been sent."""
    lines, total = price_line_items(line_items)
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status not in EDITABLE:
            raise ValidationError(
                f"A {proposal.status} proposal cannot be repriced; revise a new draft", code="not_editable"
            )
        proposal.line_items, proposal.total = lines, total
        proposal.save(update_fields=["line_items", "total"])
        return proposal


def request_proposal_approval(*, proposal: Proposal) -> Proposal:
    """Draft -> awaiting_approval: a human checks price and scope before it goes out."""
    with transaction.atomic():
        proposal = _locked(proposal)
        proposal.transition_to(S.AWAITING_APPROVAL)
        return proposal


def mark_proposal_sent(*, proposal: Proposal, document_id: str | None = None) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status in (S.DRAFT, S.AWAITING_APPROVAL) and (not proposal.line_items or proposal.total <= 0):
            raise ValidationError("A proposal needs priced line items before it is sent", code="unpriced")
        if proposal.status == S.SENT:
            return proposal
        proposal.sent_at = clock.now()
        also = ["sent_at"]
        if document_id:
            proposal.document_id = document_id
            also.append("document_id")
        proposal.transition_to(S.SENT, also=also)
        return proposal


def mark_proposal_viewed(*, proposal: Proposal) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status in (S.VIEWED, S.SIGNED):
            return proposal  # a late "viewed" event after the signature changes nothing
        proposal.transition_to(S.VIEWED)
        return proposal


def mark_proposal_signed(*, proposal: Proposal, signed_at: dt.datetime | None = None) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status == S.SIGNED:
            return proposal
        proposal.signed_at = signed_at or clock.now()
        proposal.transition_to(S.SIGNED, also=["signed_at"])
        return proposal


def mark_proposal_declined(*, proposal: Proposal, reason: str = "") -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        proposal.decline_reason = reason
        proposal.transition_to(S.DECLINED, also=["decline_reason"])
        return proposal


def expire_proposal(*, proposal: Proposal) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        proposal.transition_to(S.EXPIRED)
        return proposal


def record_proposal_follow_up(*, proposal: Proposal) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        proposal.follow_ups_sent += 1
        proposal.save(update_fields=["follow_ups_sent"])
        return proposal
