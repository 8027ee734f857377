"""The agency's funnel, from a lead found to a client renewed or offboarded, with each stage's conversion.

Every stage counts rows of one model by its own time (a lead by when it was found, an email by when
it was sent, a meeting held by when it started), so a window reads "what happened in these days"
and each stage links to exactly the rows it counts. The units are the agency's usual ones: leads,
emails, replies, calls, proposals, clients, invoices. A conversion is a stage over the stage it
grows from (the one before, or ``base``): emails per enrollment may exceed 100%.

The sales stages count the sale to a new client only, so each grows from the one before: the calls
are discovery calls (a client's kickoff or check-in is delivery, not a sale), and the proposals are
first sales (a renewal or an upsell to a client carries ``requirements.kind``; renewals have their
own stage, converted from the clients).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from smarter_team.dashboard.links import Figure, Lookups, between, changelist, rows

# A lead that got at least as far as qualification: qualified, in conversation, won, or lost after
# talking to us (lost is only reachable from a conversation). Unsubscribed and bounced leads are
# left out: most never got that far, and their status no longer says whether they did.
REACHED_QUALIFIED = (
    "qualified",
    "contacted",
    "replied",
    "interested",
    "meeting_booked",
    "proposal_sent",
    "won",
    "lost",
)

# A sales call: a discovery call with a lead. A client's kickoff (or check-in) has a lead too, the
# client's contact, but it is delivery: counted as calls, they outgrew the replies they grow from.
DISCOVERY_CALL = {"kind": "discovery", "lead__isnull": False}
HELD = ("held", "followed_up")
# A proposal to a new client: its requirements name no kind, as renewals and upsells to clients do
# (delivery.services.renewals.kind_of). The key's absence reads the same on PostgreSQL and SQLite,
# and the admin takes it from the link's querystring as it is (a transform of the model's own field).
FIRST_SALE = "requirements__kind__isnull"


@dataclass(frozen=True)
class StageSpec:
    key: str
    label: str
    model: str
    lookups: Lookups
    time_field: str
    base: str | None = "previous"  # the stage this one converts from; None for the first


STAGES: tuple[StageSpec, ...] = (
    StageSpec("leads", "Leads found", "crm.Lead", {}, "created_at", base=None),
    StageSpec("qualified", "Qualified", "crm.Lead", {"status__in": REACHED_QUALIFIED}, "created_at"),
    StageSpec("enrolled", "Enrolled in a campaign", "crm.Enrollment", {}, "created_at"),
    StageSpec(
        "emailed",
        "Cold emails sent",
        "crm.Message",
        {"direction": "out", "enrollment__isnull": False, "sent_at__isnull": False},
        "sent_at",
    ),
    # Inbound mail is stored delivered, or bounced for a bounce notice, which is no reply.
    StageSpec(
        "replied",
        "Replies",
        "crm.Message",
        {"direction": "in", "enrollment__isnull": False, "status": "delivered"},
        "created_at",
    ),
    StageSpec("booked", "Discovery calls booked", "sales.Meeting", DISCOVERY_CALL, "created_at"),
    StageSpec("held", "Discovery calls held", "sales.Meeting", {**DISCOVERY_CALL, "status__in": HELD}, "starts_at"),
    StageSpec("proposed", "Proposals sent", "sales.Proposal", {FIRST_SALE: True, "sent_at__isnull": False}, "sent_at"),
    StageSpec("signed", "Proposals signed", "sales.Proposal", {FIRST_SALE: True, "status": "signed"}, "signed_at"),
    StageSpec("clients", "Clients", "sales.Client", {}, "created_at"),
    StageSpec("paid", "Invoices paid", "sales.Invoice", {"status": "paid"}, "paid_at"),
    StageSpec(
        "renewed",
        "Renewals signed",
        "sales.Proposal",
        {"status": "signed", "requirements__kind": "renewal"},
        "signed_at",
        base="clients",
    ),
    StageSpec("offboarded", "Offboarded", "delivery.Offboarding", {}, "created_at", base="clients"),
)


@dataclass(frozen=True)
class Stage:
    figure: Figure
    base_label: str
    conversion: float | None  # this stage over its base; None for the first stage or an empty base
    bar: float  # the bar's length in percent of the widest, on a log scale

    @property
    def key(self) -> str:
        return self.figure.key

    @property
    def conversion_percent(self) -> str:
        return "" if self.conversion is None else f"{self.conversion * 100:.1f}%"


def _bar(count: int, widest: int) -> float:
    # Log scale: a funnel spans three or four orders of magnitude, and a linear bar for the
    # last stages would be a hairline. The numbers beside the bars are exact.
    if count <= 0 or widest <= 0:
        return 0.0
    return round(100 * math.log10(1 + count) / math.log10(1 + widest), 1)


def _counts(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Figure]:
    """One aggregate per model, a filtered COUNT per stage: a big table (leads, messages) is read once
    for all its stages, and each stage still links with exactly its own lookups."""
    per_model: dict[str, list[tuple[StageSpec, dict[str, Any]]]] = {}
    for spec in STAGES:
        lookups = {**spec.lookups, **between(spec.time_field, start, end)}
        per_model.setdefault(spec.model, []).append((spec, lookups))
    figures: dict[str, Figure] = {}
    for model, stages in per_model.items():
        # Only the rows some stage counts are read (each stage's time column has an index); a stage
        # that counts every row (all time) reads them all. (An empty Q would vanish from an OR.)
        wanted = rows(model, {})
        if all(lookups for _, lookups in stages):
            anywhere = Q()
            for _, lookups in stages:
                anywhere |= Q(**lookups)
            wanted = wanted.filter(anywhere)
        counts = wanted.aggregate(**{spec.key: Count("pk", filter=Q(**lookups)) for spec, lookups in stages})
        for spec, lookups in stages:
            figures[spec.key] = Figure(spec.key, spec.label, counts[spec.key], changelist(model, lookups))
    return figures


def funnel(start: dt.datetime | None, end: dt.datetime | None = None) -> list[Stage]:
    """The stages in order, each with its conversion from the stage it grows from."""
    figures = _counts(start, end)
    widest = max((f.count for f in figures.values()), default=0)
    stages = []
    previous: str | None = None
    for spec in STAGES:
        base_key = previous if spec.base == "previous" else spec.base
        base = figures[base_key] if base_key else None
        figure = figures[spec.key]
        conversion = figure.count / base.count if base is not None and base.count else None
        stages.append(Stage(figure, base.label if base else "", conversion, _bar(figure.count, widest)))
        previous = spec.key if spec.base == "previous" or spec.base is None else previous
    return stages
