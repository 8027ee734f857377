"""Brains answer an LLM agent's question in its Decision schema.

``anthropic`` asks Claude, ``heuristic`` calls the agent's own deterministic fallback,
``scripted`` returns what a test queued. ``settings.BRAIN_DEFAULT`` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from agents.brains.pricing import Usage

if TYPE_CHECKING:
    from agents.base import LLMAgent
    from agents.context import RunContext


@dataclass
class BrainResult:
    decision: BaseModel
    usage: Usage = field(default_factory=Usage)


class Brain(Protocol):
    name: str

    def decide(self, *, agent: LLMAgent[Any, Any, Any], ctx: RunContext, data: BaseModel) -> BrainResult: ...


def get_brain(name: str) -> Brain:
    if name == "anthropic":
        from agents.brains.anthropic import AnthropicBrain

        return AnthropicBrain()
    if name == "heuristic":
        from agents.brains.heuristic import HeuristicBrain

        return HeuristicBrain()
    if name == "scripted":
        from agents.brains.scripted import ScriptedBrain

        return ScriptedBrain()
    raise LookupError(f"unknown brain {name!r}: anthropic, heuristic or scripted")
