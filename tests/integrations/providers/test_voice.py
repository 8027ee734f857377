"""ElevenLabs and Retell, the two Voice providers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from integrations.http import InvalidResponseError, PermanentError, UnsupportedOperationError
from integrations.models import ApiUsage
from integrations.providers.elevenlabs import DEFAULT_VOICE_ID, ElevenLabsClient
from integrations.providers.retell import RetellClient
from integrations.roles import get_role
from tests.integrations.conftest import load_fixture
from tests.integrations.providers.conftest import body

pytestmark = pytest.mark.django_db
ELEVEN = "https://api.elevenlabs.io/v1"
RETELL = "https://api.retellai.com"


@pytest.fixture
def eleven(keys: Callable[..., None]) -> ElevenLabsClient:
    keys(ELEVENLABS_API_KEY="xi-test-secret-0001", RETELL_API_KEY="key_retell_test_0001")
    chosen = get_role("voice")  # both configured: ElevenLabs is preferred
    assert isinstance(chosen, ElevenLabsClient)
    return chosen


def test_synthesize_returns_audio_and_counts_characters(eleven: ElevenLabsClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{ELEVEN}/text-to-speech/{DEFAULT_VOICE_ID}").respond(
        200, content=b"ID3fake-mp3", headers={"content-type": "audio/mpeg"}
    )
    clip = eleven.synthesize(text="Hello Dana")
    assert clip.audio == b"ID3fake-mp3" and clip.characters == 10
    assert route.calls.last.request.headers["xi-api-key"] == "xi-test-secret-0001"
    assert ApiUsage.objects.get().units == 10


def test_synthesize_without_audio_is_invalid(eleven: ElevenLabsClient, mock_http: respx.MockRouter) -> None:
    mock_http.post(f"{ELEVEN}/text-to-speech/v1").respond(200, content=b"")
    with pytest.raises(InvalidResponseError):
        eleven.synthesize(text="hi", voice_id="v1")


def test_start_call_through_elevenlabs(eleven: ElevenLabsClient, mock_http: respx.MockRouter) -> None:
    route = mock_http.post(f"{ELEVEN}/convai/twilio/outbound-call").respond(
        200, json=load_fixture("elevenlabs", "outbound_call")
    )
    call = eleven.start_call(idempotency_key="k1", to_number="+15125550100", from_number="phnum_1", agent_id="agent_1")
    assert call.call_id == "conv_01jxyz" and call.status == "queued"
    assert body(route)["agent_phone_number_id"] == "phnum_1"


def test_start_call_needs_agent_and_number(eleven: ElevenLabsClient) -> None:
    with pytest.raises(PermanentError):
        eleven.start_call(idempotency_key="k1", to_number="+15125550100")


def test_retell_starts_calls_and_cannot_synthesize(keys: Callable[..., None], mock_http: respx.MockRouter) -> None:
    keys(RETELL_API_KEY="key_retell_test_0001")
    retell = get_role("voice")
    assert isinstance(retell, RetellClient)
    route = mock_http.post(f"{RETELL}/v2/create-phone-call").respond(
        201, json=load_fixture("retell", "create_phone_call")
    )
    call = retell.start_call(
        idempotency_key="k1", to_number="+12137771235", from_number="+12137771234", agent_id="agent_x"
    )
    assert (call.call_id, call.status) == ("Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6", "registered")
    sent = body(route)
    assert sent["override_agent_id"] == "agent_x"
    assert sent["idempotency_key"] == "k1"  # Retell's own dedupe: a retry within an hour is not a second call
    with pytest.raises(UnsupportedOperationError):
        retell.synthesize(text="hi")
    agents = mock_http.post(f"{RETELL}/v2/list-agents").respond(200, json=load_fixture("retell", "list_agents"))
    assert retell.health_check().detail == "1 agents"
    assert agents.called


def test_retell_start_call_is_retried_under_its_idempotency_key(
    keys: Callable[..., None], mock_http: respx.MockRouter
) -> None:
    keys(RETELL_API_KEY="key_retell_test_0001")
    retell = RetellClient()
    route = mock_http.post(f"{RETELL}/v2/create-phone-call").mock(
        side_effect=[httpx.Response(502), httpx.Response(201, json=load_fixture("retell", "create_phone_call"))]
    )
    retell.start_call(idempotency_key="k2", to_number="+12137771235", from_number="+12137771234")
    assert route.call_count == 2
    assert {body(route, 0)["idempotency_key"], body(route, 1)["idempotency_key"]} == {"k2"}
