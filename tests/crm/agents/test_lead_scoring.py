"""lead_scoring: what it scores, qualifies and disqualifies, and why; the brain kept within the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Lead
from crm.services.findings import Finding
from crm.services.scoring import OFF_SIZE_CAP, QUALIFY_AT, industry_matches, score_lead, size_fit
from tests.crm.agents.conftest import market_lead, person_where
from tests.factories.crm import CompanyFactory, IdealCustomerProfileFactory, LeadFactory, PersonaFactory

pytestmark = pytest.mark.django_db


def _lead(title: str = "Owner", **company: Any) -> Lead:
    defaults = {"industry": "Dental clinics", "employee_range": "11-50", "country": "US"}
    return LeadFactory.create(
        company=CompanyFactory.create(**(defaults | company)),
        title=title,
        seniority="",
        country="US",
        status=Lead.Status.VERIFIED,
    )


def _signal(claim: str = "X opened a new location.") -> Finding:
    return Finding(
        kind="signal",
        claim=claim,
        source_url="https://www.x.com/news",
        provider="sandbox",
        fetched_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )


def test_a_fitting_lead_is_qualified_with_readable_reasons_and_researched_next(icp: Any) -> None:
    lead = _lead(
        enrichment={
            "findings": [
                {
                    "kind": "signal",
                    "claim": "Acme is hiring for operations roles.",
                    "source_url": "https://www.acme.com/careers",
                    "provider": "sandbox",
                    "fetched_at": "2026-03-01T00:00:00Z",
                }
            ]
        }
    )
    result = run_agent("lead_scoring", {"lead_id": lead.pk})
    assert result.status == "succeeded", result.error
    lead.refresh_from_db()
    assert lead.status == "qualified" and lead.score is not None and lead.score >= 90
    assert any("hiring for operations roles" in r for r in lead.score_reasons)
    assert any("industry 'Dental clinics' is in the ICP" in r for r in lead.score_reasons)
    assert [r.agent_name for r in result.handoffs] == ["lead_research"]
    assert_idempotent("lead_scoring", {"lead_id": lead.pk})


def test_another_industry_is_disqualified_whatever_else_fits(icp: Any) -> None:
    lead = _lead(industry="law firms")
    result = run_agent("lead_scoring", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert lead.status == "disqualified" and lead.score is not None and lead.score <= 45
    assert any("not among the ICP's" in r for r in lead.score_reasons)
    assert not result.handoffs


def test_an_unreachable_address_is_a_hard_stop(icp: Any) -> None:
    lead = _lead()
    Lead.objects.filter(pk=lead.pk).update(email_status="invalid")
    run_agent("lead_scoring", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert lead.status == "disqualified" and "cannot be reached" in lead.score_reasons[-1]


def test_signals_research_found_raise_the_score() -> None:
    icp = IdealCustomerProfileFactory.build(
        industries=["dental clinics"], company_sizes=["11-50"], titles=[], countries=[], exclusions=[]
    )
    lead = _lead()
    assert (
        score_lead(lead=lead, icp=icp, findings=[_signal()]).score > score_lead(lead=lead, icp=icp, findings=[]).score
    )


def test_a_company_below_the_icps_sizes_is_capped_unless_research_finds_it_growing(icp: Any) -> None:
    small = _lead(employee_range="1-10")
    still = score_lead(lead=small, icp=icp, findings=[])
    assert still.score == OFF_SIZE_CAP < QUALIFY_AT and not still.qualified
    assert "size 1-10 employees is outside the ICP's sizes (+0)" in still.reasons
    assert (
        still.reasons[-1] == f"capped at {OFF_SIZE_CAP}: outside the ICP's sizes and research found no sign of growth"
    )
    growing = score_lead(lead=small, icp=icp, findings=[_signal("X is hiring for operations roles.")])
    assert growing.qualified and growing.score > still.score
    assert "outside the ICP's sizes but growing (the signals above): not capped" in growing.reasons
    assert any("X is hiring for operations roles" in r for r in growing.reasons)


def test_the_account_comes_before_the_person(icp: Any) -> None:
    """A manager at a company we sell to ranks above the owner of one too small to buy, who has the
    better title and the same address quality: the title finds the door, the account pays."""
    manager = score_lead(lead=_lead(title="Office Manager", employee_range="51-200"), icp=icp, findings=[])
    owner = score_lead(lead=_lead(title="Owner", employee_range="1-10"), icp=icp, findings=[])
    assert manager.parts["title"] < owner.parts["title"] and manager.score > owner.score
    assert manager.qualified and not owner.qualified
    off_trade = score_lead(lead=_lead(industry="law firms"), icp=icp, findings=[_signal()])
    assert off_trade.score < owner.score  # the wrong trade is a further miss than the wrong size


def test_a_title_persona_research_names_counts_as_a_buyer(icp: Any) -> None:
    lead = _lead(title="Operations Manager")
    assert score_lead(lead=lead, icp=icp, findings=[]).parts["title"] == 3  # a manager, not in the ICP's titles
    persona = PersonaFactory.create(name="Dental operations lead", title_patterns=["COO", "Operations Manager"])
    Lead.objects.filter(pk=lead.pk).update(persona=persona)
    result = run_agent("lead_scoring", {"lead_id": lead.pk})
    assert result.status == "succeeded", result.error
    lead.refresh_from_db()
    assert "title 'Operations Manager' is among the buyers of persona 'Dental operations lead' (+15)" in (
        lead.score_reasons
    )


def test_what_is_not_known_counts_half_and_what_the_icp_leaves_open_counts_full(icp: Any) -> None:
    unknown = score_lead(lead=_lead(employee_range=""), icp=icp, findings=[])
    assert unknown.parts["size"] == 10 and "size not known yet (+10)" in unknown.reasons
    assert unknown.ceiling == 100  # a gap is not a miss: no cap
    open_icp = IdealCustomerProfileFactory.build(industries=["dental clinics"], company_sizes=[], countries=[])
    anything = score_lead(lead=_lead(employee_range="5001+"), icp=open_icp, findings=[])
    assert anything.parts["size"] == 20 and anything.parts["country"] == 10


def test_research_on_the_sandbox_decides_a_small_company(icp: Any) -> None:
    """From the company's own pages: a small clinic that is hiring or growing qualifies, one that is
    not stays below the line, each with the reason."""
    for growing in (True, False):
        person = person_where(
            lambda p, g=growing: (
                p.company.industry == "dental clinics" and p.company.employees < 10 and bool(p.company.signals) is g
            )
        )
        lead = market_lead(person)
        assert run_agent("company_research", {"lead_id": lead.pk}).status == "succeeded"
        assert run_agent("lead_scoring", {"lead_id": lead.pk}).status == "succeeded"
        lead.refresh_from_db()
        assert lead.company is not None and lead.company.employee_range == "1-10"  # read from the about page
        assert (lead.status == "qualified") is growing, lead.score_reasons
        if growing:
            assert any(person.company.signals[0] in r for r in lead.score_reasons)
        else:
            assert lead.score == OFF_SIZE_CAP and "research found no sign of growth" in lead.score_reasons[-1]


def test_the_model_may_adjust_within_bounds_and_nonsense_gets_the_rules(icp: Any) -> None:
    lead = _lead()
    run_agent("lead_scoring", {"lead_id": lead.pk}, answers=[{"score": 3, "qualified": True, "reasons": ["vibes"]}])
    lead.refresh_from_db()
    assert lead.score != 3 and "vibes" not in lead.score_reasons  # outside the bounds: the rules' card
    other = _lead(domain="other-dental.example.com")
    rules = score_lead(lead=other, icp=icp, findings=[]).score
    run_agent(
        "lead_scoring",
        {"lead_id": other.pk},
        answers=[{"score": rules - 5, "qualified": True, "reasons": ["established practice"]}],
    )
    other.refresh_from_db()
    assert other.score == rules - 5 and other.score_reasons == ["established practice"]


def test_the_model_cannot_lift_a_capped_lead_over_its_cap(icp: Any) -> None:
    lead = _lead(employee_range="1-10")
    run_agent(
        "lead_scoring",
        {"lead_id": lead.pk},
        answers=[{"score": OFF_SIZE_CAP + 10, "qualified": True, "reasons": ["the owner sounds keen"]}],
    )
    lead.refresh_from_db()
    assert lead.status == "disqualified" and lead.score == OFF_SIZE_CAP
    assert "the owner sounds keen" not in lead.score_reasons


def test_no_active_icp_skips_with_the_reason() -> None:
    result = run_agent("lead_scoring", {"lead_id": _lead().pk})
    assert result.status == "skipped" and "no active ideal customer profile" in result.error


def test_matching_helpers() -> None:
    assert industry_matches("Dental clinic", ["dental clinics"])
    assert not industry_matches("accounting firms", ["law firms"])
    assert size_fit("11-50", ["11-50", "51-200"]) == 1.0 and size_fit("1-10", ["11-50"]) == 0.0


def test_a_lead_without_a_profile_is_scored_against_the_one_it_fits(icp: Any) -> None:
    """A CSV import names no profile: a UK law firm is judged by the UK law profile, not the oldest one."""
    law = IdealCustomerProfileFactory.create(
        name="Law (UK)", industries=["law firms"], company_sizes=["11-50", "51-200"], titles=["Owner"], countries=["GB"]
    )
    lead = _lead(industry="Law firms", country="GB")
    Lead.objects.filter(pk=lead.pk).update(country="GB")
    run_agent("lead_scoring", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert lead.icp_id == law.pk and lead.status == "qualified", lead.score_reasons
    assert any("industry 'Law firms' is in the ICP" in r for r in lead.score_reasons)
    # A dental clinic beside it still goes to the dental profile, and a lead's own profile is kept.
    dental = _lead()
    run_agent("lead_scoring", {"lead_id": dental.pk})
    dental.refresh_from_db()
    assert dental.icp_id == icp.pk and dental.status == "qualified"
    own = _lead(industry="Law firms", country="GB")
    Lead.objects.filter(pk=own.pk).update(icp=icp, country="GB")
    run_agent("lead_scoring", {"lead_id": own.pk})
    own.refresh_from_db()
    assert own.icp_id == icp.pk and own.status == "disqualified"
