"""ElevenLabs: text to speech and outbound AI phone calls (the Voice role).

API reference: https://elevenlabs.io/docs/api-reference/introduction
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

import pydantic

from integrations.http import BaseClient, PermanentError, Rate, Usage
from integrations.registry import register_provider
from integrations.values import AudioClip, PhoneCall

TEXT_TO_SPEECH = "v1/text-to-speech/{voice_id}"  # https://elevenlabs.io/docs/api-reference/text-to-speech/convert
OUTBOUND_CALL = "v1/convai/twilio/outbound-call"  # https://elevenlabs.io/docs/api-reference/twilio/outbound-call
USER = "v1/user"  # https://elevenlabs.io/docs/api-reference/user/get
DEFAULT_VOICE_ID = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", one of the default voices every account has
MODEL_ID = "eleven_multilingual_v2"


class OutboundCall(pydantic.BaseModel):
    success: bool
    message: str = ""
    conversation_id: str | None = None
    callSid: str | None = None


class _Subscription(pydantic.BaseModel):
    tier: str = ""
    character_count: int = 0
    character_limit: int = 0


class User(pydantic.BaseModel):
    subscription: _Subscription


@register_provider("voice", "elevenlabs")
class ElevenLabsClient(BaseClient):
    name = "elevenlabs"
    base_url = "https://api.elevenlabs.io"
    api_key_name = "ELEVENLABS_API_KEY"
    required_keys = ("ELEVENLABS_API_KEY",)
    auth_style = "header"
    auth_header = "xi-api-key"
    rate: ClassVar[Rate | None] = Rate(capacity=4, per_second=2.0)

    def synthesize(self, *, text: str, voice_id: str = "") -> AudioClip:
        response = self.request(
            "POST",
            TEXT_TO_SPEECH.format(voice_id=voice_id or DEFAULT_VOICE_ID),
            operation="synthesize",
            params={"output_format": "mp3_44100_128"},
            json={"text": text, "model_id": MODEL_ID},
            headers={"Accept": "audio/mpeg"},
            idempotent=True,  # audio for a text; no side effect but credits
            meter=lambda _: Usage(units=Decimal(len(text))),
        )
        if not response.content:
            from integrations.http import InvalidResponseError

            raise InvalidResponseError("no audio returned", provider=self.name, operation="synthesize", field="<body>")
        return AudioClip(
            audio=response.content,
            content_type=response.headers.get("content-type", "audio/mpeg"),
            characters=len(text),
        )

    def start_call(
        self,
        *,
        idempotency_key: str,
        to_number: str,
        from_number: str = "",
        agent_id: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> PhoneCall:
        """``from_number`` is the ElevenLabs phone-number id, ``agent_id`` the conversational agent."""
        if not (agent_id and from_number):
            raise PermanentError(
                "agent_id and from_number (the agent phone number id) are required",
                provider=self.name,
                operation="start_call",
            )
        call = self.post(
            OUTBOUND_CALL,
            operation="start_call",
            model=OutboundCall,
            json={
                "agent_id": agent_id,
                "agent_phone_number_id": from_number,
                "to_number": to_number,
                "conversation_initiation_client_data": {
                    "dynamic_variables": {**(metadata or {}), "idempotency_key": idempotency_key}
                },
            },
        )
        if not call.success:
            raise PermanentError(call.message or "call refused", provider=self.name, operation="start_call")
        return PhoneCall(call_id=call.conversation_id or call.callSid or "", status="queued", to_number=to_number)

    def ping(self) -> str:
        user = self.get(USER, operation="health_check", model=User, attempts=1)
        sub = user.subscription
        return f"{sub.tier}: {sub.character_count}/{sub.character_limit} characters"
