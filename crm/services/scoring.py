"""Scoring a lead 0-100 against an ideal customer profile, with reasons a person can read.

The rules (weights sum to 100): industry 30, company size 20, title/seniority 15 (the ICP's titles
and the lead's persona), country 10, buying signals that research found and sourced 15, email
status 10. What is unknown counts half: a gap is not a miss.

Two caps keep the account ahead of the person: a good title and a clean address do not make a
company we cannot sell to into a lead. A company outside the ICP's industries is capped below the
qualifying line whatever else it has: the offer is built for those industries. A company outside
the ICP's sizes is capped below the line too, unless research found it in motion (hiring, raising,
opening, migrating): a five-person clinic has neither the admin load nor the budget for a first
project until it grows, and one that is hiring or opening a second site is growing now; a firm far
above our sizes buys through procurement unless a change opens a door. Hard stops (an excluded
domain or keyword, an address that cannot receive mail) disqualify at any score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from crm.models import Company, IdealCustomerProfile, Lead, Persona
from crm.services.findings import Finding

QUALIFY_AT = 60
OFF_INDUSTRY_CAP = 45
# Below the line but above every off-industry lead: the right trade at the wrong size is the nearer miss.
OFF_SIZE_CAP = 55
WEIGHTS = {"industry": 30, "size": 20, "title": 15, "country": 10, "signals": 15, "email": 10}
# Words that name a kind of organisation, not an industry ("law firms" and "accounting firms" differ).
GENERIC_WORDS = frozenset({
    "firm", "firms", "agency", "agencies", "company", "companies", "service", "services", "business",
    "businesses", "group", "groups", "practice", "practices", "clinic", "clinics", "provider", "providers",
    "shop", "shops", "store", "stores", "and", "of", "the",
})  # fmt: skip
SENIOR = {"c_level": 1.0, "owner": 1.0, "founder": 1.0, "partner": 1.0, "vp": 0.9, "head": 0.8, "director": 0.7}
_SENIOR_TITLE = re.compile(
    r"\b(ceo|coo|cto|cfo|chief|founder|co-founder|owner|president|partner|principal|managing director)\b"
)
_MID_TITLE = re.compile(r"\b(vp|vice president|head)\b")
_DIRECTOR = re.compile(r"\bdirector\b")
EMAIL_POINTS = {"valid": 1.0, "catch_all": 0.6, "risky": 0.4, "unknown": 0.3, "role": 0.2}
UNREACHABLE = frozenset({"invalid", "disposable"})
_RANGE = re.compile(r"^\s*(\d[\d,]*)\s*(?:-|\u2013|to)\s*(\d[\d,]*)\s*$")
_OPEN = re.compile(r"^\s*(\d[\d,]*)\s*\+\s*$")


@dataclass
class ScoreCard:
    score: int
    qualified: bool
    reasons: list[str] = field(default_factory=list)
    hard_stop: str = ""
    parts: dict[str, int] = field(default_factory=dict)
    ceiling: int = 100  # a cap that applied: no one (the brain included) scores the lead above it


def _stems(text: str) -> set[str]:
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in GENERIC_WORDS and len(w) > 2]
    return {w[:5] for w in words}


def industry_matches(industry: str, wanted: Sequence[str]) -> bool:
    """Same industry in other words ("Dental clinic" ~ "dental clinics"); generic words do not count."""
    mine = _stems(industry)
    for other in wanted:
        theirs = _stems(other)
        if (mine and theirs and mine & theirs) or industry.strip().lower() == other.strip().lower():
            return True
    return False


def parse_range(text: str) -> tuple[int, int] | None:
    """An employee range ("11-50", "500+", "37") as (low, high)."""
    text = (text or "").strip()
    if m := _RANGE.match(text):
        return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
    if m := _OPEN.match(text):
        return int(m.group(1).replace(",", "")), 10**7
    if text.replace(",", "").isdigit():
        n = int(text.replace(",", ""))
        return n, n
    return None


def employee_range(employees: int) -> str:
    """The usual bucket of a head count (as lead databases report it)."""
    for low, high in ((1, 10), (11, 50), (51, 200), (201, 500), (501, 1000), (1001, 5000)):
        if employees <= high:
            return f"{low}-{high}"
    return "5001+"


def size_fit(company_range: str, wanted: Sequence[str]) -> float:
    """1: inside the ICP's sizes; 0.5: overlapping; 0: outside or unknown."""
    mine = parse_range(company_range)
    ranges = [r for r in (parse_range(w) for w in wanted) if r is not None]
    if mine is None or not ranges:
        return 0.0
    low, high = mine
    if any(lo <= low and high <= hi for lo, hi in ranges):
        return 1.0
    if any(low <= hi and lo <= high for lo, hi in ranges):
        return 0.5
    return 0.0


def title_named(title: str, wanted: Sequence[str]) -> bool:
    """Whether a title contains one of the wanted titles as words ("Practice Owner" ~ "Owner")."""
    lowered = title.lower()
    return any(re.search(rf"\b{re.escape(w.lower())}\b", lowered) for w in wanted if isinstance(w, str) and w.strip())


def title_fit(title: str, seniority: str, wanted: Sequence[str]) -> float:
    lowered = title.lower()
    if title_named(title, wanted):
        return 1.0
    if seniority in SENIOR:
        return SENIOR[seniority]
    if _SENIOR_TITLE.search(lowered):
        return 1.0
    if _MID_TITLE.search(lowered):
        return 0.8
    if _DIRECTOR.search(lowered):
        return 0.6
    return 0.2 if "manager" in lowered else 0.0


