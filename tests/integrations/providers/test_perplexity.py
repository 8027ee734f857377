from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from integrations.http import InvalidResponseError, RateLimitedError
from integrations.models import ApiUsage
from integrations.providers.perplexity import PerplexityClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
KEY = "pplx-test-secret-0001"
URL = "https://api.perplexity.ai/chat/completions"


@pytest.fixture
def client(keys: Callable[..., None]) -> PerplexityClient:
    keys(PERPLEXITY_API_KEY=KEY)
    chosen = get_role("web_research")
    assert isinstance(chosen, PerplexityClient)
    return chosen


def test_search_returns_the_answer_with_citations_and_records_tokens(
    client: PerplexityClient, mock_http: respx.MockRouter
) -> None:
    route = mock_http.post(URL).respond(200, json=load_fixture("perplexity", "chat_completion"))
    answer = client.search(query="Who runs Acme Dental?")
    assert answer.answer.startswith("Acme Dental runs 4 clinics")
    assert [c.url for c in answer.citations] == ["https://acmedental.example/about"]
    assert body(route)["model"] == "sonar"
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {KEY}"
    row = ApiUsage.objects.get()
    assert (row.provider, row.operation, row.tokens_in, row.tokens_out) == ("perplexity", "search", 21, 12)


def test_rate_limited_twice_then_answers(
    client: PerplexityClient, mock_http: respx.MockRouter, sleeps: list[float]
) -> None:
    mock_http.post(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=load_fixture("perplexity", "chat_completion")),
        ]
    )
    client.search(query="q")
    assert sleeps[-2:] == [2.0, 3.0]


def test_429_until_attempts_run_out_raises_rate_limited(client: PerplexityClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(URL).respond(429, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitedError):
        client.search(query="q")


def test_a_completion_without_choices_is_invalid(client: PerplexityClient, mock_http: respx.MockRouter) -> None:
    fixture = load_fixture("perplexity", "chat_completion")
    fixture["choices"] = []
    mock_http.post(URL).respond(200, json=fixture)
    with pytest.raises(InvalidResponseError) as caught:
        client.search(query="q")
    assert (caught.value.provider, caught.value.operation, caught.value.field) == ("perplexity", "search", "choices")


def test_scrape_fetches_the_page_without_sending_the_key(client: PerplexityClient, mock_http: respx.MockRouter) -> None:
    page = (
        "<html><head><title>Acme &amp; Co</title><script>x()</script></head>"
        "<body><h1>Hello</h1><p>We fix teeth.</p></body></html>"
    )
    route = mock_http.get("https://acmedental.example/").respond(200, text=page)
    scraped = client.scrape(url="https://acmedental.example/")
    assert scraped.title == "Acme & Co"
    assert "We fix teeth." in scraped.markdown and "x()" not in scraped.markdown
    assert "Authorization" not in route.calls.last.request.headers


def test_health_check_reports_auth_failure_without_raising(
    client: PerplexityClient, mock_http: respx.MockRouter
) -> None:
    mock_http.post(URL).respond(401, json={"error": {"message": "Invalid API key", "type": "invalid_api_key"}})
    result = client.health_check()
    assert not result.ok
    assert "401" in result.detail
    assert KEY not in result.detail


def test_explicit_nulls_the_vendor_allows_are_an_empty_answer_not_an_error(
    client: PerplexityClient, mock_http: respx.MockRouter
) -> None:
    fixture = load_fixture("perplexity", "chat_completion")
    fixture.update(citations=None, search_results=None, usage=None)
    fixture["choices"][0]["message"]["content"] = None
    mock_http.post(URL).respond(200, json=fixture)
    answer = client.search(query="q")
    assert (answer.answer, answer.citations) == ("", ())
    assert ApiUsage.objects.get().tokens_in == 0


def test_structured_content_chunks_are_joined_into_the_answer(
    client: PerplexityClient, mock_http: respx.MockRouter
) -> None:
    fixture = load_fixture("perplexity", "chat_completion")
    fixture["choices"][0]["message"]["content"] = [
        {"type": "text", "text": "Four "},
        {"type": "text", "text": "clinics."},
    ]
    mock_http.post(URL).respond(200, json=fixture)
    assert client.search(query="q").answer == "Four clinics."
