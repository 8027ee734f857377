"""What an agent is: a named class with typed input, facts and output, a trigger, a queue and a brain.

Every agent works in phases with fixed transaction rules (ARCHITECTURE.md, "The life of a piece of
work"); the runtime (agents/runtime.py) runs them, the agent writes only its own decisions:

- ``load(ctx, data) -> facts``: reads what the agent needs, once, outside any transaction (provider
  reads too, cached through ``ctx.cached``). The prompt, the heuristic, the learned rules (by field
  path: ``lead.company.domain``) and ``act`` all see these facts. A row that no longer exists ends
  the run skipped, with the reason.
- ``decide`` (LLM agents only): the brain's answer in the ``Decision`` schema. No database
  transaction is open during a model call.
- ``act``: the domain writes (``ctx.update``, services), handoffs (``ctx.handoff``), outbox intents
  (``ctx.act``) and the run's outcome commit in ONE transaction. Intents are performed after commit.

A rules agent (``Agent``) implements ``load`` and ``act(ctx, facts)``; an LLM agent (``LLMAgent``)
also declares a system prompt, ``prompt(ctx, facts)``, a real ``heuristic(ctx, facts)`` and
``act(ctx, facts, decision)``.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import textwrap
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

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

# What only the act phase may do: write, hand off, record an outbox intent.
ACT_ONLY = frozenset({"act", "update", "handoff", "escalate", "lock"})
# The phases that must not: they run outside the act's transaction.
READ_PHASES = ("load", "fetch", "prompt", "heuristic", "decide")


class Empty(BaseModel):
    """Input of agents that need none (most scheduled agents)."""


class Facts(BaseModel):
    """Base of an agent's facts: what ``load`` read, once. Fields may hold model instances
    (``lead: Lead``); learned-rule conditions reach their fields by path (``lead.company.domain``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=False)


class DeclarationError(TypeError):
    """An agent's declaration breaks a rule of the kit; the message says what to change."""


class AgentBase:
    """Declarations and checks shared by rules and LLM agents (subclass ``Agent`` or ``LLMAgent``)."""

    name: ClassVar[str]
    category: ClassVar[str]
    # The agent's usual trigger(s); schedule agents may also be started by hand or by a handoff.
    trigger: ClassVar[Trigger | tuple[Trigger, ...]]
    queue: ClassVar[Queue] = "system"
    brain: ClassVar[BrainKind] = "rules"
    Input: ClassVar[type[BaseModel]] = Empty
    # What ``load`` returns; by default the input itself (an agent that needs nothing more).
    Facts: ClassVar[type[Any] | None] = None
    Output: ClassVar[type[BaseModel]] = Empty
    # The agents this one may hand off to (AGENTS.md "next"); ctx.handoff refuses any other, and
    # ``manage.py check`` fails on a name that is neither registered nor planned.
    next: ClassVar[tuple[str, ...]] = ()
    # An interval in seconds (int or timedelta) or a five-field crontab string ("0 6 * * *");
    # synced to django-celery-beat by ``manage.py sync_schedules``; ticks follow business time.
    schedule: ClassVar[int | dt.timedelta | str | None] = None
    # Which clock the schedule follows: business time (the default: due work, reports, the
    # agency's day) or wall time, for upkeep of the machinery itself (replaying lost webhooks,
    # health checks), which must not run 60 times as often when the demo runs 60 times as fast.
    schedule_clock: ClassVar[Literal["business", "wall"]] = "business"
    # An agent that only watches what the others do (errors, health, costs, escalations) finds
    # nothing new while the whole agency is idle: the demo's skip ahead need not stop at its ticks.
    idle_finds_nothing: ClassVar[bool] = False
    max_attempts: ClassVar[int] = 3
    priority: ClassVar[int] = 5
    # Celery's hard time limit for one attempt (the soft limit, a little earlier, fails it as transient).
    time_limit: ClassVar[int] = 600
    # Wall-clock seconds a worker may hold the run before the sweeper considers it lost: past the
    # hard limit, so a slow but live attempt is never taken over.
    lease_seconds: ClassVar[int] = 900

    @classmethod
    def next_work_at(cls, now: dt.datetime) -> dt.datetime | Literal["every tick"] | None:
        """For the demo's skip ahead when idle (agents/clockwork.py): the earliest business time
        after ``now`` at which a tick of this agent could find new work, or None when only other
        work (a run, a webhook, a sandbox event) can bring it some.

        The default, "every tick", makes the skip stop at each of the agent's ticks. A poller every
        five minutes would stop it 288 times a business day, so the pollers say when their next item
        falls due. Work already due is not the hint's business: every skip passes a frequent
        agent's tick, so it runs again right after the skip. Ticks are never dropped by a hint.
        """
        return None if cls.idle_finds_nothing else "every tick"

    @classmethod
    def facts_type(cls) -> type[Any]:
        return cls.Facts or cls.Input

    @classmethod
    def check_declaration(cls) -> None:
        """Fail at import time, not at 3 a.m., when a declaration is incomplete."""
        where = cls.__qualname__
        for attr in ("name", "category", "trigger"):
            if not getattr(cls, attr, None):
                raise DeclarationError(f"{where} must declare {attr!r}")
        if cls.queue not in QUEUES:
            raise DeclarationError(f"{where}.queue must be one of {sorted(QUEUES)}")
        triggers = cls.trigger if isinstance(cls.trigger, tuple) else (cls.trigger,)
        if not set(triggers) <= TRIGGERS:
            raise DeclarationError(f"{where}.trigger must be among {sorted(TRIGGERS)}")
        if cls.lease_seconds <= cls.time_limit:
            raise DeclarationError(f"{where}.lease_seconds must exceed its time_limit")
        if not (issubclass(cls.Input, BaseModel) and issubclass(cls.Output, BaseModel)):
            raise DeclarationError(f"{where}.Input and .Output must be pydantic models")
        if not isinstance(cls.next, tuple) or not all(isinstance(n, str) and n for n in cls.next):
            raise DeclarationError(f'{where}.next must be a tuple of agent names, e.g. next = ("lead_scoring",)')
        if cls.Facts is not None and not isinstance(cls.Facts, type):
            raise DeclarationError(f"{where}.Facts must be a class (a Facts model, or the Input)")
        if "run" in cls.__dict__:
            raise DeclarationError(
                f"{where} defines run(): agents work in phases now. Move reads into load(ctx, data) and "
                "writes, handoffs and acts into act(...) (see agents/README.md)"
            )
        _check_phases(cls)

    def load(self, ctx: RunContext, data: Any) -> Any:
        """Read what the agent needs once (no writes: they belong to ``act``). Default: the input."""
        return data

    def fetch(self, ctx: RunContext, facts: Any) -> Any:
        """Optional: the provider reads (a paid lookup, a search), after the learned guards.

        ``load`` reads our rows; the guards then test the rules over them (``lead.company.domain``);
        only a run they let through reaches ``fetch``, so a rule learned from a provider's rejections
        stops the next call before it is paid for, and a failure here is recorded with the loaded
        facts it can be learned from. No transaction is open. Returns the facts, completed.
        """
        return facts


