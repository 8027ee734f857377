"""The anthropic brain: Claude through the official SDK, answering by a forced tool call.

The request keeps a stable prefix cacheable: the tool (whose input schema is the agent's Decision
schema), the system prompt and the agent's sorted learnings, each marked ``cache_control``.
The tool input is validated against the schema; on failure the validation error goes back to the
model once (a repair), and a second failure is a clean, permanent BrainOutputInvalid.

A forced tool call cannot run alongside thinking, so the request turns thinking off (models with
adaptive thinking on by default would otherwise refuse it). Models that refuse forced tool use
altogether (Claude Sonnet 5.5, and any family not known to accept it) answer through structured
outputs instead: the same schema as ``output_config.format``, the answer read from the text and
validated the same way.

A refusal (stop_reason "refusal") or an answer cut off at max_tokens fails at once, without a
repair: asking again would be refused or cut off again, and paid for twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AnswerStyle:
    """How a model family gives a structured answer."""

    forced_tool: bool  # False: structured outputs (output_config.format) instead of a forced tool call
    thinking: dict[str, str] | None  # the thinking setting to send; None sends none (the model's default)
    # Thinking is spent inside max_tokens: a model left to think needs room for it and the answer,
    # or the answer is cut off. 0 keeps the agent's own max_tokens.
    min_max_tokens: int = 0


THINKING_ROOM = 8192
_FORCED_NO_THINKING = AnswerStyle(forced_tool=True, thinking=None)  # thinks only when asked
_STRUCTURED_THINKING = AnswerStyle(forced_tool=False, thinking=None, min_max_tokens=THINKING_ROOM)

# A forced tool call cannot run alongside thinking: families that think by default get it turned
# off; families that refuse forced tool use (or always think) answer through structured outputs,
# with their lowest thinking setting. Longest prefix wins; dated ids match their family.
# Forced tool use is an allow-list of the families known to accept it: the newer families refuse
# it and may think, so an unknown (newer) model is asked like them.
# https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (forced tool use: 400)
# https://platform.claude.com/docs/en/models/sonnet-5/overview (adaptive thinking on by default)
ANSWER_STYLES: dict[str, AnswerStyle] = {
    "claude-3": _FORCED_NO_THINKING,
    "claude-haiku-4": _FORCED_NO_THINKING,
    "claude-sonnet-4": _FORCED_NO_THINKING,
    "claude-opus-4": _FORCED_NO_THINKING,
    "claude-sonnet-5-5": AnswerStyle(forced_tool=False, thinking={"type": "between_tools"}),
    "claude-sonnet-5": AnswerStyle(forced_tool=True, thinking={"type": "disabled"}),
    # Adaptive, always on; listed only so that the "claude-opus-5" prefix does not claim it.
    "claude-opus-5-5": _STRUCTURED_THINKING,
    "claude-opus-5": AnswerStyle(forced_tool=True, thinking={"type": "disabled"}),
    # Haiku 5.5 (thinks by default), Fable 5.x and Mythos 5.x (always think, refuse forced tool
    # use) and anything newer take the default.
}
DEFAULT_STYLE = _STRUCTURED_THINKING

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


def answer_style(model: str) -> AnswerStyle:
    for name in sorted(ANSWER_STYLES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return ANSWER_STYLES[name]
    return DEFAULT_STYLE


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
    model = model_for(agent)
    style = answer_style(model)
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": max(agent.max_tokens, style.min_max_tokens),
        "system": system,
        "messages": [{"role": "user", "content": user_prompt}],
    }
    if style.forced_tool:
        request["tools"] = [tool_for(agent)]
        request["tool_choice"] = {"type": "tool", "name": agent.tool_name}
    else:
        # The API's strict subset of JSON Schema: bounds move into descriptions, and pydantic
        # still enforces them when the answer is validated.
        schema = anthropic.transform_schema(agent.Decision.model_json_schema())
        request["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if style.thinking is not None:
        request["thinking"] = style.thinking
    return request


def parse_decision(agent: LLMAgent[Any, Any, Any], content: list[Any]) -> BaseModel:
    """The validated answer: the tool's input, or the JSON text of a structured-output answer.

    Raises ValidationError, or ValueError when the answer holds neither.
    """
    texts: list[str] = []
    for block in content:
        kind = _get(block, "type")
        if kind == "tool_use" and _get(block, "name") == agent.tool_name:
            return agent.Decision.model_validate(_get(block, "input"))
        if kind == "text" and _get(block, "text"):
            texts.append(_get(block, "text"))
    if not texts:
        raise ValueError(f"the answer has no {agent.tool_name!r} tool call and no JSON text")
    try:
        data = json.loads("".join(texts))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not JSON: {exc}") from exc
    return agent.Decision.model_validate(data)


def _get(block: Any, name: str) -> Any:
    return block.get(name) if isinstance(block, dict) else getattr(block, name, None)


def _as_params(content: list[Any]) -> list[dict[str, Any]]:
    """The answer's blocks as they go back in a repair: tool calls and non-empty text only (the API
    refuses empty text blocks; thinking blocks of a finished turn need not be sent back)."""
    params: list[dict[str, Any]] = []
    for block in content:
        kind = _get(block, "type")
        if kind == "tool_use":
            params.append(
                {
                    "type": "tool_use",
                    "id": _get(block, "id"),
                    "name": _get(block, "name"),
                    "input": _get(block, "input"),
                }
            )
        elif kind == "text" and _get(block, "text"):
            params.append({"type": "text", "text": _get(block, "text")})
    return params or [{"type": "text", "text": "(no answer)"}]


def _call(request: dict[str, Any]) -> Any:
    try:
        return client().messages.create(**request)
    except (anthropic.APIConnectionError, anthropic.RateLimitError, anthropic.InternalServerError) as exc:
        raise TransientError(f"anthropic unavailable: {type(exc).__name__}") from exc
    except anthropic.APIStatusError as exc:
        if exc.status_code in (408, 409, 429, 529) or exc.status_code >= 500:
            raise TransientError(f"anthropic unavailable: HTTP {exc.status_code}") from exc
        raise PermanentError(f"anthropic refused the request: HTTP {exc.status_code}") from exc


class ModelRefused(BrainOutputInvalid):
    """The model declined to answer (stop_reason "refusal"): asking again would be refused again.

    A BrainOutputInvalid so that the brain's caller records the paid call's usage as it does for
    an invalid answer.
    """


def _check_stop_reason(agent: LLMAgent[Any, Any, Any], message: Any, request: dict[str, Any], usage: Usage) -> None:
    """Fail at once when the answer cannot be repaired: a repair would meet the same end, paid again."""
    reason = getattr(message, "stop_reason", None)
    error: BrainOutputInvalid
    if reason == "refusal":
        error = ModelRefused(f"{agent.name}: the model refused to answer")
    elif reason == "max_tokens":
        error = BrainOutputInvalid(
            f"{agent.name}: the model's answer was cut off at max_tokens ({request['max_tokens']}); "
            f"raise the agent's max_tokens"
        )
    else:
        return
    error.usage = usage  # type: ignore[attr-defined]  # the calls were paid for: record them
    raise error


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
        _check_stop_reason(agent, message, request, usage)
        try:
            return BrainResult(decision=parse_decision(agent, message.content), usage=usage)
        except (ValidationError, ValueError) as first_error:
            ctx.log.warning("model answer failed validation; asking for one repair")
            repair = self._repair_request(request, message.content, first_error)
        message = _call(repair)
        usage.add(usage_of(model, message.usage))
        _check_stop_reason(agent, message, repair, usage)
        try:
            return BrainResult(decision=parse_decision(agent, message.content), usage=usage)
        except (ValidationError, ValueError) as second_error:
            error = BrainOutputInvalid(f"{agent.name}: the model's answer failed validation twice: {second_error}")
            error.usage = usage  # type: ignore[attr-defined]  # the calls were paid for: record them
            raise error from second_error

    @staticmethod
    def _repair_request(request: dict[str, Any], content: list[Any], error: Exception) -> dict[str, Any]:
        tool_use = next((b for b in content if _get(b, "type") == "tool_use"), None)
        messages = [*request["messages"], {"role": "assistant", "content": _as_params(content)}]
        again = (
            "Call the tool again with a corrected input." if "tools" in request else "Answer again with corrected JSON."
        )
        feedback = f"Your answer did not match the schema:\n{error}\n{again}"
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
