"""The sandbox's research reactions: the part of fit only research reveals is on the pages."""

from __future__ import annotations

import pytest

from integrations.models import SandboxRecord
from integrations.sandbox import research
from integrations.sandbox.market import SandboxWebResearch
from integrations.sandbox.world import search_people

pytestmark = pytest.mark.django_db


def _known(count: int = 300) -> list:
    people = search_people(query="dental clinics", location="", start=0, count=count)
    SandboxRecord.objects.bulk_create(
        [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
    )
    return people


def test_signals_are_on_the_company_pages_and_in_the_news_never_in_the_lead_search() -> None:
    people = _known()
    web = SandboxWebResearch()
    person = next(p for p in people if p.company.signals)
    site = person.company.website
    text = " ".join(web.scrape(url=site + path).markdown for path in research.PAGES)
    assert all(signal in text for signal in person.company.signals)
    assert all(signal in web.search(query=f"{person.company.domain} news").answer for signal in person.company.signals)


def test_companies_whose_pages_show_signals_fit_more_often() -> None:
    people = _known()
    web = SandboxWebResearch()
    companies = {p.company.domain: p.company for p in people}.values()
    shown = [
        c
        for c in companies
        if "hiring" in web.scrape(url=c.website + "/careers").markdown.lower()
        or "- " in web.scrape(url=c.website + "/news").markdown
    ]
    quiet = [c for c in companies if c not in shown]
    rate = lambda group: sum(c.fits for c in group) / len(group)  # noqa: E731
    assert rate(shown) > rate(quiet) + 0.1


def test_an_unknown_site_or_page_is_a_404() -> None:
    people = _known(5)
    web = SandboxWebResearch()
    assert web.scrape(url="https://www.never-generated.com").status_code == 404
    assert web.scrape(url=people[0].company.website + "/wp-admin").status_code == 404


def test_a_profile_search_answers_true_facts_about_the_person_seeded_by_their_address() -> None:
    person = _known(5)[0]
    answer = SandboxWebResearch().search(query=f"{person.full_name} {person.linkedin_url}")
    assert person.title in answer.answer and answer.citations[0].url == person.linkedin_url
    assert research.profile(person) == research.profile(person)  # the same market every time


def test_niche_and_competitor_answers_are_seeded_by_the_industry() -> None:
    web = SandboxWebResearch()
    a = web.search(query="dental clinics market size")
    assert a.answer == web.search(query="dental clinics market size").answer and a.citations
    assert a.answer != web.search(query="law firms market size").answer
    rivals = web.search(query="competitors AI automation agencies for law firms pricing")
    assert "$" in rivals.answer and all(c.url.endswith("/pricing") for c in rivals.citations)
    assert web.search(query="nothing anyone knows").citations == ()
