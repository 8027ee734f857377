"""Renewals: the draft that renews a client's contract, and what its signature changes.

A renewal is a Proposal to the client whose ``requirements`` say ``{"kind": "renewal", ...}`` with
the contract end it renews and the end it renews to. contract_signature calls
``apply_signed_renewal`` when it records a signature: for a renewal, the client's contract_end moves
to the new end (and the client stays the client it was: no second onboarding). renewal_manager
applies it too, on its daily pass, so a renewal signed through another path is not lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Lead
from sales.models import Client, Proposal
from sales.services.proposals import create_proposal_draft
from smarter_team.dates import add_months

RENEWAL = "renewal"
UPSELL = "upsell"
TERM_MONTHS = 12


def kind_of(proposal: Proposal) -> str:
    """What a proposal to an existing client is for ("renewal", "upsell"), "" for a first sale."""
    requirements = proposal.requirements if isinstance(proposal.requirements, dict) else {}
    kind = requirements.get("kind")
    return kind if isinstance(kind, str) else ""


def is_renewal(proposal: Proposal) -> bool:
    return kind_of(proposal) == RENEWAL


def renewal_for(*, client: Client, contract_end: dt.date) -> Proposal | None:
    """The latest renewal proposal for the contract that ends on ``contract_end``."""
    return (
        Proposal.objects.filter(
            client=client, requirements__kind=RENEWAL, requirements__contract_end=contract_end.isoformat()
        )
        .order_by("-pk")
        .first()
    )


def renewal_scope(basis: Proposal | None) -> list[str]:
    """What a renewal carries on: the services of the contract it renews (a renewal's own scope, or
    the original deal's line descriptions)."""
    if basis is None:
        return []
    if is_renewal(basis):
        return [str(s) for s in basis.requirements.get("scope", []) if s]
    return [str(line.get("description", "")) for line in basis.line_items if line and line.get("description")]


def renewal_lines(*, client: Client, scope: list[str], term_months: int) -> list[dict[str, Any]]:
    """The renewal's price: what the client pays now, for the new term. A renewal is the contract
    going on, not a new sale: the rate card (which prices new work) would quote the retainer's
    first-sale shape (a three-month retainer for a twelve-month term) and, once signed, rewrite the
    client's monthly value. No monthly value on record: no lines, pricing quotes the scope instead."""
    if client.monthly_value is None or client.monthly_value <= 0:
        return []
    what = "; ".join(scope) or "Our services"
    return [
        {
            "description": f"{what}: renewal for {term_months} months",
            "quantity": term_months,
            "unit_price": client.monthly_value,
        }
    ]


def draft_renewal(
    *, client: Client, contact: Lead | None, term_months: int = TERM_MONTHS, basis: Proposal | None = None
) -> Proposal:
    """The draft renewing the client's current contract for ``term_months``, once per contract end,
    priced from what the client has now (monthly value; ``basis`` is the contract it renews)."""
    if client.contract_end is None:
        raise ValidationError("The client has no contract end to renew", code="no_contract_end")
    if not 1 <= term_months <= 36:
        raise ValidationError("A renewal term is 1 to 36 months", code="invalid_term")
    end = client.contract_end
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()  # one draft per end, under the lock
        existing = renewal_for(client=client, contract_end=end)
        if existing is not None:
            return existing
        scope = renewal_scope(basis)
        requirements: dict[str, Any] = {
            "kind": RENEWAL,
            "contract_end": end.isoformat(),
            "renews_until": add_months(end, term_months).isoformat(),
            "term_months": term_months,
            "monthly_value": str(client.monthly_value),
            "currency": client.currency,
            "scope": scope,
            "previous_proposal_id": basis.pk if basis else None,
        }
        return create_proposal_draft(
            title=f"Renewal of {client.company.name}: {term_months} months from {end:%d %b %Y}",
            client=client,
            company=client.company,
            lead=contact,
            currency=client.currency,
            requirements=requirements,
            line_items=renewal_lines(client=client, scope=scope, term_months=term_months),
            valid_until=end,
        )


def apply_signed_renewal(*, proposal: Proposal) -> Client | None:
    """For a signed renewal, move the client's contract_end to the renewal's end (never back).

    Returns the client when the proposal is a signed renewal (whether it moved the date now or
    earlier), None otherwise: contract_signature can call it for every signature. Idempotent.
    """
    if not is_renewal(proposal) or proposal.status != Proposal.Status.SIGNED or proposal.client_id is None:
        return None
    try:
        until = dt.date.fromisoformat(str(proposal.requirements.get("renews_until")))
    except ValueError:
        raise ValidationError(
            f"Renewal proposal {proposal.pk} has no valid renews_until date", code="invalid_renewal"
        ) from None
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=proposal.client_id)
        if client.contract_end is None or client.contract_end < until:
            client.contract_end = until
            fields = ["contract_end"]
            term = int(proposal.requirements.get("term_months") or TERM_MONTHS)
            if proposal.total > 0 and term > 0:
                # What the client pays from now on is what they signed, spread over its term.
                client.monthly_value = (proposal.total / Decimal(term)).quantize(Decimal("0.01"))
                fields.append("monthly_value")
            client.save(update_fields=fields)
        return client
