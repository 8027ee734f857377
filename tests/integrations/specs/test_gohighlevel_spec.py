"""GoHighLevel against its published OpenAPI documents (GoHighLevel/highlevel-api-docs, CC0)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.providers.gohighlevel import GoHighLevelClient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import OpenApi

pytestmark = pytest.mark.django_db
GHL = "https://services.leadconnectorhq.com"
SPECS = [OpenApi.load(f"gohighlevel-{name}.json", base_url=GHL) for name in ("contacts", "opportunities", "locations")]
CONTACT, LOCATION = "seD4PfOuKoVMLkEZqohJ", "ve9EPM428h8vShlRW1KT"


def _spec_for(method: str, url: str) -> OpenApi:
    for spec in SPECS:
        try:
            spec.operation(method, url)
        except AssertionError:
            continue
        return spec
    raise AssertionError(f"{method} {url}: no such operation in GoHighLevel's specifications")


def test_every_request_the_client_makes_is_an_operation_of_the_spec(
    keys: Callable[..., None], mock_http: respx.MockRouter
) -> None:
    keys(GOHIGHLEVEL_API_KEY="pit-test-secret-0001", GOHIGHLEVEL_LOCATION_ID=LOCATION)
    client = GoHighLevelClient()
    mock_http.post(f"{GHL}/contacts/").respond(201, json=load_fixture("gohighlevel", "contact"))
    mock_http.post(f"{GHL}/contacts/{CONTACT}/tasks").respond(201, json=load_fixture("gohighlevel", "task"))
    mock_http.get(f"{GHL}/contacts/{CONTACT}/tasks").respond(200, json=load_fixture("gohighlevel", "tasks"))
    mock_http.post(f"{GHL}/opportunities/").respond(201, json={"opportunity": {"id": "opp_9", "name": "Acme"}})
    mock_http.get(f"{GHL}/opportunities/search", params={"startAfterId": "opp_1"}).respond(
        200, json=load_fixture("gohighlevel", "opportunities_page_2")
    )
    mock_http.get(f"{GHL}/opportunities/search").respond(200, json=load_fixture("gohighlevel", "opportunities_page_1"))
    mock_http.get(f"{GHL}/locations/{LOCATION}").respond(200, json=load_fixture("gohighlevel", "location"))

    client.create_project(idempotency_key="p1", name="Acme Dental")
    client.create_task(idempotency_key="t1", project_id=CONTACT, title="Kick-off")
    client.list_tasks(project_id=CONTACT)
    client.create_opportunity(pipeline_id="pipe_1", stage_id="stage_1", contact_id=CONTACT, name="Acme", value=2500)
    client.search_opportunities(limit=1)
    client.health_check()

    requests = [call.request for call in mock_http.calls]
    assert len(requests) == 7
    errors = [
        f"{r.method} {r.url.path}: {e}" for r in requests for e in _spec_for(r.method, str(r.url)).request_errors(r)
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("method", "url", "status", "fixture"),
    [
        ("POST", f"{GHL}/contacts/", 201, "contact"),
        ("POST", f"{GHL}/contacts/{CONTACT}/tasks", 201, "task"),
        ("GET", f"{GHL}/contacts/{CONTACT}/tasks", 200, "tasks"),
        ("GET", f"{GHL}/opportunities/search", 200, "opportunities_page_1"),
        ("GET", f"{GHL}/opportunities/search", 200, "opportunities_page_2"),
        ("GET", f"{GHL}/locations/{LOCATION}", 200, "location"),
    ],
)
def test_fixture_is_an_answer_the_spec_allows(method: str, url: str, status: int, fixture: str) -> None:
    errors = _spec_for(method, url).response_errors(method, url, status, load_fixture("gohighlevel", fixture))
    assert errors == []
