"""The sandbox's reactions for lead search and email find/verify, each with its direction."""

from __future__ import annotations

import pytest

from integrations.http.errors import PermanentError
from integrations.sandbox import market
from integrations.sandbox.world import MICRO_EMPLOYEES, WEBMAIL_DOMAINS, company_at, search_people

pytestmark = pytest.mark.django_db


def test_a_search_for_the_icp_industry_finds_mostly_that_industry_with_some_noise() -> None:
    companies = [company_at(query="dental clinics", location="United States", index=i) for i in range(200)]
    on_target = sum(c.industry == "dental clinics" for c in companies) / len(companies)
    assert 0.65 < on_target < 0.85  # about 3 in 4 fit the query; the rest is noise from other industries
    fits = [c.fit for c in companies if c.industry == "dental clinics"]
    misses = [c.fit for c in companies if c.industry != "dental clinics"]
    assert sum(fits) / len(fits) > sum(misses) / len(misses) + 0.3


def test_the_location_decides_where_the_companies_are() -> None:
    companies = [company_at(query="law firms", location="United Kingdom", index=i) for i in range(30)]
    assert {c.country for c in companies} == {"United Kingdom"}


def test_the_quota_caps_what_a_search_returns_and_the_next_search_goes_on() -> None:
    source = market.SandboxLeadSource()
    first = source.run_search(query="saas", location="Germany", max_items=7)
    items = source.fetch_items(search=first, limit=100)
    assert len(items) == 7
    second = source.fetch_items(search=source.run_search(query="saas", location="Germany", max_items=7), limit=100)
    assert not {i.linkedin_url for i in items} & {i.linkedin_url for i in second}


def test_the_finder_finds_people_of_the_market_and_misses_some_strangers() -> None:
    person = search_people(query="saas", location="", start=0, count=1)[0]
    source = market.SandboxLeadSource()
    source.fetch_items(search=source.run_search(query="saas", location="", max_items=1))
    finder = market.SandboxEmailFinder()
    hit = finder.find_email(first_name=person.first_name, last_name=person.last_name, domain=person.company.domain)
    assert hit is not None and hit.email == person.email and hit.confidence > 0.9
    results = [finder.find_email(first_name="Ann", last_name=f"Doe{i}", domain=f"x{i}.com") for i in range(200)]
    misses = sum(r is None for r in results) / len(results)
    assert 0.15 < misses < 0.35  # about 1 in 4 strangers cannot be found


@pytest.mark.parametrize(
    ("email", "status"),
    [("info@brightsaas.com", "role"), ("ada@mailinator.com", "disposable"), ("nobody", "invalid")],
)
def test_the_verifier_names_role_disposable_and_invalid(email: str, status: str) -> None:
    assert market.SandboxEmailVerifier().verify(email).status == status


def test_the_verifier_reports_the_market_truth_including_catch_all() -> None:
    source = market.SandboxLeadSource()
    people = search_people(query="saas", location="", start=0, count=60)
    source.fetch_items(search=source.run_search(query="saas", location="", max_items=60))
    verdicts = {market.SandboxEmailVerifier().verify(p.email).status for p in people}
    expected = {"deliverable": "valid", "catch_all": "catch_all", "invalid": "invalid", "risky": "risky"}
    assert verdicts == {expected[p.email_status] for p in people}
    assert "valid" in verdicts


def test_mx_answers_for_its_own_domains_never_for_reserved_ones_and_asks_no_dns(monkeypatch) -> None:
    import dns.resolver

    monkeypatch.setattr(dns.resolver, "resolve", lambda *a, **k: pytest.fail("real DNS asked"))
    source = market.SandboxLeadSource()
    person = source.fetch_items(search=source.run_search(query="saas", location="", max_items=1))[0]
    resolver = market.SandboxMxResolver()
    assert resolver.mx_hosts(person.domain)
    assert resolver.mx_hosts("example.com") == [] and resolver.mx_hosts("shop.example.org") == []
    strangers = [bool(resolver.mx_hosts(f"stranger{i}.com")) for i in range(300)]
    assert 0.8 < sum(strangers) / len(strangers) < 0.97  # about 1 in 10 unknown domains takes no mail


def test_some_of_the_smallest_businesses_are_listed_with_a_webmail_domain_and_no_address() -> None:
    source = market.SandboxLeadSource()
    search = source.run_search(query="dental clinics", location="United States", max_items=600)
    items = source.fetch_items(search=search, limit=600)
    people = search_people(query="dental clinics", location="United States", start=0, count=600)
    webmail = [(i, p) for i, p in zip(items, people, strict=True) if i.domain in WEBMAIL_DOMAINS]
    # Only businesses of a few people, about half of them; the others are listed as they are.
    assert all(p.company.employees < MICRO_EMPLOYEES for _, p in webmail)
    micro = {p.company.domain for p in people if p.company.employees < MICRO_EMPLOYEES}
    assert 0.35 < len({p.company.domain for _, p in webmail}) / len(micro) < 0.65
    assert all(i.domain == p.company.domain for i, p in zip(items, people, strict=True) if (i, p) not in webmail)
    # A small share of a search, so the market stays mostly workable.
    assert 0.02 < len(webmail) / len(items) < 0.08
    # Such a listing has no work address either (the finder must search), and the world keeps the
    # company's own domain: its people's addresses are still at it.
    assert all(not i.email and i.website == f"https://www.{i.domain}" for i, _ in webmail)
    assert all(p.email.endswith(f"@{p.company.domain}") for _, p in webmail)


def test_the_finder_refuses_a_webmail_domain_as_findymail_does() -> None:
    finder = market.SandboxEmailFinder()
    for domain in WEBMAIL_DOMAINS:
        with pytest.raises(PermanentError) as refused:
            finder.find_email(first_name="Ann", last_name="Doe", domain=domain)
        assert refused.value.status_code == 422 and not refused.value.transient


def test_the_cold_mail_gate_looks_up_every_kind_the_other_readers_use():
    # offboarding imports the market, so the market names the former-client kind itself: kept equal here.
    from integrations.sandbox import offboarding
    from integrations.sandbox.market import NOT_COLD_KINDS

    assert offboarding.EXIT_KIND in NOT_COLD_KINDS
