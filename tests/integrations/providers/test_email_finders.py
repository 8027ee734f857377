"""Icypeas (asynchronous search) and Findymail (finder and verifier)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from integrations.http import TransientError
from integrations.providers.findymail import FindymailClient
from integrations.providers.icypeas import POLL_ATTEMPTS, IcypeasClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
ICY = "https://app.icypeas.com/api"
FINDY = "https://app.findymail.com/api"


@pytest.fixture
def icypeas(keys: Callable[..., None]) -> IcypeasClient:
    keys(ICYPEAS_API_KEY="icy-test-secret-0001")
    chosen = get_role("email_finder")
    assert isinstance(chosen, IcypeasClient)
    return chosen


@pytest.fixture
def findymail(keys: Callable[..., None]) -> FindymailClient:
    keys(FINDYMAIL_API_KEY="fm-test-secret-0001")
    chosen = get_role("email_verifier")
    assert isinstance(chosen, FindymailClient)
    return chosen


def test_icypeas_polls_until_the_email_is_found(
    icypeas: IcypeasClient, mock_http: respx.MockRouter, sleeps: list[float]
) -> None:
    start = mock_http.post(f"{ICY}/email-search").respond(200, json=load_fixture("icypeas", "search_started"))
    mock_http.post(f"{ICY}/bulk-single-searchs/read").mock(
        side_effect=[
            respx.MockResponse(200, json=load_fixture("icypeas", "read_pending")),
            respx.MockResponse(200, json=load_fixture("icypeas", "read_found")),
        ]
    )
    found = icypeas.find_email(first_name="Dana", last_name="Lee", domain="acmedental.example")
    assert found is not None and found.email == "dana.lee@acmedental.example" and found.confidence == 0.95
    assert body(start) == {"firstname": "Dana", "lastname": "Lee", "domainOrCompany": "acmedental.example"}
    assert start.calls.last.request.headers["Authorization"] == "icy-test-secret-0001"  # raw key, no scheme
    assert sleeps.count(2.0) == 2


def test_icypeas_not_found_is_none(icypeas: IcypeasClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{ICY}/email-search").respond(200, json=load_fixture("icypeas", "search_started"))
    mock_http.post(f"{ICY}/bulk-single-searchs/read").respond(200, json=load_fixture("icypeas", "read_not_found"))
    assert icypeas.find_email(first_name="No", last_name="Body", domain="acmedental.example") is None


def test_icypeas_still_running_after_polling_is_transient(icypeas: IcypeasClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{ICY}/email-search").respond(200, json=load_fixture("icypeas", "search_started"))
    reads = mock_http.post(f"{ICY}/bulk-single-searchs/read").respond(200, json=load_fixture("icypeas", "read_pending"))
    with pytest.raises(TransientError):
        icypeas.find_email(first_name="Dana", last_name="Lee", domain="acmedental.example")
    assert reads.call_count == POLL_ATTEMPTS


def test_findymail_finds_and_a_404_means_nobody(findymail: FindymailClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{FINDY}/search/name").mock(
        side_effect=[
            respx.MockResponse(200, json=load_fixture("findymail", "search_found")),
            respx.MockResponse(404, json={"error": "Not found"}),
        ]
    )
    found = findymail.find_email(first_name="Dana", last_name="Lee", domain="acmedental.example")
    assert found is not None and found.email == "dana.lee@acmedental.example"
    assert body(route, 0) == {"name": "Dana Lee", "domain": "acmedental.example"}
    assert findymail.find_email(first_name="No", last_name="Body", domain="acmedental.example") is None


@pytest.mark.parametrize(("fixture", "status"), [("verify_valid", "valid"), ("verify_invalid", "invalid")])
def test_findymail_verdicts(findymail: FindymailClient, mock_http: respx.MockRouter, fixture: str, status: str) -> None:
    mock_http.post(f"{FINDY}/verify").respond(200, json=load_fixture("findymail", fixture))
    assert findymail.verify("dana.lee@acmedental.example").status == status


def test_findymail_health(findymail: FindymailClient, mock_http: respx.MockRouter) -> None:
    mock_http.get(f"{FINDY}/credits").respond(200, json=load_fixture("findymail", "credits"))
    assert findymail.health_check().detail == "950 finder / 4000 verifier credits"
