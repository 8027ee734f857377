"""The anthropic brain: Claude through the official SDK, answering by a forced tool call.

The request keeps a stable prefix cacheable: the tool (whose input schema is the agent's Decision
schema), the system prompt and the agent's sorted learnings, each marked ``cache_control``.
The tool input is validated against the schema; on failure the validation error goes back to the
model once (a repair), and a second failure is a clean, permanent BrainOutputInvalid.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2
from django.conf import settings
from pydantic import BaseModel, ValidationError

from agents.brains import BrainResult
from agents.brains.pricing import Usage, usage_of
from agents.errors import BrainOutputInvalid, PermanentError, RealModelCallInTests, TransientError

if TYPE_CHECKING:
    from agents.base import LLMAgent
    from agents.context import RunContext

logger = logging.getLogger(__name__)

EPHEMERAL = {"type": "ephemeral"}
_transport: httpx2.BaseTransport | None = None
_client: anthropic.Anthropic | None = None


def install_transport(transport: httpx2.BaseTransport | None) -> None:
    """Route every SDK request through ``transport`` (tests fake the API at the transport)."""
    global _transport, _client
    _transport, _client = transport, None


def client() -> anthropic.Anthropic:
    global _client
    if _client is not None:
        return _client
    if settings.DJANGO_ENV == "test" and _transport is None:
        raise RealModelCallInTests(
            "a test reached the anthropic brain without a fake transport: use the anthropic_api fixture"
        )
    _client = anthropic.Anthropic(
        # Never logged: the SDK sends it as a header and the log filter redacts it anyway.
        api_key=settings.ANTHROPIC_API_KEY or "unset",
        http_client=httpx2.Client(transport=_transport) if _transport is not None else None,
        max_retries=int(getattr(settings, "ANTHROPIC_MAX_RETRIES", 2)),
        timeout=float(getattr(settings, "ANTHROPIC_TIMEOUT_SECONDS", 120.0)),
    )
    return _client


def model_for(agent: LLMAgent[Any, Any, Any]) -> str:
    return agent.model or settings.ANTHROPIC_MODEL


def tool_for(agent: LLMAgent[Any, Any, Any]) -> dict[str, Any]:
    return {
        "name": agent.tool_name,
        "description": agent.tool_description,
        "input_schema": agent.Decision.model_json_schema(),
        "cache_control": EPHEMERAL,
    }


def build_request(agent: LLMAgent[Any, Any, Any], *, user_prompt: str, prompt_rules: list[str]) -> dict[str, Any]:
    """The Messages API parameters of one question (also the body of a batch request)."""
    system: list[dict[str, Any]] = [{"type": "text", "text": agent.system_prompt, "cache_control": EPHEMERAL}]
    if prompt_rules:
        # Sorted so the same set of learnings yields the same prefix, hence a cache hit.
        rules = "\n".join(f"- {rule}" for rule in sorted(set(prompt_rules)))
        system.append({"type": "text", "text": f"Rules learned from past runs:\n{rules}", "cache_control": EPHEMERAL})
    return {
        "model": model_for(agent),
        "max_tokens": agent.max_tokens,
        "system": system,
        "tools": [tool_for(agent)],
        "tool_choice": {"type": "tool", "name": agent.tool_name},
        "messages": [{"role": "user", "content": user_prompt}],
    }


def parse_decision(agent: LLMAgent[Any, Any, Any], content: list[Any]) -> BaseModel:
    """The validated tool input; ValidationError (or ValueError without a tool call) otherwise."""
    for block in content:
        if _get(block, "type") == "tool_use" and _get(block, "name") == agent.tool_name:
            return agent.Decision.model_validate(_get(block, "input"))
    raise ValueError(f"the answer has no {agent.tool_name!r} tool call")


def _get(block: Any, name: str) -> Any:
    return block.get(name) if isinstance(block, dict) else getattr(block, name, None)


def _as_param(block: Any) -> dict[str, Any]:
    if _get(block, "type") == "tool_use":
        return {"type": "tool_use", "id": _get(block, "id"), "name": _get(block, "name"), "input": _get(block, "input")}
    return {"type": "text", "text": _get(block, "text") or ""}


def _call(request: dict[str, Any]) -> Any:
    try:
        return client().messages.create(**request)
    except (anthropic.APIConnectionError, anthropic.RateLimitError, anthropic.InternalServerError) as exc:
        raise TransientError(f"anthropic unavailable: {type(exc).__name__}") from exc
    except anthropic.APIStatusError as exc:
        if exc.status_code in (408, 409, 429, 529) or exc.status_code >= 500:
            raise TransientError(f"anthropic unavailable: HTTP {exc.status_code}") from exc
        raise PermanentError(f"anthropic refused the request: HTTP {exc.status_code}") from exc


class AnthropicBrain:
    name = "anthropic"

    def decide(self, *, agent: LLMAgent[Any, Any, Any], ctx: RunContext, data: BaseModel) -> BrainResult:
        if agent.batch:
            from agents.brains.batches import collected_answer

            answered = collected_answer(agent=agent, run=ctx.run)
            if answered is not None:
                return answered
        request = build_request(agent, user_prompt=agent.prompt(ctx, data), prompt_rules=ctx.prompt_rules)
        model = request["model"]
        message = _call(request)
        usage = Usage(model=model)
        usage.add(usage_of(model, message.usage))
        try:
            return BrainResult(decision=parse_decision(agent, message.content), usage=usage)
        except (ValidationError, ValueError) as first_error:
            ctx.log.warning("model answer failed validation; asking for one repair")
            repair = self._repair_request(request, message.content, first_error)
        message = _call(repair)
        usage.add(usage_of(model, message.usage))
        try:
            return BrainResult(decision=parse_decision(agent, message.content), usage=usage)
        except (ValidationError, ValueError) as second_error:
            error = BrainOutputInvalid(f"{agent.name}: the model's answer failed validation twice: {second_error}")
            error.usage = usage  # type: ignore[attr-defined]  # the calls were paid for: record them
            raise error from second_error

    @staticmethod
    def _repair_request(request: dict[str, Any], content: list[Any], error: Exception) -> dict[str, Any]:
        tool_use = next((b for b in content if _get(b, "type") == "tool_use"), None)
        messages = [*request["messages"], {"role": "assistant", "content": [_as_param(b) for b in content]}]
        feedback = f"Your answer did not match the schema:\n{error}\nCall the tool again with a corrected input."
        if tool_use is not None:
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": _get(tool_use, "id"),
                            "is_error": True,
                            "content": feedback,
                        }
                    ],
                }
            )
        else:
            messages.append({"role": "user", "content": feedback})
        return {**request, "messages": messages}
