"""The anthropic brain through the real SDK, faked at the HTTP transport (respx)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from unittest import mock

import httpx
import pytest

from agents import runtime
from agents.brains import anthropic as anthropic_brain
from agents.errors import RealModelCallInTests
from agents.models import AgentRun
from agents.services.runs import start_run
from learning.hooks import BeforeRunDecision
from learning.models import ErrorLog
from tests.agents.sample_agents import ThinkerAgent, Verdict

pytestmark = pytest.mark.django_db

USAGE = {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 500, "cache_read_input_tokens": 0}


def message(
    tool_input: dict[str, Any], usage: dict[str, int] | None = None, tool_id: str = "toolu_1"
) -> dict[str, Any]:
    return {
        "id": f"msg_{tool_id}",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": tool_id, "name": "verdict", "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": usage or USAGE,
    }


def _think(text: str = "has budget") -> AgentRun:
    run = start_run(agent_name="t_thinker", input={"text": text}, trigger="event", enqueue=False)
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def test_the_request_has_a_cached_prefix_and_a_forced_tool(anthropic_api, settings) -> None:
    route = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=message({"label": "hot", "score": 80}))
    )
    rules = BeforeRunDecision(prompt_rules=["Zebra rule last.", "Always cite the source."])
    with mock.patch("learning.hooks.before_run", return_value=rules):
        run = _think()

    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"label": "hot", "score": 80}
    body = json.loads(route.calls.last.request.content)
    assert body["model"] == "claude-sonnet-4-6"
    assert body["system"] == [
        {"type": "text", "text": "You judge how warm a sales lead is.", "cache_control": {"type": "ephemeral"}},
        {
            "type": "text",
            "text": "Rules learned from past runs:\n- Always cite the source.\n- Zebra rule last.",  # sorted
            "cache_control": {"type": "ephemeral"},
        },
    ]
    assert body["tools"] == [
        {
            "name": "verdict",
            "description": "Give the answer in this exact structure.",
            "input_schema": Verdict.model_json_schema(),
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "verdict"}
    assert "thinking" not in body and "output_config" not in body  # Sonnet 4.6 thinks only when asked
    assert body["messages"] == [{"role": "user", "content": json.dumps({"text": "has budget"}, indent=1)}]
    assert route.calls.last.request.headers["anthropic-version"]
    # usage and cost: 100 in x $3 + 20 out x $15 + 500 cache writes x $3.75, per million tokens
    assert (run.tokens_in, run.tokens_out, run.cache_write_tokens, run.cache_read_tokens) == (100, 20, 500, 0)
    assert run.cost == Decimal("0.002475")
    assert run.brain == "anthropic" and run.model_name == "claude-sonnet-4-6"


def test_an_invalid_answer_gets_one_repair_with_the_validation_error(anthropic_api) -> None:
    route = anthropic_api.post("/v1/messages").mock(
        side_effect=[
            httpx.Response(200, json=message({"label": "lukewarm", "score": 150})),
            httpx.Response(200, json=message({"label": "cold", "score": 5}, tool_id="toolu_2")),
        ]
    )
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"label": "cold", "score": 5}
    repair = json.loads(route.calls[1].request.content)
    assert repair["tool_choice"] == {"type": "tool", "name": "verdict"}
    assistant, feedback = repair["messages"][1], repair["messages"][2]
    assert assistant["role"] == "assistant" and assistant["content"][0]["id"] == "toolu_1"
    result = feedback["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1" and result["is_error"] is True
    assert "label" in result["content"] and "score" in result["content"]
    assert run.tokens_in == 200  # both calls are paid for


def test_a_second_invalid_answer_fails_cleanly(anthropic_api) -> None:
    route = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=message({"label": "lukewarm", "score": 150}))
    )
    run = _think()
    assert route.call_count == 2  # the answer and exactly one repair
    assert run.status == AgentRun.Status.FAILED
    assert run.error.startswith("BrainOutputInvalid: t_thinker: the model's answer failed validation twice")
    assert run.cost > 0 and run.tokens_in == 200
    assert ErrorLog.objects.get(run=run).error_type.endswith("BrainOutputInvalid")


def test_an_overloaded_api_degrades_to_the_heuristic(anthropic_api) -> None:
    anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(
            529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
    )
    run = _think("has budget")
    assert run.status == AgentRun.Status.SUCCEEDED
    assert run.brain == "heuristic" and run.output == {"label": "hot", "score": 50}


def test_a_refused_request_is_a_permanent_failure(anthropic_api) -> None:
    anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(
            401, json={"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
        )
    )
    run = _think()
    assert run.status == AgentRun.Status.FAILED and "HTTP 401" in run.error


def test_tests_cannot_reach_a_real_model(settings) -> None:
    settings.BRAIN_DEFAULT = "anthropic"
    with pytest.raises(RealModelCallInTests):
        anthropic_brain.client()
    run = _think()
    assert run.status == AgentRun.Status.FAILED and "RealModelCallInTests" in run.error


def text_message(text: str, usage: dict[str, int] | None = None) -> dict[str, Any]:
    """A structured-output answer: the JSON comes back as the message's text."""
    return {
        "id": "msg_json",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage or USAGE,
    }


