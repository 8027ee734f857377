"""The heuristic brain: the agent's own deterministic answer. No model, no cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agents.brains import BrainResult

if TYPE_CHECKING:
    from agents.base import LLMAgent
    from agents.context import RunContext


class HeuristicBrain:
    name = "heuristic"

    def decide(self, *, agent: LLMAgent[Any, Any, Any], ctx: RunContext, data: BaseModel) -> BrainResult:
        answer = agent.heuristic(ctx, data)
        # Validated like a model's answer: a heuristic drifting from the schema is a bug to catch here.
        decision = agent.Decision.model_validate(answer.model_dump() if isinstance(answer, BaseModel) else answer)
        return BrainResult(decision=decision)