def _excluded(company: Company | None, lead: Lead, exclusions: Sequence[str]) -> str:
    domain = (company.domain if company else None) or (lead.email or "").rpartition("@")[2]
    haystack = " ".join(filter(None, [company.name if company else "", company.industry if company else "",
                                      company.description if company else ""])).lower()  # fmt: skip
    for item in exclusions:
        word = item.strip().lower()
        if not word:
            continue
        if domain and (domain == word or domain.endswith(f".{word}")):
            return f"domain {domain} is excluded by the ICP"
        if "." not in word and re.search(rf"\b{re.escape(word)}\b", haystack):
            return f"{word!r} is excluded by the ICP"
    return ""


def _industry(company: Company | None, icp: IdealCustomerProfile) -> tuple[int, str]:
    industry = company.industry if company else ""
    if not industry:
        return WEIGHTS["industry"] // 2, "industry unknown"
    if not icp.industries or industry_matches(industry, icp.industries):
        return WEIGHTS["industry"], f"industry {industry!r} is in the ICP"
    return 0, f"industry {industry!r} is not among the ICP's {', '.join(icp.industries)}"


def _size(company: Company | None, icp: IdealCustomerProfile) -> tuple[int, str, bool]:
    """Points, reason, and whether the size is known to be outside the ICP's sizes."""
    span = company.employee_range if company and company.employee_range else ""
    if not icp.company_sizes:
        return WEIGHTS["size"], f"size {span or 'unknown'}: the ICP names no sizes", False
    if not span:
        return WEIGHTS["size"] // 2, "size not known yet", False
    if parse_range(span) is None:
        return WEIGHTS["size"] // 2, f"size {span!r} not understood", False
    fit = size_fit(span, icp.company_sizes)
    verdict = {1.0: "within", 0.5: "partly within"}.get(fit, "outside")
    return round(WEIGHTS["size"] * fit), f"size {span} employees is {verdict} the ICP's sizes", fit == 0.0


def _title(lead: Lead, icp: IdealCustomerProfile, persona: Persona | None) -> tuple[int, str]:
    """The person's part: the ICP's titles, the titles persona research says buy, or seniority."""
    title = lead.title or "unknown"
    if persona and not title_named(lead.title, icp.titles) and title_named(lead.title, persona.title_patterns or []):
        return WEIGHTS["title"], f"title {title!r} is among the buyers of persona {persona.name!r}"
    fit = title_fit(lead.title, lead.seniority, icp.titles)
    role = "decision maker" if fit >= 0.8 else "senior" if fit >= 0.5 else "not a decision maker"
    return round(WEIGHTS["title"] * fit), f"title {title!r}: {role}"


def _country(lead: Lead, company: Company | None, icp: IdealCustomerProfile) -> tuple[int, str]:
    country = lead.country or (company.country if company else "")
    if not icp.countries:
        return WEIGHTS["country"], f"country {country or 'unknown'}: the ICP names no countries"
    if not country:
        return WEIGHTS["country"] // 2, "country unknown"
    inside = country in icp.countries
    return (WEIGHTS["country"] if inside else 0), f"country {country} is {'' if inside else 'not '}in the ICP"


def _signals(findings: Sequence[Finding]) -> tuple[int, str, bool]:
    signals = [f for f in findings if f.kind == "signal"]
    if not signals:
        return 0, "no buying signal found by research", False
    points = min(WEIGHTS["signals"], 10 * len(signals) - (5 if len(signals) > 1 else 0))
    return points, f"buying signals found by research: {'; '.join(f.claim for f in signals[:3])}", True


def score_lead(*, lead: Lead, icp: IdealCustomerProfile, findings: Sequence[Finding]) -> ScoreCard:
    """The rules' score of ``lead`` (with its company and the persona it was found for) against ``icp``,
    given its sourced findings."""
    company = lead.company
    parts: dict[str, int] = {}
    reasons: list[str] = []

    def part(name: str, points: int, reason: str) -> None:
        parts[name] = points
        reasons.append(f"{reason} (+{points})")

    part("industry", *_industry(company, icp))
    size_points, size_reason, outside_sizes = _size(company, icp)
    part("size", size_points, size_reason)
    part("title", *_title(lead, icp, lead.persona))
    part("country", *_country(lead, company, icp))
    signal_points, signal_reason, in_motion = _signals(findings)
    part("signals", signal_points, signal_reason)
    status = lead.email_status or "unknown"
    part("email", round(WEIGHTS["email"] * EMAIL_POINTS.get(status, 0.0)), f"email {status}")

    score, ceiling = sum(parts.values()), 100
    if parts["industry"] == 0:
        ceiling = OFF_INDUSTRY_CAP
        if score > ceiling:
            reasons.append(f"capped at {ceiling}: outside the ICP's industries")
    elif outside_sizes and not in_motion:
        ceiling = OFF_SIZE_CAP
        if score > ceiling:
            reasons.append(f"capped at {ceiling}: outside the ICP's sizes and research found no sign of growth")
    elif outside_sizes:
        reasons.append("outside the ICP's sizes but growing (the signals above): not capped")
    hard_stop = _excluded(company, lead, icp.exclusions)
    if not hard_stop and status in UNREACHABLE:
        hard_stop = f"email {status}: the lead cannot be reached"
    if hard_stop:
        reasons.append(hard_stop)
    score = max(0, min(ceiling, score))
    return ScoreCard(
        score=score,
        qualified=not hard_stop and score >= QUALIFY_AT,
        reasons=reasons,
        hard_stop=hard_stop,
        parts=parts,
        ceiling=ceiling,
    )