def test_a_model_thinking_by_default_is_asked_for_the_forced_tool_without_thinking(anthropic_api, settings) -> None:
    # Claude Sonnet 5 thinks adaptively unless told not to, and thinking cannot run with a forced tool.
    settings.ANTHROPIC_MODEL = "claude-sonnet-5"
    route = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=message({"label": "hot", "score": 80}))
    )
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED
    body = json.loads(route.calls.last.request.content)
    assert body["model"] == "claude-sonnet-5" and body["thinking"] == {"type": "disabled"}
    assert body["tool_choice"] == {"type": "tool", "name": "verdict"}
    # 100 in x $2 + 20 out x $10 + 500 cache writes x $2.50, per million tokens
    assert run.cost == Decimal("0.001650")


def test_a_model_refusing_forced_tools_answers_through_structured_outputs(anthropic_api, settings) -> None:
    settings.ANTHROPIC_MODEL = "claude-sonnet-5-5-20260928"  # a dated id takes its family's style
    route = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=text_message('{"label": "hot", "score": 80}'))
    )
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"label": "hot", "score": 80}
    body = json.loads(route.calls.last.request.content)
    assert "tools" not in body and "tool_choice" not in body
    assert body["thinking"] == {"type": "between_tools"}  # its lowest setting: "disabled" is refused
    schema = body["output_config"]["format"]
    assert schema["type"] == "json_schema"
    assert schema["schema"]["additionalProperties"] is False
    assert schema["schema"]["required"] == ["label", "score"]
    assert "minimum" not in schema["schema"]["properties"]["score"]  # moved into the description
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_a_structured_output_answer_out_of_bounds_is_repaired_once_then_fails(anthropic_api, settings) -> None:
    settings.ANTHROPIC_MODEL = "claude-sonnet-5-5"
    route = anthropic_api.post("/v1/messages").mock(
        side_effect=[
            httpx.Response(200, json=text_message('{"label": "hot", "score": 150}')),
            httpx.Response(200, json=text_message("not json at all")),
        ]
    )
    run = _think()
    assert route.call_count == 2
    repair = json.loads(route.calls[1].request.content)
    assistant, feedback = repair["messages"][1], repair["messages"][2]
    assert assistant == {"role": "assistant", "content": [{"type": "text", "text": '{"label": "hot", "score": 150}'}]}
    assert feedback["role"] == "user" and "score" in feedback["content"] and "corrected JSON" in feedback["content"]
    assert run.status == AgentRun.Status.FAILED and "not JSON" in run.error


def test_an_empty_answer_is_repaired_without_sending_an_empty_text_block(anthropic_api, settings) -> None:
    settings.ANTHROPIC_MODEL = "claude-sonnet-5-5"
    route = anthropic_api.post("/v1/messages").mock(
        side_effect=[
            httpx.Response(200, json=text_message("")),
            httpx.Response(200, json=text_message('{"label": "cold", "score": 3}')),
        ]
    )
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"label": "cold", "score": 3}
    sent = json.loads(route.calls[1].request.content)["messages"][1]["content"]
    assert all(block.get("text") for block in sent)  # the API refuses empty text blocks