class Agent(AgentBase, Generic[InputT, OutputT]):
    """A rules agent: ``load`` then ``act``, deciding in code inside the act's transaction."""

    def act(self, ctx: RunContext, facts: Any) -> BaseModel:
        raise NotImplementedError

    @classmethod
    def check_declaration(cls) -> None:
        super().check_declaration()
        if cls.act is Agent.act:
            raise DeclarationError(f"{cls.__qualname__} must implement act(ctx, facts) -> Output")


class LLMAgent(AgentBase, Generic[InputT, OutputT, DecisionT]):
    """An LLM agent: ``load``, ``decide`` (the brain, outside any transaction), then ``act``."""

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
        where = cls.__qualname__
        if not getattr(cls, "system_prompt", ""):
            raise DeclarationError(f"{where} must declare a system_prompt")
        if not hasattr(cls, "Decision"):
            cls.Decision = cls.Output
        if cls.heuristic is LLMAgent.heuristic:
            raise DeclarationError(f"{where} must implement heuristic(ctx, facts): the offline and degraded answer")
        facts = cls.facts_type()
        if cls.prompt is LLMAgent.prompt and cls.decide is LLMAgent.decide and not _plain_model(facts):
            raise DeclarationError(
                f"{where} must implement prompt(ctx, facts): its facts ({facts.__name__}) hold more than JSON"
            )

    def prompt(self, ctx: RunContext, facts: Any) -> str:
        """The user message (only the per-item part varies: the prefix is cached). Default: the facts as JSON."""
        return facts.model_dump_json(indent=1) if isinstance(facts, BaseModel) else str(facts)

    def heuristic(self, ctx: RunContext, facts: Any) -> BaseModel:
        """A deterministic answer of the Decision schema, used without a model or over budget."""
        raise NotImplementedError

    def decide(self, ctx: RunContext, facts: Any) -> BaseModel:
        """The brain's answer. Override to ask several questions (each ``ctx.brain.decide(subject)``)."""
        return ctx.brain.decide(facts)

    def act(self, ctx: RunContext, facts: Any, decision: Any) -> BaseModel:
        """Turn the decision into effects and the output; the default returns the decision as output."""
        return self.Output.model_validate(decision.model_dump())


def _plain_model(cls: type[Any]) -> bool:
    """A pydantic model that serialises to JSON by itself (no model instances inside)."""
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return False
    return not cls.model_config.get("arbitrary_types_allowed", False)


def _check_phases(cls: type[AgentBase]) -> None:
    """Refuse, at import, a read phase that writes: ``ctx.act``/``update``/``handoff``/``escalate``
    in load, prompt, heuristic or decide would run outside the act's transaction."""
    for phase in READ_PHASES:
        method = cls.__dict__.get(phase)
        if method is None:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
        except (OSError, TypeError, SyntaxError):
            continue  # no source (a REPL, a C function): nothing to read
        func = tree.body[0]
        if not isinstance(func, ast.FunctionDef) or len(func.args.args) < 2:
            continue
        ctx_name = func.args.args[1].arg
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ACT_ONLY
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == ctx_name
            ):
                raise DeclarationError(
                    f"{cls.__qualname__}.{phase}() calls {ctx_name}.{node.func.attr}(): only act() may write, "
                    f"hand off or record an act (it commits them with the run's outcome). Return what you "
                    f"found as facts or as the decision, and do {node.func.attr}() in act()."
                )
