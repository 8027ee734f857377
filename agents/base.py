"""What an agent is: a named class with typed input and output, a trigger, a queue and a brain.

A rules agent implements ``run()``. An LLM agent also declares a system prompt, the schema the
model must answer in (``Decision``) and a deterministic ``heuristic()`` giving an answer of the
same schema without a model; its ``run()`` asks ``ctx.brain`` and acts on the decision.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from agents.context import RunContext

Trigger = Literal["schedule", "event", "handoff"]
Queue = Literal["crm", "sales", "delivery", "system", "llm"]
BrainKind = Literal["rules", "llm"]

QUEUES: frozenset[str] = frozenset({"crm", "sales", "delivery", "system", "llm"})
TRIGGERS: frozenset[str] = frozenset({"schedule", "event", "handoff"})

InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)
DecisionT = TypeVar("DecisionT", bound=BaseModel)


class Empty(BaseModel):
    """Input of agents that need none (most scheduled agents)."""


class Agent(Generic[InputT, OutputT]):
    name: ClassVar[str]
    category: ClassVar[str]
    # The agent's usual trigger(s); schedule agents may also be started by hand or by a handoff.
    trigger: ClassVar[Trigger | tuple[Trigger, ...]]
    queue: ClassVar[Queue] = "system"
    brain: ClassVar[BrainKind] = "rules"
    Input: ClassVar[type[BaseModel]] = Empty
    Output: ClassVar[type[BaseModel]] = Empty
    # An interval in seconds (int or timedelta) or a five-field crontab string ("0 6 * * *");
    # synced to django-celery-beat by ``manage.py sync_schedules``.
    schedule: ClassVar[int | dt.timedelta | str | None] = None
    max_attempts: ClassVar[int] = 3
    priority: ClassVar[int] = 5
    # The run's database writes and handoffs commit together or not at all. Agents that perform
    # external side effects (ctx.act) set this False: an outbox intent must commit before it acts.
    atomic: ClassVar[bool] = True
    # Celery's hard time limit for one attempt (the soft limit, a little earlier, fails it as transient).
    time_limit: ClassVar[int] = 600
    # Seconds a worker may hold the run before the sweeper considers it lost: past the hard limit,
    # so a slow but live attempt is never taken over.
    lease_seconds: ClassVar[int] = 900

    @classmethod
    def check_declaration(cls) -> None:
        """Fail at import time, not at 3 a.m., when a declaration is incomplete."""
        for attr in ("name", "category", "trigger"):
            if not getattr(cls, attr, None):
                raise TypeError(f"{cls.__qualname__} must declare {attr!r}")
        if cls.queue not in QUEUES:
            raise TypeError(f"{cls.__qualname__}.queue must be one of {sorted(QUEUES)}")
        triggers = cls.trigger if isinstance(cls.trigger, tuple) else (cls.trigger,)
        if not set(triggers) <= TRIGGERS:
            raise TypeError(f"{cls.__qualname__}.trigger must be among {sorted(TRIGGERS)}")
        if cls.lease_seconds <= cls.time_limit:
            raise TypeError(f"{cls.__qualname__}.lease_seconds must exceed its time_limit")
        if not (issubclass(cls.Input, BaseModel) and issubclass(cls.Output, BaseModel)):
            raise TypeError(f"{cls.__qualname__}.Input and .Output must be pydantic models")

    def run(self, ctx: RunContext, data: Any) -> BaseModel:
        raise NotImplementedError


class LLMAgent(Agent[InputT, OutputT], Generic[InputT, OutputT, DecisionT]):
    brain: ClassVar[BrainKind] = "llm"
    queue: ClassVar[Queue] = "llm"
    system_prompt: ClassVar[str]
    # The schema the model answers in (a forced tool call's input); defaults to Output.
    Decision: ClassVar[type[BaseModel]]
    tool_name: ClassVar[str] = "answer"
    tool_description: ClassVar[str] = "Give the answer in this exact structure."
    max_tokens: ClassVar[int] = 1024
    model: ClassVar[str] = ""  # blank: settings.ANTHROPIC_MODEL
    # Bulk agents: queued runs are answered through the Message Batches API by a beat task.
    batch: ClassVar[bool] = False
    # Answer with the heuristic when the model is unreachable after the SDK's retries.
    degrade_when_down: ClassVar[bool] = True

    @classmethod
    def check_declaration(cls) -> None:
        super().check_declaration()
        if not getattr(cls, "system_prompt", ""):
            raise TypeError(f"{cls.__qualname__} must declare a system_prompt")
        if not hasattr(cls, "Decision"):
            cls.Decision = cls.Output
        if cls.heuristic is LLMAgent.heuristic:
            raise TypeError(f"{cls.__qualname__} must implement heuristic(): the offline and degraded answer")

    def prompt(self, ctx: RunContext, data: InputT) -> str:
        """The user message; the default is the input as JSON."""
        return data.model_dump_json(indent=1)

    def heuristic(self, ctx: RunContext, data: InputT) -> DecisionT:
        """A deterministic answer of the Decision schema, used without a model or over budget."""
        raise NotImplementedError

    def decide(self, ctx: RunContext, data: InputT) -> DecisionT:
        decision: DecisionT = ctx.brain.decide(data)  # type: ignore[assignment]
        return decision

    def act_on(self, ctx: RunContext, data: InputT, decision: DecisionT) -> OutputT:
        """Turn the decision into effects and the output; the default returns the decision."""
        return self.Output.model_validate(decision.model_dump())  # type: ignore[return-value]

    def run(self, ctx: RunContext, data: Any) -> BaseModel:
        return self.act_on(ctx, data, self.decide(ctx, data))
