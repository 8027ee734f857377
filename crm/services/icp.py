"""Learning the ICP from outcomes: which industries, sizes, titles and countries win, which never do.

A proposal is only made from enough outcomes (``MIN_OUTCOMES``, ``MIN_WINS``): below that, chance
looks like a pattern. It changes the ICP only once an operator approved it (icp_refinement).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, Field

from crm.models import IdealCustomerProfile, Lead

MIN_OUTCOMES = 30
MIN_WINS = 5
ADD_MIN_WINS = 3
ADD_LIFT = 1.5  # a value joins the ICP when its win rate is at least this times the overall one
DROP_MIN_OUTCOMES = 8  # a value leaves it when this many of its leads ended and none won
UNRESPONSIVE_AFTER = dt.timedelta(days=21)
FIELDS = ("industries", "company_sizes", "titles", "countries")


class Outcome(BaseModel):
    won: bool
    industries: str = ""
    company_sizes: str = ""
    titles: str = ""
    countries: str = ""


class Proposal(BaseModel):
    add: dict[str, list[str]] = Field(default_factory=dict)
    remove: dict[str, list[str]] = Field(default_factory=dict)
    rationale: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.add.values()) and not any(self.remove.values())

    def digest(self) -> str:
        body = {"add": {k: sorted(v) for k, v in self.add.items() if v},
                "remove": {k: sorted(v) for k, v in self.remove.items() if v}}  # fmt: skip
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def outcomes(*, icp: IdealCustomerProfile, now: dt.datetime, only_icp: bool = True) -> list[Outcome]:
    """Won, lost and unresponsive leads (contacted, no answer for three weeks) of the ICP."""
    leads = Lead.objects.select_related("company").filter(merged_into__isnull=True)
    leads = leads.filter(icp=icp) if only_icp else leads
    ended = leads.filter(status__in=[Lead.Status.WON, Lead.Status.LOST]) | leads.filter(
        status=Lead.Status.CONTACTED, updated_at__lt=now - UNRESPONSIVE_AFTER
    )
    return [
        Outcome(
            won=lead.status == Lead.Status.WON,
            industries=(lead.company.industry if lead.company else "").strip().lower(),
            company_sizes=lead.company.employee_range if lead.company else "",
            titles=lead.title.strip(),
            countries=lead.country or (lead.company.country if lead.company else ""),
        )
        for lead in ended.order_by("pk")[:5000]
    ]


def propose(*, icp: IdealCustomerProfile, seen: Iterable[Outcome]) -> tuple[Proposal, str]:
    """The changes the outcomes support, and why (or why none)."""
    rows = list(seen)
    wins = sum(r.won for r in rows)
    if len(rows) < MIN_OUTCOMES or wins < MIN_WINS:
        return Proposal(), (
            f"{len(rows)} outcomes with {wins} wins: below the minimum of {MIN_OUTCOMES} outcomes and {MIN_WINS} wins"
        )
    overall = wins / len(rows)
    proposal = Proposal()
    for name in FIELDS:
        current = {str(v).strip().lower() for v in getattr(icp, name)}
        total, won = Counter[str](), Counter[str]()
        for r in rows:
            value = getattr(r, name)
            if value:
                total[value] += 1
                won[value] += r.won
        for value in sorted(total):
            rate = won[value] / total[value]
            if value.lower() not in current and won[value] >= ADD_MIN_WINS and rate >= ADD_LIFT * overall:
                proposal.add.setdefault(name, []).append(value)
                proposal.rationale.append(f"{name} {value}: {won[value]}/{total[value]} won vs {overall:.0%} overall")
            elif value.lower() in current and total[value] >= DROP_MIN_OUTCOMES and won[value] == 0:
                proposal.remove.setdefault(name, []).append(value)
                proposal.rationale.append(f"{name} {value}: 0/{total[value]} won")
    why = f"{len(rows)} outcomes, {wins} wins" + ("" if not proposal.empty else ": no value stands out")
    return proposal, why


def applied(icp: IdealCustomerProfile, proposal: Proposal) -> dict[str, list[str]]:
    """The ICP's lists with the proposal applied (values compared without case)."""
    out = {}
    for name in FIELDS:
        values = list(getattr(icp, name))
        drop = {v.lower() for v in proposal.remove.get(name, [])}
        kept = [v for v in values if str(v).lower() not in drop]
        have = {str(v).lower() for v in kept}
        kept += [v for v in proposal.add.get(name, []) if v.lower() not in have]
        if kept != values:
            out[name] = kept
    return out
