"""company_research and lead_research: sourced findings from the pages, reuse, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Company, Lead, ResearchReport
from crm.selectors import sourced_findings
from integrations.http import TransientError
from integrations.sandbox.market import SandboxWebResearch
from tests.crm.agents.conftest import market_lead, person_where
from tests.factories.crm import LeadFactory

pytestmark = pytest.mark.django_db


def test_company_research_finds_the_signals_on_the_pages_with_their_sources(icp: Any) -> None:
    person = person_where(lambda p: len(p.company.signals) >= 1)
    lead = market_lead(person)
    result = run_agent("company_research", {"lead_id": lead.pk})
    assert result.status == "succeeded", result.error
    company = Company.objects.get(pk=lead.company_id or 0)
    found = sourced_findings(company=company)
    signals = [f for f in found if f.kind == "signal"]
    assert {s for s in person.company.signals} <= {
        s for s in person.company.signals if any(s in f.claim for f in signals)
    }
    assert all(f.source_url.startswith(f"https://www.{company.domain}") and f.provider == "sandbox" for f in found)
    assert company.employee_range  # the gap filled from the about page
    assert ResearchReport.objects.filter(kind="company", company=company).count() == 1
    assert [r.agent_name for r in result.handoffs] == ["lead_scoring"]


def test_company_research_twice_reuses_the_research(icp: Any) -> None:
    lead = market_lead(person_where(lambda p: bool(p.company.signals)))
    _first, second = assert_idempotent("company_research", {"lead_id": lead.pk})
    assert second.output["reused"] is True


def test_a_company_without_pages_gets_no_findings_and_still_goes_to_scoring(icp: Any) -> None:
    lead = LeadFactory.create(company__domain="nowhere-to-be-found.example.com")
    result = run_agent("company_research", {"lead_id": lead.pk})
    assert result.status == "succeeded"
    assert result.output["findings"] == 0 and result.output["note"] == "no page or news answered"
    assert [r.agent_name for r in result.handoffs] == ["lead_scoring"]


def test_a_provider_5xx_makes_the_run_wait_for_a_retry(monkeypatch: Any, icp: Any) -> None:
    def down(self: Any, *, url: str) -> Any:
        raise TransientError("503", provider="firecrawl", operation="scrape", status_code=503)

    monkeypatch.setattr(SandboxWebResearch, "scrape", down)
    lead = market_lead(person_where(lambda p: True))
    result = run_agent("company_research", {"lead_id": lead.pk})
    assert result.status == "queued"  # retried with backoff, nothing written
    assert not result.writes and not result.handoffs


def test_nonsense_from_the_model_falls_back_to_the_heuristic(icp: Any) -> None:
    lead = market_lead(person_where(lambda p: bool(p.company.signals)))
    invented = {
        "summary": "x",
        "findings": [
            {
                "kind": "signal",
                "claim": "They raised 50 million from SoftBank",
                "source_url": "https://www.example.org/made-up",
            }
        ],
    }
    result = run_agent("company_research", {"lead_id": lead.pk}, answers=[invented])
    assert result.status == "succeeded"
    claims = [f.claim for f in sourced_findings(company=Company.objects.get(pk=lead.company_id or 0))]
    assert claims and not any("SoftBank" in c for c in claims)


def test_lead_research_stores_sourced_person_facts_for_a_qualified_lead(icp: Any) -> None:
    person = person_where(lambda p: True)
    lead = market_lead(person, status=Lead.Status.QUALIFIED)
    result = run_agent("lead_research", {"lead_id": lead.pk})
    assert result.status == "succeeded", result.error
    lead.refresh_from_db()
    kinds = {f.kind for f in sourced_findings(lead=lead)}
    assert {"role", "tenure", "post"} <= kinds
    assert all(f["source_url"] == person.linkedin_url for f in lead.research["findings"])
    assert_idempotent("lead_research", {"lead_id": lead.pk})


def test_lead_research_leaves_unqualified_leads_alone(icp: Any) -> None:
    lead = market_lead(person_where(lambda p: True), status=Lead.Status.NEW)
    result = run_agent("lead_research", {"lead_id": lead.pk})
    assert result.status == "succeeded" and "not qualified" in result.output["note"]
    assert not result.writes
