"""The scripted brain, for tests: answers are queued per agent and returned in order."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agents.brains import BrainResult
from agents.brains.pricing import Usage

if TYPE_CHECKING:
    from agents.base import LLMAgent
    from agents.context import RunContext

_answers: defaultdict[str, deque[tuple[Any, Usage | None]]] = defaultdict(deque)
calls: list[tuple[str, dict[str, Any]]] = []


def script(agent_name: str, *answers: Any, usage: Usage | None = None) -> None:
    """Queue answers (dicts, Decision instances, or exceptions to raise) for ``agent_name``."""
    for answer in answers:
        _answers[agent_name].append((answer, usage))


def reset() -> None:
    _answers.clear()
    calls.clear()


class ScriptedBrain:
    name = "scripted"

    def decide(self, *, agent: LLMAgent[Any, Any, Any], ctx: RunContext, data: BaseModel) -> BrainResult:
        calls.append((agent.name, _as_record(agent, ctx, data)))
        if not _answers[agent.name]:
            raise AssertionError(f"the scripted brain has no answer queued for {agent.name!r}")
        answer, usage = _answers[agent.name].popleft()
        if isinstance(answer, BaseException):
            raise answer
        decision = agent.Decision.model_validate(answer.model_dump() if isinstance(answer, BaseModel) else answer)
        return BrainResult(decision=decision, usage=usage or Usage())


def _as_record(agent: LLMAgent[Any, Any, Any], ctx: RunContext, data: Any) -> dict[str, Any]:
    """What the test can assert the brain was asked: the subject as JSON, or the prompt when the
    subject holds model instances (facts)."""
    try:
        return dict(data.model_dump(mode="json"))
    except (AttributeError, ValueError, TypeError):
        return {"prompt": agent.prompt(ctx, data)}