@pytest.mark.parametrize("model", ["claude-mythos-5-1", "claude-mythos-5", "claude-haiku-5-5", "claude-newfamily-9"])
def test_thinking_and_unknown_families_answer_through_structured_outputs_with_room_to_think(
    anthropic_api, settings, model
) -> None:
    # These think by default (or always) and refuse forced tool use: a forced tool call is a 400.
    settings.ANTHROPIC_MODEL = model
    route = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=text_message('{"label": "hot", "score": 80}'))
    )
    run = _think()
    assert run.status == AgentRun.Status.SUCCEEDED and run.output == {"label": "hot", "score": 80}
    body = json.loads(route.calls.last.request.content)
    assert body["model"] == model
    assert "tools" not in body and "tool_choice" not in body and "thinking" not in body
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["max_tokens"] == anthropic_brain.THINKING_ROOM > ThinkerAgent.max_tokens  # thinking counts


def test_only_the_known_families_keep_the_forced_tool_and_the_agents_max_tokens(settings) -> None:
    expected = {
        # model: (forced tool, thinking sent, max_tokens)
        "claude-3-haiku-20240307": (True, None, 1024),
        "claude-3-5-haiku": (True, None, 1024),
        "claude-3-7-sonnet-20250219": (True, None, 1024),
        "claude-haiku-4-5": (True, None, 1024),
        "claude-sonnet-4-6": (True, None, 1024),
        "claude-opus-4": (True, None, 1024),
        "claude-opus-4-1": (True, None, 1024),
        "claude-opus-4-1-20250805": (True, None, 1024),
        "claude-sonnet-5": (True, {"type": "disabled"}, 1024),
        "claude-opus-5": (True, {"type": "disabled"}, 1024),
        "claude-sonnet-5-5": (False, {"type": "between_tools"}, 1024),
        "claude-opus-5-5": (False, None, 8192),
        "claude-fable-5": (False, None, 8192),
        "claude-mythos-5-1": (False, None, 8192),
        "claude-haiku-5-5": (False, None, 8192),
        "claude-opus-6": (False, None, 8192),  # an unknown family is not taken for "claude-opus-4"/"-5"
        "claude-newfamily-9": (False, None, 8192),
    }
    seen = {}
    for model in expected:
        settings.ANTHROPIC_MODEL = model
        request = anthropic_brain.build_request(ThinkerAgent(), user_prompt="hi", prompt_rules=[])
        assert ("tools" in request) is not ("output_config" in request)
        seen[model] = ("tool_choice" in request, request.get("thinking"), request["max_tokens"])
    assert seen == expected


def test_a_refusal_fails_at_once_and_records_the_paid_call(anthropic_api) -> None:
    refusal = {**text_message(""), "model": "claude-sonnet-4-6", "stop_reason": "refusal"}
    route = anthropic_api.post("/v1/messages").mock(return_value=httpx.Response(200, json=refusal))
    run = _think()
    assert route.call_count == 1  # a repair would be refused again
    assert run.status == AgentRun.Status.FAILED
    assert "t_thinker: the model refused" in run.error
    assert run.tokens_in == 100 and run.cost > 0


def test_an_answer_cut_off_at_max_tokens_fails_without_a_repair(anthropic_api) -> None:
    cut = {**message({"label": "hot"}), "stop_reason": "max_tokens"}
    route = anthropic_api.post("/v1/messages").mock(return_value=httpx.Response(200, json=cut))
    run = _think()
    assert route.call_count == 1  # a repair would be cut off again
    assert run.status == AgentRun.Status.FAILED
    assert run.error.startswith("BrainOutputInvalid: t_thinker: the model's answer was cut off at max_tokens (1024)")
    assert run.tokens_in == 100 and run.cost > 0
