"""Sourced findings: no source, no finding; merge keeps one of each claim; support check."""

from __future__ import annotations

import pytest

from crm.selectors import sourced_findings
from crm.services import findings
from tests.factories.crm import LeadFactory, ResearchReportFactory

GOOD = {
    "kind": "signal",
    "claim": "Acme opened a new location.",
    "source_url": "https://www.acme.com/news",
    "provider": "sandbox",
    "fetched_at": "2026-03-01T00:00:00Z",
}


def test_entries_without_a_source_are_not_findings() -> None:
    raw = {"findings": [GOOD, {**GOOD, "source_url": ""}, {**GOOD, "source_url": "acme.com"}, {"claim": "x"}]}
    assert [f.claim for f in findings.load(raw)] == [GOOD["claim"]]


def test_merge_keeps_one_finding_per_claim() -> None:
    one = findings.load([GOOD])
    assert len(findings.merge(one, findings.load([GOOD, {**GOOD, "claim": "acme opened a new location."}]))) == 1


def test_a_claim_is_supported_only_by_text_that_says_it() -> None:
    assert findings.supported("Acme opened a new location", "News: Acme opened a new location in Austin.")
    assert not findings.supported("Acme raised 50 million from SoftBank", "Acme opened a new location.")


@pytest.mark.django_db
def test_the_selector_reads_lead_company_and_report_findings_but_never_unsourced_ones() -> None:
    lead = LeadFactory.create(research={"findings": [{**GOOD, "kind": "post", "claim": "Ann posted about AI."}]})
    assert lead.company is not None
    lead.company.enrichment = {"findings": [GOOD]}
    lead.company.save()
    ResearchReportFactory.create(company=lead.company)  # legacy, unsourced: ignored
    ResearchReportFactory.create(
        company=lead.company, findings={"findings": [{**GOOD, "kind": "tech", "claim": "Acme uses HubSpot."}]}
    )
    assert {f.kind for f in sourced_findings(lead=lead)} == {"signal", "post", "tech"}
