"""Reads: the share of sent first lines that cite a fact (issue 16, "Grounded copy").

A sent cold email has a first line when its copy (the step's, or its variant's) holds the
``{{ first_line }}`` slot. That line cites a fact when personalization's line (the enrollment's
``variables["first_line"]``, with ``variables["grounding"]``: each sentence and the finding claims it
cites) is in the body that left and passed the sender's check (``grounding_problem``: every claim a
stored, sourced finding about the lead or its company, not overstated). An empty line (no finding,
so no claim) counts as not citing: the share measures how often research gave copy something true
to open with.

The verdict is taken once, at the send (``Message.first_line_cited``, ``verdict``), where the check
has just run on what leaves: a line rewritten or a finding deleted later does not change what was
sent. Counting is then one grouped query, not a daily re-reading of every email ever sent (which
grew with the volume times the days and was the costliest part of campaign_analytics).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from crm.agents.campaign._compose import VARIABLE
from crm.services.outreach_stats import outbound_sends

SLOT = "first_line"


@dataclass(frozen=True)
class FirstLines:
    sent: int = 0  # sent cold emails whose copy has a first line
    cited: int = 0  # of those, the first line cites a stored, sourced finding

    @property
    def share(self) -> float | None:
        return self.cited / self.sent if self.sent else None

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "first_lines": self.sent,
            "first_lines_cited": self.cited,
            "first_lines_cited_share": round(share, 4) if share is not None else None,
        }

    def describe(self) -> str:
        share = self.share
        if share is None:
            return "no sent first line yet"
        return f"{self.cited} of {self.sent} sent first lines cite a fact ({share:.0%})"

    def __add__(self, other: FirstLines) -> FirstLines:
        return FirstLines(sent=self.sent + other.sent, cited=self.cited + other.cited)


def has_slot(copy: str) -> bool:
    """The copy (a step's or a variant's body) opens with personalization's line."""
    return any(m.group(1) == SLOT for m in VARIABLE.finditer(copy))


def verdict(*, copy: str, variables: Mapping[str, Any], body: str) -> bool | None:
    """What a send records in ``Message.first_line_cited``: None when the copy has no first-line
    slot; else whether a line went out. Call it only for a body the grounding check let through
    (the sender refuses one whose line cites nothing stored), so a line that left cites a fact."""
    if not has_slot(copy):
        return None
    line = str(variables.get(SLOT) or "").strip()
    return bool(line) and line in body


def first_lines_by_campaign(*, campaign_id: int | None = None) -> dict[int, FirstLines]:
    """Per campaign: sent cold emails with a first line, and how many of those lines cite a fact."""
    sends = outbound_sends().filter(enrollment__isnull=False, first_line_cited__isnull=False)
    if campaign_id is not None:
        sends = sends.filter(enrollment__campaign_id=campaign_id)
    rows = (
        sends.values("enrollment__campaign_id")
        .annotate(sent=Count("pk"), cited=Count("pk", filter=Q(first_line_cited=True)))
        .order_by("enrollment__campaign_id")
    )
    return {r["enrollment__campaign_id"]: FirstLines(sent=r["sent"], cited=r["cited"]) for r in rows}


def first_lines(*, campaign_id: int | None = None) -> FirstLines:
    return sum(first_lines_by_campaign(campaign_id=campaign_id).values(), FirstLines())
