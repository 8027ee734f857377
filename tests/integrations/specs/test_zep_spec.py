"""Zep against its official SDK, zep-cloud 2.22.1 (Apache-2.0), the last release for API v2 (our version).

The SDK sends through httpx, so respx catches the call it builds for the same operation; our
request must be that call (method, path, query, JSON body, ``Api-Key`` authorization), and our
fixtures must parse as the SDK's response models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from zep_cloud.client import Zep
from zep_cloud.types import Message

from integrations.providers import zep
from integrations.providers.zep import AGENCY_USER, ZepClient
from integrations.values import MemoryMessage
from tests.integrations.conftest import load_fixture
from tests.integrations.specs.contract import recorded_requests, sdk_request

pytestmark = pytest.mark.django_db
BASE = "https://api.getzep.com/api/v2"
KEY = "z_test_secret_0001"
SDK = Zep(api_key=KEY)


@pytest.fixture
def client(keys: Callable[..., None]) -> Iterator[ZepClient]:
    keys(ZEP_API_KEY=KEY)
    zep._ready_sessions.clear()
    yield ZepClient()
    zep._ready_sessions.clear()


def _same_call(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert (ours.method, ours.url.path, dict(ours.url.params)) == (
        theirs.method,
        theirs.url.path,
        dict(theirs.url.params),
    )
    assert ours.headers["Authorization"] == theirs.headers["Authorization"] == f"Api-Key {KEY}"
    if ours.content:
        assert json.loads(ours.content) == json.loads(theirs.content)


def test_add_is_the_sdks_add_user_add_session_and_add_memory(client: ZepClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{BASE}/users").respond(201, json={"user_id": AGENCY_USER})
    mock_http.post(f"{BASE}/sessions").respond(201, json={"session_id": "lead-42"})
    mock_http.post(f"{BASE}/sessions/lead-42/memory").respond(200, json=load_fixture("zep", "add_memory"))
    client.add(
        session_id="lead-42",
        messages=[
            MemoryMessage(role="user", name="Dana", content="We lose leads after hours.", metadata={"ch": "sms"})
        ],
    )
    ours = recorded_requests(mock_http)
    sdk_calls: list[Callable[[], Any]] = [
        lambda: SDK.user.add(user_id=AGENCY_USER),
        lambda: SDK.memory.add_session(session_id="lead-42", user_id=AGENCY_USER),
        lambda: SDK.memory.add(
            "lead-42",
            messages=[
                Message(role_type="user", role="Dana", content="We lose leads after hours.", metadata={"ch": "sms"})
            ],
        ),
    ]
    theirs = [sdk_request(call, router=mock_http, base_url=BASE) for call in sdk_calls]
    assert len(ours) == 3
    for mine, sdk in zip(ours, theirs, strict=True):
        _same_call(mine, sdk)


@pytest.mark.parametrize("session_id", ["lead-42", None])
def test_search_is_the_sdks_search_sessions(
    client: ZepClient, mock_http: respx.MockRouter, session_id: str | None
) -> None:
    route = mock_http.post(f"{BASE}/sessions/search").respond(200, json=load_fixture("zep", "search"))
    client.search(query="after hours", session_id=session_id, limit=3)
    scope: dict[str, Any] = {"session_ids": [session_id]} if session_id else {"user_id": AGENCY_USER}
    theirs = sdk_request(
        lambda: SDK.memory.search_sessions(text="after hours", search_scope="messages", limit=3, **scope),
        router=mock_http,
        base_url=BASE,
    )
    _same_call(route.calls.last.request, theirs)


def test_health_check_is_the_sdks_list_sessions(client: ZepClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.get(f"{BASE}/sessions-ordered").respond(200, json=load_fixture("zep", "sessions"))
    client.health_check()
    theirs = sdk_request(lambda: SDK.memory.list_sessions(page_number=1, page_size=1), router=mock_http, base_url=BASE)
    _same_call(route.calls.last.request, theirs)


@pytest.mark.parametrize(
    ("fixture", "route", "call"),
    [
        ("search", ("POST", f"{BASE}/sessions/search"), lambda: SDK.memory.search_sessions(text="q")),
        ("sessions", ("GET", f"{BASE}/sessions-ordered"), lambda: SDK.memory.list_sessions()),
    ],
)
def test_fixture_parses_as_the_sdk_model(
    fixture: str, route: tuple[str, str], call: Callable[[], Any], mock_http: respx.MockRouter
) -> None:
    mock_http.route(method=route[0], url=route[1]).respond(200, json=load_fixture("zep", fixture))
    assert call() is not None  # the SDK raises where the fixture is not its model
