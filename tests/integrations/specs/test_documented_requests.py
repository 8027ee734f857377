"""Vendors with no machine-readable specification: each request pinned to the vendor's documentation.

Instantly, Icypeas, Findymail, Airtable, QuickBooks Online and ClickUp publish no OpenAPI file,
discovery document or typed SDK (see README.md). Each case names the doc page that states the
endpoint, and asserts what that page states: HTTP method, URL, the auth header and its shape,
and the body fields the page marks required (or that the operation needs to mean what we want).
The vendor is faked at the transport; only the first request to the vendor's API is inspected.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import respx

from integrations.http import BaseClient
from integrations.providers.airtable import AirtableClient
from integrations.providers.clickup import ClickUpClient
from integrations.providers.findymail import FindymailClient
from integrations.providers.icypeas import IcypeasClient
from integrations.providers.instantly import InstantlyClient
from integrations.providers.quickbooks import QuickBooksClient

pytestmark = pytest.mark.django_db
KEYS = {
    "INSTANTLY_API_KEY": "inst_test_secret_0001",
    "ICYPEAS_API_KEY": "icy_test_secret_0001",
    "FINDYMAIL_API_KEY": "fm_test_secret_0001",
    "AIRTABLE_API_KEY": "pat_test_secret_0001",
    "AIRTABLE_BASE_ID": "appBase0001",
    "CLICKUP_API_KEY": "pk_test_secret_0001",
    "CLICKUP_LIST_ID": "901",
    "QUICKBOOKS_CLIENT_ID": "qb-client",
    "QUICKBOOKS_CLIENT_SECRET": "qb-secret",
    "QUICKBOOKS_REFRESH_TOKEN": "qb-refresh-secret",
    "QUICKBOOKS_REALM_ID": "9130",
}
TOKEN_HOSTS = {"oauth.platform.intuit.com"}


@dataclass(frozen=True)
class Documented:
    doc: str
    client: type[BaseClient]
    call: Callable[[Any], Any]
    method: str
    url: str  # a regular expression for the whole URL without its query
    auth: tuple[str, str]  # header name, a regular expression for its value
    body: frozenset[str] = field(default_factory=frozenset)  # fields the doc requires
    query: frozenset[str] = field(default_factory=frozenset)  # query parameters the doc requires


def _fields(*names: str) -> frozenset[str]:
    return frozenset(names)


CASES = {
    "instantly add lead": Documented(
        "https://developer.instantly.ai/api/v2/lead/createlead",
        InstantlyClient,
        lambda c: c.add_lead(campaign_id="c-1", email="dana@acmedental.example", first_name="Dana"),
        "POST",
        r"https://api\.instantly\.ai/api/v2/leads",
        ("Authorization", r"Bearer inst_test_secret_0001"),
        _fields("email", "campaign"),
    ),
    "instantly list campaigns": Documented(
        "https://developer.instantly.ai/api/v2/campaign/listcampaign",
        InstantlyClient,
        lambda c: next(iter(c.list_campaigns(search="Smarter")), None),
        "GET",
        r"https://api\.instantly\.ai/api/v2/campaigns",
        ("Authorization", r"Bearer inst_test_secret_0001"),
        query=_fields("limit", "search"),
    ),
    "instantly activate campaign": Documented(
        "https://developer.instantly.ai/api/v2/campaign/activatecampaign",
        InstantlyClient,
        lambda c: c.activate_campaign("c-1"),
        "POST",
        r"https://api\.instantly\.ai/api/v2/campaigns/c-1/activate",
        ("Authorization", r"Bearer inst_test_secret_0001"),
    ),
    "icypeas email search": Documented(
        "https://api-doc.icypeas.com/find-emails/email-discovery/",
        IcypeasClient,
        lambda c: c.find_email(first_name="Dana", last_name="Lee", domain="acmedental.example"),
        "POST",
        r"https://app\.icypeas\.com/api/email-search",
        ("Authorization", r"icy_test_secret_0001"),  # the raw key, no scheme
        _fields("firstname", "lastname", "domainOrCompany"),
    ),
    "icypeas read results": Documented(
        "https://api-doc.icypeas.com/fetch-results/search-item",  # v1.7.0: one result by its _id, no mode
        IcypeasClient,
        lambda c: c.read_search("search-1"),
        "POST",
        r"https://app\.icypeas\.com/api/bulk-single-searchs/read",
        ("Authorization", r"icy_test_secret_0001"),
        _fields("id"),
    ),
    "findymail find from name": Documented(
        "https://app.findymail.com/docs/#find-email-from-name",
        FindymailClient,
        lambda c: c.find_email(first_name="Dana", last_name="Lee", domain="acmedental.example"),
        "POST",
        r"https://app\.findymail\.com/api/search/name",
        ("Authorization", r"Bearer fm_test_secret_0001"),
        _fields("name", "domain"),
    ),
    "findymail verify": Documented(
        "https://app.findymail.com/docs/#verify-an-email",
        FindymailClient,
        lambda c: c.verify("dana@acmedental.example"),
        "POST",
        r"https://app\.findymail\.com/api/verify",
        ("Authorization", r"Bearer fm_test_secret_0001"),
        _fields("email"),
    ),
    "findymail credits": Documented(
        "https://app.findymail.com/docs/#get-remaining-credits",
        FindymailClient,
        lambda c: c.health_check(),
        "GET",
        r"https://app\.findymail\.com/api/credits",
        ("Authorization", r"Bearer fm_test_secret_0001"),
    ),
    "airtable upsert": Documented(
        "https://airtable.com/developers/web/api/update-multiple-records",
        AirtableClient,
        lambda c: c.create_project(idempotency_key="p1", name="Acme Dental"),
        "PATCH",
        r"https://api\.airtable\.com/v0/appBase0001/Projects",
        ("Authorization", r"Bearer pat_test_secret_0001"),
        _fields("records", "performUpsert"),
    ),
    "airtable whoami": Documented(
        "https://airtable.com/developers/web/api/get-user-id-scopes",
        AirtableClient,
        lambda c: c.health_check(),
        "GET",
        r"https://api\.airtable\.com/v0/meta/whoami",
        ("Authorization", r"Bearer pat_test_secret_0001"),
    ),
    "quickbooks query": Documented(
        "https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries",
        QuickBooksClient,
        lambda c: c.customer_id(idempotency_key="k1", name="Acme Dental", email="dana@acmedental.example"),
        "GET",
        r"https://quickbooks\.api\.intuit\.com/v3/company/9130/query",
        ("Authorization", r"Bearer \S+"),
        query=_fields("query", "minorversion"),
    ),
    "quickbooks company info": Documented(
        "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo",
        QuickBooksClient,
        lambda c: c.health_check(),
        "GET",
        r"https://quickbooks\.api\.intuit\.com/v3/company/9130/companyinfo/9130",
        ("Authorization", r"Bearer \S+"),
        query=_fields("minorversion"),
    ),
    "clickup create task": Documented(
        "https://developer.clickup.com/reference/createtask",
        ClickUpClient,
        lambda c: c.create_task(idempotency_key="t1", project_id="901", title="Kick-off"),
        "POST",
        r"https://api\.clickup\.com/api/v2/list/901/task",
        ("Authorization", r"pk_test_secret_0001"),  # a personal token goes raw, no scheme
        _fields("name"),
    ),
    "clickup get tasks": Documented(
        "https://developer.clickup.com/reference/gettasks",
        ClickUpClient,
        lambda c: c.list_tasks(project_id="901"),
        "GET",
        r"https://api\.clickup\.com/api/v2/list/901/task",
        ("Authorization", r"pk_test_secret_0001"),
        query=_fields("page"),
    ),
    "clickup authorized user": Documented(
        "https://developer.clickup.com/reference/getauthorizeduser",
        ClickUpClient,
        lambda c: c.health_check(),
        "GET",
        r"https://api\.clickup\.com/api/v2/user",
        ("Authorization", r"pk_test_secret_0001"),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_request_is_the_one_the_vendor_documents(
    case: Documented, keys: Callable[..., None], mock_http: respx.MockRouter
) -> None:
    keys(**KEYS)
    mock_http.post("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer").respond(
        200, json={"access_token": "qb-access-token", "token_type": "bearer", "expires_in": 3600}
    )
    mock_http.route().respond(200, json={})
    client = case.client()
    client._sleep = lambda seconds: None
    with contextlib.suppress(Exception):  # our empty answer may not satisfy the client; the request is what counts
        case.call(client)

    request = next(call.request for call in mock_http.calls if call.request.url.host not in TOKEN_HOSTS)
    assert request.method == case.method, case.doc
    assert re.fullmatch(case.url, str(request.url.copy_with(query=None))), f"{request.url} ({case.doc})"
    name, shape = case.auth
    assert re.fullmatch(shape, request.headers.get(name, "")), f"{name}: {request.headers.get(name)} ({case.doc})"
    assert case.query <= set(request.url.params), case.doc
    sent = json.loads(request.content) if request.content else {}
    assert case.body <= set(sent), f"missing {case.body - set(sent)} ({case.doc})"
