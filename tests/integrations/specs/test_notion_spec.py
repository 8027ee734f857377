"""Notion against its official SDK, notion-client 2.4.0 (MIT), the release that speaks our API version 2022-06-28.

Each SDK endpoint names the body and query fields it passes on (``pick``) and sends through httpx,
so respx catches the call it builds: ours must be that call (method, path, query, body, bearer
token, Notion-Version). A field the SDK would drop is a field Notion does not take. The SDK has no
response models, so the fixtures are checked against the shapes pinned from Notion's API reference
in notion_2022_06_28.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from notion_client import Client

from integrations.providers.notion import NOTION_VERSION, NotionClient
from tests.integrations.conftest import load_fixture
from tests.integrations.specs import notion_2022_06_28 as notion
from tests.integrations.specs.contract import schema_errors, sdk_request

pytestmark = pytest.mark.django_db
BASE = "https://api.notion.com/v1"
TOKEN = "secret_notion_0001"
SDK = Client(auth=TOKEN)
PAGE = "59833787-2cf9-4fdf-8782-e53db20768a5"


@pytest.fixture
def client(keys: Callable[..., None]) -> NotionClient:
    keys(NOTION_API_KEY=TOKEN, NOTION_PARENT_PAGE_ID="parent-page")
    return NotionClient()


def _same_call(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert (ours.method, ours.url.path, dict(ours.url.params)) == (
        theirs.method,
        theirs.url.path,
        dict(theirs.url.params),
    )
    assert ours.headers["Authorization"] == theirs.headers["Authorization"] == f"Bearer {TOKEN}"
    assert ours.headers["Notion-Version"] == theirs.headers["Notion-Version"] == NOTION_VERSION
    if ours.content or theirs.content:
        assert json.loads(ours.content) == json.loads(theirs.content)


def _theirs(call: Callable[[], Any], router: respx.MockRouter) -> httpx.Request:
    return sdk_request(call, router=router, base_url=BASE)


def test_create_project_is_the_sdks_pages_create(client: NotionClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/pages").respond(200, json=load_fixture("notion", "page"))
    client.create_project(idempotency_key="p1", name="Acme Dental", description="Onboarding")
    sent = json.loads(route.calls.last.request.content)
    _same_call(route.calls.last.request, _theirs(lambda: SDK.pages.create(**sent), mock_http))


def test_create_task_is_the_sdks_blocks_children_append(client: NotionClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.patch(f"{BASE}/blocks/{PAGE}/children").respond(200, json=load_fixture("notion", "appended"))
    client.create_task(idempotency_key="t1", project_id=PAGE, title="Kick-off", due=dt.date(2026, 3, 10))
    sent = json.loads(route.calls.last.request.content)
    _same_call(route.calls.last.request, _theirs(lambda: SDK.blocks.children.append(PAGE, **sent), mock_http))


def test_list_tasks_is_the_sdks_blocks_children_list(client: NotionClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{BASE}/blocks/{PAGE}/children").respond(200, json=load_fixture("notion", "children_page_2"))
    client.list_tasks(project_id=PAGE)
    theirs = _theirs(lambda: SDK.blocks.children.list(PAGE, page_size=100), mock_http)
    _same_call(route.calls.last.request, theirs)


def test_query_database_is_the_sdks_databases_query(client: NotionClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/databases/db1/query").respond(200, json=load_fixture("notion", "database_query"))
    status = {"property": "Status", "status": {"equals": "Open"}}
    client.query_database("db1", filter=status)
    theirs = _theirs(lambda: SDK.databases.query("db1", filter=status, page_size=100), mock_http)
    _same_call(route.calls.last.request, theirs)


def test_health_check_is_the_sdks_users_me(client: NotionClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{BASE}/users/me").respond(200, json=load_fixture("notion", "me"))
    client.health_check()
    _same_call(route.calls.last.request, _theirs(lambda: SDK.users.me(), mock_http))


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("page", notion.PAGE),
        ("appended", notion.BLOCK_LIST),
        ("children_page_1", notion.BLOCK_LIST),
        ("children_page_2", notion.BLOCK_LIST),
        ("database_query", notion.PAGE_LIST),
        ("me", notion.USER),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_fixture_has_the_shape_notions_reference_documents(fixture: str, schema: dict[str, Any]) -> None:
    assert schema_errors(load_fixture("notion", fixture), schema) == []


def test_a_block_without_its_type_member_is_not_notions() -> None:
    block = load_fixture("notion", "children_page_2")["results"][0]
    del block["to_do"]
    assert schema_errors(block, notion.BLOCK) == ["<root>: 'to_do' is a required property"]
