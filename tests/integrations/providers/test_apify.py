from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.http import InvalidResponseError
from integrations.providers.apify import DEFAULT_ACTOR, ApifyClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
BASE = "https://api.apify.com/v2"


@pytest.fixture
def client(keys: Callable[..., None]) -> ApifyClient:
    keys(APIFY_API_TOKEN="apify_api_test_secret_0001")
    chosen = get_role("lead_source")
    assert isinstance(chosen, ApifyClient)
    return chosen


def test_run_search_starts_the_actor(client: ApifyClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/actors/{DEFAULT_ACTOR}/runs").respond(201, json=load_fixture("apify", "run"))
    search = client.run_search(query="dentist", location="Austin, TX", max_items=50)
    assert (search.search_id, search.status, search.dataset_id) == ("HG7ML7M8z78YcAPEB", "running", "wmKPijuyDnPZAPRMk")
    assert body(route)["searchStringsArray"] == ["dentist"]
    assert route.calls.last.request.headers["Authorization"] == "Bearer apify_api_test_secret_0001"


def test_get_search_and_fetch_items(client: ApifyClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/actor-runs/HG7ML7M8z78YcAPEB").respond(200, json=load_fixture("apify", "run_succeeded"))
    items_route = mock_http.get(f"{BASE}/datasets/wmKPijuyDnPZAPRMk/items").respond(
        200, json=load_fixture("apify", "dataset_items")
    )
    search = client.get_search("HG7ML7M8z78YcAPEB")
    assert search.status == "succeeded"
    items = client.fetch_items(search=search, offset=0, limit=2)
    assert [(i.company_name, i.domain) for i in items] == [("Acme Dental", "acmedental.example"), ("Bright Smiles", "")]
    assert items[0].raw["totalScore"] == 4.8
    assert items_route.calls.last.request.url.params["limit"] == "2"


def test_a_malformed_dataset_item_names_its_index_and_field(client: ApifyClient, mock_http: respx.MockRouter) -> None:
    items = load_fixture("apify", "dataset_items")
    items[1]["title"] = {"unexpected": "object"}
    mock_http.get(f"{BASE}/datasets/d1/items").respond(200, json=items)
    from integrations.values import LeadSearch

    with pytest.raises(InvalidResponseError) as caught:
        client.fetch_items(search=LeadSearch(search_id="r", dataset_id="d1"))
    assert (caught.value.operation, caught.value.field) == ("fetch_items", "1.title")


def test_health(client: ApifyClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{BASE}/users/me").respond(200, json=load_fixture("apify", "me"))
    assert client.health_check().detail == "user agency"
