"""Apify against its published OpenAPI document (apify/apify-docs, Apache-2.0; see README.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.providers.apify import DEFAULT_ACTOR, ApifyClient
from integrations.values import LeadSearch
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import OpenApi, recorded_requests

pytestmark = pytest.mark.django_db
SPEC = OpenApi.load("apify.json", base_url="https://api.apify.com")
BASE = "https://api.apify.com/v2"
RUN, DATASET = "HG7ML7M8z78YcAPEB", "wmKPijuyDnPZAPRMk"


def test_every_request_the_client_makes_is_an_operation_of_the_spec(
    keys: Callable[..., None], mock_http: respx.MockRouter
) -> None:
    keys(APIFY_API_TOKEN="apify_api_test_secret_0001")
    client = ApifyClient()
    mock_http.post(f"{BASE}/actors/{DEFAULT_ACTOR}/runs").respond(201, json=load_fixture("apify", "run"))
    mock_http.get(f"{BASE}/actor-runs/{RUN}").respond(200, json=load_fixture("apify", "run_succeeded"))
    mock_http.get(f"{BASE}/datasets/{DATASET}/items").respond(200, json=load_fixture("apify", "dataset_items"))
    mock_http.get(f"{BASE}/users/me").respond(200, json=load_fixture("apify", "me"))

    client.run_search(query="dentist", location="Austin, TX")
    client.get_search(RUN)
    client.fetch_items(search=LeadSearch(search_id=RUN, status="succeeded", dataset_id=DATASET))
    client.health_check()

    requests = recorded_requests(mock_http)
    assert len(requests) == 4
    assert [f"{r.method} {r.url.path}: {e}" for r in requests for e in SPEC.request_errors(r)] == []


@pytest.mark.parametrize(
    ("method", "url", "status", "fixture"),
    [
        ("POST", f"{BASE}/actors/{DEFAULT_ACTOR}/runs", 201, "run"),
        ("GET", f"{BASE}/actor-runs/{RUN}", 200, "run"),
        ("GET", f"{BASE}/actor-runs/{RUN}", 200, "run_succeeded"),
        ("GET", f"{BASE}/datasets/{DATASET}/items", 200, "dataset_items"),
        ("GET", f"{BASE}/users/me", 200, "me"),
    ],
)
def test_fixture_is_an_answer_the_spec_allows(method: str, url: str, status: int, fixture: str) -> None:
    assert SPEC.response_errors(method, url, status, load_fixture("apify", fixture)) == []


def test_the_legacy_acts_prefix_is_not_in_the_spec() -> None:
    with pytest.raises(AssertionError, match="no such operation"):
        SPEC.operation("POST", f"{BASE}/acts/{DEFAULT_ACTOR}/runs")
