"""Firecrawl v1 against the operations pinned from its OpenAPI document (AGPL: facts only; see firecrawl_v1.py)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from integrations.providers.firecrawl import FirecrawlClient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import OpenApi, recorded_requests
from tests.integrations.specs.firecrawl_v1 import DOCUMENT

pytestmark = pytest.mark.django_db
SPEC = OpenApi(DOCUMENT, base_url="https://api.firecrawl.dev")
BASE = "https://api.firecrawl.dev/v1"


@pytest.fixture
def client(keys: Callable[..., None]) -> FirecrawlClient:
    keys(FIRECRAWL_API_KEY="fc-test-secret-0001")
    return FirecrawlClient()


def test_every_request_the_client_makes_is_an_operation_of_the_spec(
    client: FirecrawlClient, mock_http: respx.MockRouter
) -> None:
    mock_http.post(f"{BASE}/scrape").respond(200, json=load_fixture("firecrawl", "scrape"))
    mock_http.post(f"{BASE}/search").respond(200, json=load_fixture("firecrawl", "search"))
    mock_http.post(f"{BASE}/crawl").respond(200, json={"success": True, "id": "crawl-123"})
    mock_http.get(f"{BASE}/crawl/crawl-123").respond(200, json=load_fixture("firecrawl", "crawl_page_2"))
    mock_http.get(f"{BASE}/team/credit-usage").respond(200, json=load_fixture("firecrawl", "credit_usage"))

    client.scrape(url="https://acmedental.example/")
    client.search(query="dentists austin", max_results=3)
    client.start_crawl(url="https://acmedental.example/", limit=5)
    client.crawl_status("crawl-123")
    client.health_check()

    requests = recorded_requests(mock_http)
    assert len(requests) == 5
    assert [f"{r.method} {r.url.path}: {e}" for r in requests for e in SPEC.request_errors(r)] == []
    assert {r.headers["Authorization"] for r in requests} == {"Bearer fc-test-secret-0001"}  # bearerAuth


def test_crawl_pages_follow_the_next_url_firecrawl_gave(client: FirecrawlClient, mock_http: respx.MockRouter) -> None:
    # ``skip`` is not a declared parameter of getCrawlStatus: it only ever arrives inside Firecrawl's own ``next``.
    first = load_fixture("firecrawl", "crawl_page_1")
    mock_http.get(f"{BASE}/crawl/crawl-123", params={"skip": "1"}).respond(
        200, json=load_fixture("firecrawl", "crawl_page_2")
    )
    mock_http.get(f"{BASE}/crawl/crawl-123").respond(200, json=first)
    list(client.crawl_pages("crawl-123"))
    assert [str(r.url) for r in recorded_requests(mock_http)] == [f"{BASE}/crawl/crawl-123", first["next"]]


@pytest.mark.parametrize(
    ("method", "path", "fixture"),
    [
        ("POST", "/v1/scrape", "scrape"),
        ("POST", "/v1/search", "search"),
        ("GET", "/v1/crawl/crawl-123", "crawl_page_1"),
        ("GET", "/v1/crawl/crawl-123", "crawl_page_2"),
        ("GET", "/v1/team/credit-usage", "credit_usage"),
    ],
)
def test_fixture_is_an_answer_the_spec_allows(method: str, path: str, fixture: str) -> None:
    assert (
        SPEC.response_errors(method, f"https://api.firecrawl.dev{path}", 200, load_fixture("firecrawl", fixture)) == []
    )


def test_the_checker_rejects_a_format_firecrawl_does_not_know() -> None:
    request = httpx.Request("POST", f"{BASE}/scrape", json={"url": "https://a.example/", "formats": ["text"]})
    assert SPEC.request_errors(request) == [
        "body formats/0: 'text' is not one of "
        "['markdown', 'html', 'rawHtml', 'links', 'screenshot', 'screenshot@fullPage', 'json', 'changeTracking']"
    ]
