from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.http import TransientError
from integrations.providers.firecrawl import FirecrawlClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
BASE = "https://api.firecrawl.dev/v1"


@pytest.fixture
def client(keys: Callable[..., None], settings: object) -> FirecrawlClient:
    keys(FIRECRAWL_API_KEY="fc-test-secret-0001")
    chosen = get_role("web_research")  # Perplexity is not configured, so Firecrawl serves the role
    assert isinstance(chosen, FirecrawlClient)
    return chosen


def test_scrape_returns_markdown(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/scrape").respond(200, json=load_fixture("firecrawl", "scrape"))
    page = client.scrape(url="https://acmedental.example/")
    assert page.title == "Acme Dental" and page.markdown.startswith("# Acme Dental")
    assert body(route)["formats"] == ["markdown"]


def test_search_maps_hits_to_citations(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{BASE}/search").respond(200, json=load_fixture("firecrawl", "search"))
    answer = client.search(query="dentists austin", max_results=3)
    assert answer.citations[0].url == "https://acmedental.example/"


def test_crawl_pages_follow_the_next_url(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/crawl/crawl-123", params={"skip": "1"}).respond(
        200, json=load_fixture("firecrawl", "crawl_page_2")
    )
    mock_http.get(f"{BASE}/crawl/crawl-123").respond(200, json=load_fixture("firecrawl", "crawl_page_1"))
    assert [p.markdown for p in client.crawl_pages("crawl-123")] == ["page one", "page two"]


def test_scrape_5xx_then_success(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    import httpx

    mock_http.post(f"{BASE}/scrape").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json=load_fixture("firecrawl", "scrape"))]
    )
    assert client.scrape(url="https://acmedental.example/").title == "Acme Dental"


def test_scrape_timeouts_become_transient(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    import httpx

    mock_http.post(f"{BASE}/scrape").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        client.scrape(url="https://acmedental.example/")


def test_health_check_reads_credits(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/team/credit-usage").respond(200, json=load_fixture("firecrawl", "credit_usage"))
    result = client.health_check()
    assert result.ok and result.detail == "4821 credits left"
