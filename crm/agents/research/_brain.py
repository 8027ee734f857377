"""Asking the brain with a checked answer: the kit's ``ctx.brain.decide`` validates the schema;
research also checks the answer against the facts (sources fetched, values in range). An answer
that fails either check is replaced by the heuristic's, and the log says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.context import RunContext
from agents.errors import BrainOutputInvalid

D = TypeVar("D", bound=BaseModel)


def ask(ctx: RunContext, subject: Any, *, fallback: Callable[[], D], check: Callable[[D], str | None]) -> D:
    """The brain's answer about ``subject`` if it passes ``check`` (None: fine; text: what is wrong),
    else ``fallback()`` (the agent's heuristic)."""
    try:
        decision = ctx.brain.decide(subject)
    except (BrainOutputInvalid, ValidationError) as exc:
        ctx.log.warning("the brain's answer was unusable (%s); answering with the heuristic", type(exc).__name__)
        return fallback()
    problem = check(decision)
    if problem is None:
        return decision
    ctx.log.warning("the brain's answer failed the check (%s); answering with the heuristic", problem)
    return fallback()
