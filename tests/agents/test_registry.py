"""The registry: unique names, lookups, declaration checks, discovery of every app's agents."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agents import registry
from agents.base import Agent, LLMAgent
from agents.errors import UnknownAgent


def test_every_installed_apps_agents_are_discovered() -> None:
    names = {agent.name for agent in registry.all_agents()}
    assert {"data_validation", "deduplication"} <= names
    assert registry.get("data_validation").queue == "crm"


def test_an_unknown_name_is_an_error() -> None:
    with pytest.raises(UnknownAgent):
        registry.get("nobody")


def test_a_second_agent_with_a_taken_name_is_refused() -> None:
    class Impostor(Agent[Any, Any]):
        name = "data_validation"
        category = "test"
        trigger = "event"

        def act(self, ctx: Any, facts: Any) -> Any:
            raise AssertionError("never run")

    with pytest.raises(ValueError, match="taken"):
        registry.register(Impostor)


def test_incomplete_declarations_fail_at_import() -> None:
    class NoTrigger(Agent[Any, Any]):
        name = "t_no_trigger"
        category = "test"

    class BadQueue(Agent[Any, Any]):
        name = "t_bad_queue"
        category = "test"
        trigger = "event"
        queue = "urgent"  # type: ignore[assignment]

    class Answer(BaseModel):
        text: str

    class NoHeuristic(LLMAgent[Any, Any, Any]):
        name = "t_no_heuristic"
        category = "test"
        trigger = "event"
        system_prompt = "Answer."
        Output = Answer

    for cls in (NoTrigger, BadQueue, NoHeuristic):
        with pytest.raises(TypeError):
            registry.register(cls)
        assert not registry.is_registered(cls.name)
