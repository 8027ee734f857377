"""Scoring a lead 0-100 against an ideal customer profile, with reasons a person can read.

The rules (weights sum to 100): industry 30, company size 20, title/seniority 15, country 10,
buying signals that research found and sourced 15, email status 10. A company outside the ICP's
industries is capped below the qualifying line whatever else it has: the offer is built for those
industries. Hard stops (an excluded domain or keyword, an address that cannot receive mail)
disqualify at any score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from crm.models import Company, IdealCustomerProfile, Lead
from crm.services.findings import Finding

QUALIFY_AT = 60
OFF_INDUSTRY_CAP = 45
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


def title_fit(title: str, seniority: str, wanted: Sequence[str]) -> float:
    lowered = title.lower()
    if any(re.search(rf"\b{re.escape(w.lower())}\b", lowered) for w in wanted if w.strip()):
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


def score_lead(*, lead: Lead, icp: IdealCustomerProfile, findings: Sequence[Finding]) -> ScoreCard:
    """The rules' score of ``lead`` (with its company) against ``icp``, given its sourced findings."""
    company = lead.company
    parts: dict[str, int] = {}
    reasons: list[str] = []

    industry = company.industry if company else ""
    if not industry:
        parts["industry"] = WEIGHTS["industry"] // 2
        reasons.append(f"industry unknown (+{parts['industry']})")
    elif not icp.industries or industry_matches(industry, icp.industries):
        parts["industry"] = WEIGHTS["industry"]
        reasons.append(f"industry {industry!r} is in the ICP (+{parts['industry']})")
    else:
        parts["industry"] = 0
        reasons.append(f"industry {industry!r} is not among the ICP's {', '.join(icp.industries)} (+0)")

    size = size_fit(company.employee_range if company else "", icp.company_sizes)
    parts["size"] = round(WEIGHTS["size"] * size) if icp.company_sizes else WEIGHTS["size"] // 2
    span = company.employee_range if company and company.employee_range else "unknown"
    verdict = {1.0: "within", 0.5: "partly within"}.get(size, "outside") if span != "unknown" else "not known for"
    reasons.append(f"size {span} employees is {verdict} the ICP's sizes (+{parts['size']})")

    fit = title_fit(lead.title, lead.seniority, icp.titles)
    parts["title"] = round(WEIGHTS["title"] * fit)
    role = "decision maker" if fit >= 0.8 else "senior" if fit >= 0.5 else "not a decision maker"
    reasons.append(f"title {lead.title or 'unknown'!r}: {role} (+{parts['title']})")

    country = lead.country or (company.country if company else "")
    if not icp.countries:
        parts["country"] = WEIGHTS["country"]
    elif not country:
        parts["country"] = WEIGHTS["country"] // 2
    else:
        parts["country"] = WEIGHTS["country"] if country in icp.countries else 0
    reasons.append(f"country {country or 'unknown'} (+{parts['country']})")

    signals = [f for f in findings if f.kind == "signal"]
    parts["signals"] = min(WEIGHTS["signals"], 10 * len(signals) - (5 if len(signals) > 1 else 0))
    if signals:
        said = "; ".join(f.claim for f in signals[:3])
        reasons.append(f"buying signals found by research: {said} (+{parts['signals']})")
    else:
        reasons.append("no buying signal found by research (+0)")

    status = lead.email_status or "unknown"
    parts["email"] = round(WEIGHTS["email"] * EMAIL_POINTS.get(status, 0.0))
    reasons.append(f"email {status} (+{parts['email']})")

    score = sum(parts.values())
    if parts["industry"] == 0 and score > OFF_INDUSTRY_CAP:
        score = OFF_INDUSTRY_CAP
        reasons.append(f"capped at {OFF_INDUSTRY_CAP}: outside the ICP's industries")
    hard_stop = _excluded(company, lead, icp.exclusions)
    if not hard_stop and status in UNREACHABLE:
        hard_stop = f"email {status}: the lead cannot be reached"
    if hard_stop:
        reasons.append(hard_stop)
    score = max(0, min(100, score))
    return ScoreCard(
        score=score, qualified=not hard_stop and score >= QUALIFY_AT, reasons=reasons, hard_stop=hard_stop, parts=parts
    )
