"""Context that follows a piece of work through the call stack without being passed around.

The runtime sets ``current_run_id`` while an agent runs, so an integration call deep inside a
provider client can attribute its ApiUsage row and any ErrorLog to the run that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_run_id: ContextVar[int | None] = ContextVar("current_run_id", default=None)
current_agent_name: ContextVar[str] = ContextVar("current_agent_name", default="")


@contextmanager
def bound_run(run_id: int | None, agent_name: str) -> Iterator[None]:
    run_token = current_run_id.set(run_id)
    agent_token = current_agent_name.set(agent_name)
    try:
        yield
    finally:
        current_run_id.reset(run_token)
        current_agent_name.reset(agent_token)
