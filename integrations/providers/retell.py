"""Retell AI: outbound AI phone calls (the Voice role; Retell has no standalone speech synthesis).

API reference: https://docs.retellai.com/api-references/create-phone-call
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import pydantic

from integrations.http import BaseClient, PermanentError, Rate, UnsupportedOperationError
from integrations.registry import register_provider
from integrations.values import AudioClip, PhoneCall

CREATE_PHONE_CALL = "v2/create-phone-call"  # https://docs.retellai.com/api-references/create-phone-call
GET_CALL = "v2/get-call/{call_id}"  # https://docs.retellai.com/api-references/get-call
LIST_AGENTS = "v2/list-agents"  # https://docs.retellai.com/api-references/list-agents (POST, paginated)

_STATUS: dict[str, Literal["registered", "queued", "ongoing", "ended", "failed", "unknown"]] = {
    "registered": "registered",
    "not_connected": "failed",
    "ongoing": "ongoing",
    "ended": "ended",
    "error": "failed",
}


class Call(pydantic.BaseModel):
    call_id: str
    call_status: str
    to_number: str = ""
    from_number: str = ""
    disconnection_reason: str | None = None


class Agent(pydantic.BaseModel):
    agent_id: str


class AgentPage(pydantic.BaseModel):
    items: list[Agent]
    has_more: bool = False
    pagination_key: str | None = None


@register_provider("voice", "retell")
class RetellClient(BaseClient):
    name = "retell"
    base_url = "https://api.retellai.com"
    api_key_name = "RETELL_API_KEY"
    required_keys = ("RETELL_API_KEY",)
    rate: ClassVar[Rate | None] = Rate(capacity=5, per_second=1.0)

    @staticmethod
    def _phone_call(call: Call) -> PhoneCall:
        return PhoneCall(
            call_id=call.call_id, status=_STATUS.get(call.call_status, "unknown"), to_number=call.to_number
        )

    def synthesize(self, *, text: str, voice_id: str = "") -> AudioClip:
        raise UnsupportedOperationError(
            "Retell has no standalone text to speech", provider=self.name, operation="synthesize"
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
        if not from_number:
            raise PermanentError(
                "from_number (a Retell number) is required", provider=self.name, operation="start_call"
            )
        body: dict[str, object] = {
            "from_number": from_number,
            "to_number": to_number,
            # Retell answers a repeat of this key within an hour with the first call, not a second one.
            "idempotency_key": idempotency_key,
            "metadata": {**(metadata or {}), "idempotency_key": idempotency_key},
        }
        if agent_id:
            body["override_agent_id"] = agent_id
        call = self.post(CREATE_PHONE_CALL, operation="start_call", model=Call, json=body, idempotent=True)
        return self._phone_call(call)

    def get_call(self, call_id: str) -> PhoneCall:
        return self._phone_call(self.get(GET_CALL.format(call_id=call_id), operation="get_call", model=Call))

    def ping(self) -> str:
        page = self.post(LIST_AGENTS, operation="health_check", model=AgentPage, json={}, idempotent=True, attempts=1)
        return f"{len(page.items)}{'+' if page.has_more else ''} agents"
