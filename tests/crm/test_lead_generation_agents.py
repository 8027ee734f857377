"""The lead generation chain: lead_list_builder -> data_validation -> deduplication -> email_finder
-> email_verification -> lead_enrichment, on the sandbox world (no vendor, no DNS)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Action, AgentRun, LookupCache
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Lead
from integrations.http.errors import InvalidResponseError, TransientError
from integrations.sandbox import market
from integrations.values import EmailFindResult, LeadItem, ScrapedPage, Verdict
from tests.factories.crm import CompanyFactory, IdealCustomerProfileFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox(settings: Any) -> None:
    settings.INTEGRATION_KEYS = {name: "" for name in settings.INTEGRATION_KEYS}
    settings.SANDBOX_SEED = 42
    settings.EMAIL_MX_RESOLVER = "sandbox"
    settings.LEAD_LIST_DAILY_QUOTA = 5


def _search_id() -> str:
    result = Action.objects.get(kind="lead_source.search").result
    assert isinstance(result, dict)
    return str(result["search_id"])


def _search_and_succeed(icp_id: int | None = None) -> tuple[Any, str]:
    tick = run_agent("lead_list_builder", {"icp_id": icp_id} if icp_id else {})
    return tick, _search_id()


# --- lead_list_builder ----------------------------------------------------------------------------


def test_the_tick_starts_one_search_per_active_icp_and_day_within_the_quota() -> None:
    icp = IdealCustomerProfileFactory.create(industries=["dental clinics"], countries=["US"])
    IdealCustomerProfileFactory.create(active=False)
    tick, search_id = _search_and_succeed()
    assert tick.status == "succeeded" and tick.output["searches_started"] == [icp.pk]
    action = Action.objects.get(kind="lead_source.search")
    assert action.payload["query"] == "dental clinics" and action.payload["location"] == "United States"
    assert action.payload["max_items"] == 5 and action.status == Action.Status.DONE and search_id
    again = run_agent("lead_list_builder", {})
    assert Action.objects.filter(kind="lead_source.search").count() == 1  # same ICP, same day: one search
    assert again.status == "succeeded"


def test_the_webhook_imports_the_dataset_within_quota_and_hands_each_new_lead_on() -> None:
    icp = IdealCustomerProfileFactory.create(industries=["law firms"], countries=["GB"])
    _search_and_succeed()
    result = run_agent("lead_list_builder", {"search_id": _search_id(), "status": "succeeded"})
    assert result.status == "succeeded", result.error
    created = result.output["created"]
    assert 0 < len(created) <= 5
    assert {r.agent_name for r in result.handoffs} == {"data_validation"} and len(result.handoffs) == len(created)
    lead = Lead.objects.select_related("company").get(pk=created[0])
    assert lead.icp == icp and lead.source == "lead_source:sandbox" and lead.company is not None
    assert lead.company.enrichment["lead_source"]["source"] == "lead_source:sandbox"


def test_the_webhook_run_is_idempotent() -> None:
    IdealCustomerProfileFactory.create(industries=["saas"], countries=["DE"])
    _search_and_succeed()
    search_id = _search_id()
    assert_idempotent("lead_list_builder", {"search_id": search_id, "status": "succeeded"})


def test_junk_rows_are_rejected_with_their_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    IdealCustomerProfileFactory.create(industries=["saas"], countries=["DE"], exclusions=["competitor.io"])
    _search_and_succeed()
    rows = [
        LeadItem(company_name="Acme", domain="acme-gmbh.de", first_name="Jana", last_name="Roth", title="COO"),
        LeadItem(company_name="No one", domain="noone.de"),
        LeadItem(first_name="Max", last_name="Bauer"),
        LeadItem(domain="competitor.io", first_name="Eve", last_name="Spy"),
        LeadItem(domain="bad domain!", first_name="Bob", last_name="Odd", email="not-an-email"),
    ]
    monkeypatch.setattr(market.SandboxLeadSource, "fetch_items", lambda self, **kw: rows)
    result = run_agent("lead_list_builder", {"search_id": _search_id(), "status": "succeeded"})
    assert result.status == "succeeded"
    assert len(result.output["created"]) == 1
    reasons = " | ".join(result.output["rejected"])
    assert "row 2: no name" in reasons and "row 3: no company" in reasons and "excluded by the ICP" in reasons
    assert "row 5:" in reasons


def test_a_provider_outage_leaves_the_import_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    IdealCustomerProfileFactory.create(industries=["saas"], countries=["DE"])
    _search_and_succeed()

    def down(self: Any, **kw: Any) -> list[LeadItem]:
        raise TransientError("503 from the dataset API", provider="sandbox", operation="fetch_items", status_code=503)

    monkeypatch.setattr(market.SandboxLeadSource, "fetch_items", down)
    result = run_agent("lead_list_builder", {"search_id": _search_id(), "status": "succeeded"})
    assert result.status == "queued"  # retried later, not failed for good
    assert Lead.objects.count() == 0


def test_a_search_we_did_not_start_or_that_failed_imports_nothing() -> None:
    result = run_agent("lead_list_builder", {"search_id": "someone-elses", "status": "succeeded"})
    assert result.status == "succeeded" and "not started by us" in result.output["note"]


# --- email_finder ---------------------------------------------------------------------------------


def _nameless_email_lead(**kw: Any) -> Lead:
    company = CompanyFactory.create(domain="brightsaas.com")
    return LeadFactory.create(
        email=None, email_status="unknown", company=company, first_name="Ada", last_name="King", **kw
    )


def test_the_finder_stops_at_the_first_hit_and_hands_off(monkeypatch: pytest.MonkeyPatch) -> None:
    lead = _nameless_email_lead()
    monkeypatch.setattr(
        market.SandboxEmailFinder,
        "find_email",
        lambda self, **kw: EmailFindResult(email="Ada.King@brightsaas.com", confidence=0.9, provider="sandbox"),
    )
    result = run_agent("email_finder", {"lead_id": lead.pk})
    assert result.status == "succeeded" and result.output["email"] == "ada.king@brightsaas.com"
    assert [r.agent_name for r in result.handoffs] == ["email_verification"]
    assert [w.action for w in result.writes] == ["lead.email_found"]


def test_a_waterfall_asks_the_next_provider_only_after_a_miss(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from integrations.providers.findymail import FindymailClient
    from integrations.providers.icypeas import IcypeasClient

    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, "ICYPEAS_API_KEY": "k", "FINDYMAIL_API_KEY": "k"}
    asked: list[str] = []

    def miss(self: Any, **kw: Any) -> None:
        asked.append("icypeas")

    def hit(self: Any, **kw: Any) -> EmailFindResult:
        asked.append("findymail")
        return EmailFindResult(email="ada@brightsaas.com", confidence=0.9, provider="findymail")

    monkeypatch.setattr(IcypeasClient, "find_email", miss)
    monkeypatch.setattr(FindymailClient, "find_email", hit)
    lead = _nameless_email_lead()
    result = run_agent("email_finder", {"lead_id": lead.pk})
    assert asked == ["icypeas", "findymail"]
    assert [x["provider"] for x in result.output["lookups"]] == ["icypeas", "findymail"]
    assert result.output["cost"] == "0.030"
    # A second run about the same person pays nobody again.
    Lead.objects.filter(pk=lead.pk).update(email=None)
    again = run_agent("email_finder", {"lead_id": lead.pk})
    assert asked == ["icypeas", "findymail"] and again.output["cost"] == "0"
    assert all(x["cached"] for x in again.output["lookups"])
    assert LookupCache.objects.filter(key__startswith="email_finder:").count() == 2


def test_a_lead_with_an_email_skips_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    lead = LeadFactory.create(email_status="unknown")
    monkeypatch.setattr(market.SandboxEmailFinder, "find_email", lambda self, **kw: pytest.fail("paid lookup"))
    result = run_agent("email_finder", {"lead_id": lead.pk})
    assert "has an email" in result.output["note"]
    assert [r.agent_name for r in result.handoffs] == ["email_verification"]


def test_the_finder_is_idempotent() -> None:
    assert_idempotent("email_finder", {"lead_id": _nameless_email_lead().pk})


def _finder_answers(monkeypatch: pytest.MonkeyPatch, email: str | None) -> None:
    found = EmailFindResult(email=email, confidence=0.9, provider="sandbox") if email else None
    monkeypatch.setattr(market.SandboxEmailFinder, "find_email", lambda self, **kw: found)


def test_a_search_without_an_address_of_their_own_ends_the_lead_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nobody found an address: the lead is not left "new" for ever.
    _finder_answers(monkeypatch, None)
    lead = _nameless_email_lead()
    result = run_agent("email_finder", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert result.status == "succeeded" and not result.handoffs
    assert lead.status == "disqualified" and "no address found (sandbox asked)" in str(lead.score_reasons)

    # The guess names a colleague: two people called Ada at a first@domain company.
    colleague = LeadFactory.create(email="ada@brightsaas.com", company=lead.company, first_name="Ada", last_name="Moss")
    _finder_answers(monkeypatch, "ada@brightsaas.com")
    other = LeadFactory.create(
        email=None, email_status="unknown", company=lead.company, first_name="Ada", last_name="Ng"
    )
    run_agent("email_finder", {"lead_id": other.pk})
    other.refresh_from_db()
    assert other.email is None and other.status == "disqualified"
    assert f"lead {colleague.pk}'s (Ada Moss)" in str(other.score_reasons)
    colleague.refresh_from_db()
    assert colleague.email == "ada@brightsaas.com" and colleague.status != "disqualified"

    # Nothing to search with: no domain.
    bare = LeadFactory.create(email=None, email_status="unknown", company=None, first_name="Bo", last_name="Li")
    run_agent("email_finder", {"lead_id": bare.pk})
    bare.refresh_from_db()
    assert bare.status == "disqualified" and "no company domain" in str(bare.score_reasons)


def test_the_same_person_listed_twice_waits_for_deduplication(monkeypatch: pytest.MonkeyPatch) -> None:
    lead = _nameless_email_lead()
    twin = LeadFactory.create(email="ada@brightsaas.com", company=lead.company, first_name="ADA", last_name="king")
    _finder_answers(monkeypatch, "ada@brightsaas.com")
    result = run_agent("email_finder", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert f"belongs to lead {twin.pk} already" in result.output["note"]
    assert lead.status == "new" and lead.email is None  # the merge keeps the one further along


def test_a_failed_search_never_ends_a_lead_someone_already_talks_to(monkeypatch: pytest.MonkeyPatch) -> None:
    _finder_answers(monkeypatch, None)
    lead = _nameless_email_lead(status="contacted")
    run_agent("email_finder", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert lead.status == "contacted"


def test_finder_outage_waits_and_nonsense_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    lead = _nameless_email_lead()

    def down(self: Any, **kw: Any) -> None:
        raise TransientError("502", provider="sandbox", operation="find_email", status_code=502)

    monkeypatch.setattr(market.SandboxEmailFinder, "find_email", down)
    assert run_agent("email_finder", {"lead_id": lead.pk}).status == "queued"

    def nonsense(self: Any, **kw: Any) -> None:
        raise InvalidResponseError("no 'email' field", provider="sandbox", operation="find_email", field="email")

    monkeypatch.setattr(market.SandboxEmailFinder, "find_email", nonsense)
    other = LeadFactory.create(
        email=None, email_status="unknown", company=lead.company, first_name="Bo", last_name="Li"
    )
    failed = run_agent("email_finder", {"lead_id": other.pk})
    assert failed.status == "failed" and "email" in failed.error


# --- email_verification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "email_status", "handoff", "lead_status"),
    [
        ("valid", "valid", True, "verified"),
        ("risky", "risky", True, "verified"),
        ("catch_all", "catch_all", True, "verified"),
        ("invalid", "invalid", False, "disqualified"),
    ],
)
def test_the_verdict_sets_email_status_and_routes_the_lead(
    monkeypatch: pytest.MonkeyPatch, status: str, email_status: str, handoff: bool, lead_status: str
) -> None:
    monkeypatch.setattr(market.SandboxMxResolver, "mx_hosts", lambda self, d: [f"mx.{d}"])
    monkeypatch.setattr(
        market.SandboxEmailVerifier,
        "verify",
        lambda self, e: Verdict(email=e, status=status, reason="smtp", provider="sandbox"),
    )
    lead = LeadFactory.create(email="ada@brightsaas.com", email_status="unknown")
    result = run_agent("email_verification", {"lead_id": lead.pk})
    lead.refresh_from_db()
    assert (lead.email_status, lead.status) == (email_status, lead_status)
    assert bool(result.handed_to("lead_enrichment")) is handoff
    assert (result.writes[0].after or {})["reason"] == "sandbox: smtp"


def test_disposable_and_role_addresses_never_reach_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market.SandboxEmailVerifier, "verify", lambda self, e: pytest.fail("paid verification"))
    throwaway = LeadFactory.create(email="ada@mailinator.com", email_status="unknown")
    role = LeadFactory.create(email="info@brightsaas.com", email_status="unknown")
    assert run_agent("email_verification", {"lead_id": throwaway.pk}).output["disqualified"] is True
    result = run_agent("email_verification", {"lead_id": role.pk})
    role.refresh_from_db()
    assert role.email_status == "role" and role.status == "new" and not result.handoffs


def test_verification_is_idempotent_and_pays_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(market.SandboxMxResolver, "mx_hosts", lambda self, d: [f"mx.{d}"])

    def verify(self: Any, email: str) -> Verdict:
        calls.append(email)
        return Verdict(email=email, status="valid", provider="sandbox")

    monkeypatch.setattr(market.SandboxEmailVerifier, "verify", verify)
    lead = LeadFactory.create(email="ada@brightsaas.com", email_status="unknown")
    assert_idempotent("email_verification", {"lead_id": lead.pk})
    assert calls == ["ada@brightsaas.com"]


# --- lead_enrichment ------------------------------------------------------------------------------


def test_enrichment_fills_gaps_with_sources_and_never_overwrites(monkeypatch: pytest.MonkeyPatch) -> None:
    company = CompanyFactory.create(
        domain="brightsaas.com", industry="SaaS", employee_range="", revenue_band="", country="",
        enrichment={"lead_source": {"source": "lead_source:sandbox", "fetched_at": "2025-01-01T00:00:00+00:00",
                                    "data": {"industry": "saas", "employees": 40, "annual_revenue": 3_000_000,
                                             "technologies": ["HubSpot"], "location": "Berlin, Germany",
                                             "seniority": "c_level"}}},
    )  # fmt: skip
    html = (
        "<html><body><article><p>Bright SaaS builds scheduling software for clinics and runs on Stripe "
        "and Slack with about 40 employees.</p></article></body></html>"
    )
    monkeypatch.setattr(market.SandboxWebResearch, "scrape", lambda self, url: ScrapedPage(url=url, markdown=html))
    lead = LeadFactory.create(company=company, seniority="", status="verified")
    result = run_agent("lead_enrichment", {"lead_id": lead.pk})
    assert result.status == "succeeded", result.error
    company.refresh_from_db()
    lead.refresh_from_db()
    assert company.industry == "SaaS"  # kept
    assert (company.employee_range, company.revenue_band, company.country) == ("11-50", "1M-10M", "DE")
    assert company.tech_stack == ["HubSpot"]
    assert "scheduling software" in company.description  # from the page's main text (trafilatura)
    fields = company.enrichment["fields"]
    assert fields["employee_range"]["source"] == "lead_source:sandbox" and fields["employee_range"]["fetched_at"]
    assert fields["description"]["source"].startswith("web_research:")
    assert "industry" not in fields
    assert lead.seniority == "c_level" and lead.status == "enriched"
    assert [r.agent_name for r in result.handoffs] == ["company_research"]


def test_enrichment_is_idempotent() -> None:
    lead = LeadFactory.create(company=CompanyFactory.create(domain="brightsaas.com", employee_range=""))
    assert_idempotent("lead_enrichment", {"lead_id": lead.pk})


# --- the chain ------------------------------------------------------------------------------------


def test_a_search_ends_in_verified_enriched_leads() -> None:
    IdealCustomerProfileFactory.create(industries=["dental clinics"], countries=["US"])
    _search_and_succeed()
    run_agent("lead_list_builder", {"search_id": _search_id(), "status": "succeeded"})
    drain()
    leads = Lead.objects.filter(merged_into__isnull=True)
    assert leads.exclude(email_status="unknown").exists()
    # Verified and enriched, then researched and scored: each lead ends qualified or disqualified.
    assert AgentRun.objects.filter(agent_name="lead_enrichment", status="succeeded").exists()
    assert set(leads.values_list("status", flat=True)) <= {"qualified", "disqualified"}


def test_a_researched_niche_builds_leads_for_its_icp_only() -> None:
    from crm.models import Niche
    from tests.factories.crm import IdealCustomerProfileFactory

    wanted = IdealCustomerProfileFactory.create(industries=["Dental clinics"], countries=["US"])
    IdealCustomerProfileFactory.create(industries=["Law firms"], countries=["GB"])
    niche = Niche.objects.create(name="US dental groups", icp=wanted)
    result = run_agent("lead_list_builder", {"niche_id": niche.pk})
    assert result.status == "succeeded"
    assert result.output["searches_started"] == [wanted.pk]
