"""Small helpers shared by the runtime's tests."""

from __future__ import annotations

from typing import Any

from agents.models import AgentRun


def output_of(run: AgentRun) -> dict[str, Any]:
    """A run's output as the dict it always is once the run succeeded."""
    assert isinstance(run.output, dict), run.output
    return run.output
