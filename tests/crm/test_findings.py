"""Sourced findings: no source, no finding; merge keeps one of each claim; support check."""

from __future__ import annotations

import pytest

from crm.models import Lead
from crm.selectors import sourced_findings, sourced_findings_by_lead
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


@pytest.mark.django_db
def test_findings_of_many_leads_are_each_leads_own_in_one_read(django_assert_num_queries) -> None:
    def finding(kind: str, claim: str) -> dict[str, str]:
        return {**GOOD, "kind": kind, "claim": claim}

    shared = LeadFactory.create(research={"findings": [finding("post", "Ann posted about AI.")]})
    colleague = LeadFactory.create(company=shared.company)  # the same company's reports, no research
    alone = LeadFactory.create(company=None, research={"findings": [finding("role", "Bo runs operations.")]})
    other = LeadFactory.create()
    assert shared.company is not None and other.company is not None
    shared.company.enrichment = {"findings": [GOOD]}
    shared.company.save()
    for claim in ("Acme uses HubSpot.", "Acme uses Zapier."):  # in order, the later one last
        ResearchReportFactory.create(company=shared.company, findings={"findings": [finding("tech", claim)]})
    ResearchReportFactory.create(
        kind="lead", lead=shared, company=shared.company, findings={"findings": [finding("role", "Ann is the COO.")]}
    )
    ResearchReportFactory.create(company=other.company, findings={"findings": [finding("news", "Other moved.")]})
    ResearchReportFactory.create(company=other.company)  # unsourced: ignored
    leads = list(Lead.objects.select_related("company").filter(pk__in=[shared.pk, colleague.pk, alone.pk, other.pk]))

    with django_assert_num_queries(1):
        many = sourced_findings_by_lead(leads)
    assert many == {lead.pk: sourced_findings(lead=lead) for lead in leads}
    assert [f.claim for f in many[shared.pk]] == [
        GOOD["claim"], "Ann posted about AI.", "Acme uses HubSpot.", "Acme uses Zapier.", "Ann is the COO.",
    ]  # fmt: skip
    assert [f.claim for f in many[colleague.pk]] == [GOOD["claim"], "Acme uses HubSpot.", "Acme uses Zapier."]
    assert [f.claim for f in many[alone.pk]] == ["Bo runs operations."]
    assert [f.claim for f in many[other.pk]] == ["Other moved."]
    assert sourced_findings_by_lead([]) == {}
