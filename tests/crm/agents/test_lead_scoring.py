"""lead_scoring: what it scores, qualifies and disqualifies, and why; the brain kept within the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Lead
from crm.services.findings import Finding
from crm.services.scoring import industry_matches, score_lead, size_fit
from tests.factories.crm import CompanyFactory, IdealCustomerProfileFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _lead(**company: Any) -> Lead:
    defaults = {"industry": "Dental clinics", "employee_range": "11-50", "country": "US"}
    return LeadFactory.create(
        company=CompanyFactory.create(**(defaults | company)),
        title="Owner",
        seniority="",
        country="US",
        status=Lead.Status.VERIFIED,
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
    signal = Finding(
        kind="signal",
        claim="X opened a new location.",
        source_url="https://www.x.com/news",
        provider="sandbox",
        fetched_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    assert score_lead(lead=lead, icp=icp, findings=[signal]).score > score_lead(lead=lead, icp=icp, findings=[]).score


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


def test_no_active_icp_skips_with_the_reason() -> None:
    result = run_agent("lead_scoring", {"lead_id": _lead().pk})
    assert result.status == "skipped" and "no active ideal customer profile" in result.error


def test_matching_helpers() -> None:
    assert industry_matches("Dental clinic", ["dental clinics"])
    assert not industry_matches("accounting firms", ["law firms"])
    assert size_fit("11-50", ["11-50", "51-200"]) == 1.0 and size_fit("1-10", ["11-50"]) == 0.0
