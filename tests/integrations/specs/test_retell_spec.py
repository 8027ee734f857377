"""Retell against its official SDK, retell-sdk (Apache-2.0), generated from Retell's OpenAPI.

The SDK sends through httpx, so respx catches the call it builds for the same operation; its
TypedDict parameters and pydantic response models are the schemas.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx
from retell import Retell
from retell.types import AgentListResponse, PhoneCallResponse
from retell.types.call_create_phone_call_params import CallCreatePhoneCallParams

from integrations.providers.retell import RetellClient
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body
from tests.integrations.specs.contract import sdk_request, typed_dict_errors

pytestmark = pytest.mark.django_db
BASE = "https://api.retellai.com"
SDK = Retell(api_key="key_retell_test_0001", base_url=BASE, max_retries=0)


@pytest.fixture
def client(keys: Callable[..., None]) -> RetellClient:
    keys(RETELL_API_KEY="key_retell_test_0001")
    return RetellClient()


def test_start_call_is_the_sdks_create_phone_call(client: RetellClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/v2/create-phone-call").respond(
        201, json=load_fixture("retell", "create_phone_call")
    )
    client.start_call(idempotency_key="k1", to_number="+12137771235", from_number="+12137771234", agent_id="agent_x")
    ours = route.calls.last.request
    theirs = sdk_request(
        lambda: SDK.call.create_phone_call(
            from_number="+12137771234", to_number="+12137771235", idempotency_key="k1", override_agent_id="agent_x"
        ),
        router=mock_http,
        base_url=BASE,
    )
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)
    assert ours.headers["Authorization"] == theirs.headers["Authorization"]
    assert typed_dict_errors(body(route), CallCreatePhoneCallParams) == []
    assert body(route)["idempotency_key"] == "k1"


def test_health_check_is_the_sdks_list_agents(client: RetellClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{BASE}/v2/list-agents").respond(200, json=load_fixture("retell", "list_agents"))
    assert client.health_check().ok
    ours = route.calls.last.request
    theirs = sdk_request(lambda: SDK.agent.list(), router=mock_http, base_url=BASE)
    assert (ours.method, ours.url.path, set(ours.url.params)) == (theirs.method, theirs.url.path, set())


def test_get_call_is_the_sdks_retrieve(client: RetellClient, mock_http: respx.MockRouter) -> None:
    call_id = "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
    route = mock_http.get(f"{BASE}/v2/get-call/{call_id}").respond(
        200, json=load_fixture("retell", "create_phone_call")
    )
    client.get_call(call_id)
    theirs = sdk_request(lambda: SDK.call.retrieve(call_id), router=mock_http, base_url=BASE)
    assert (route.calls.last.request.method, route.calls.last.request.url.path) == (theirs.method, theirs.url.path)


def test_the_old_bare_list_answer_is_not_what_retell_sends() -> None:
    AgentListResponse.model_validate(load_fixture("retell", "list_agents"))
    with pytest.raises(ValueError, match="validation error"):
        AgentListResponse.model_validate([{"agent_id": "a", "agent_name": "Receptionist"}])


def test_fixture_is_the_sdks_phone_call_response() -> None:
    PhoneCallResponse.model_validate(load_fixture("retell", "create_phone_call"))
