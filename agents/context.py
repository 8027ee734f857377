"""RunContext: everything an agent's ``run()`` may use, bound to one run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import MutableMapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.conf import settings
from pydantic import BaseModel

from agents import outbox, registry
from agents.brains import get_brain
from agents.brains.pricing import Usage
from agents.errors import BrainOutputInvalid, EscalateRun, PauseRun, TransientError
from agents.models import AgentRun, Escalation
from agents.services.budgets import exceeded_budget
from agents.services.escalations import raise_escalation
from agents.services.runs import payload_hash, start_run
from smarter_team import clock

if TYPE_CHECKING:
    from agents.base import Agent

logger = logging.getLogger("agents.run")

# Kinds of escalation that stop the run until a human decides, unless the agent says otherwise.
WAITING_KINDS = frozenset({Escalation.Kind.APPROVAL, Escalation.Kind.POLICY})


class RunLogger(logging.LoggerAdapter):
    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        kwargs.setdefault("extra", {}).update(extra)
        return f"[{extra.get('agent')} #{extra.get('run_id')}] {msg}", kwargs


class Roles:
    """Integration roles by name (``ctx.roles.outreach``), resolved on first use."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._cache:
            from integrations.roles import get_role  # the integrations app may load after agents

            self._cache[name] = get_role(name)
        return self._cache[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)


class BrainHandle:
    """``ctx.brain``: the configured brain behind the budget check every call goes through."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.name: str = settings.BRAIN_DEFAULT

    def decide(self, data: BaseModel) -> BaseModel:
        from agents.base import LLMAgent

        ctx = self._ctx
        agent = ctx.agent
        if not isinstance(agent, LLMAgent):
            raise TypeError(f"{agent.name} is a rules agent: it has no brain to ask")
        name = self._within_budget(settings.BRAIN_DEFAULT)
        try:
            result = get_brain(name).decide(agent=agent, ctx=ctx, data=data)
        except TransientError as exc:
            if name != "anthropic" or not agent.degrade_when_down:
                raise
            # The model is down after the SDK's own retries: the heuristic keeps the agency working.
            ctx.log.warning("anthropic unavailable (%s); answering with the heuristic", exc)
            name = "heuristic"
            result = get_brain(name).decide(agent=agent, ctx=ctx, data=data)
        except BrainOutputInvalid as exc:
            ctx.record_usage(getattr(exc, "usage", None) or Usage(), brain=name)
            raise
        ctx.record_usage(result.usage, brain=name)
        return result.decision

    def _within_budget(self, name: str) -> str:
        if name == "heuristic":
            return name  # free
        ctx = self._ctx
        exceeded = exceeded_budget(run=ctx.run, unsaved_cost=ctx.usage.cost)
        if exceeded is None:
            return name
        approval = ctx.approval
        if approval is not None and approval.kind == Escalation.Kind.BUDGET:
            return name  # an operator approved going over for this run
        if exceeded.on_exceed == "degrade":
            ctx.log.info("%s: answering with the heuristic", exceeded.reason)
            self.name = "heuristic"
            return "heuristic"
        if exceeded.on_exceed == "pause":
            raise PauseRun(exceeded.reason, until=exceeded.period_end)
        raise EscalateRun(
            Escalation.Kind.BUDGET,
            exceeded.reason,
            payload={"budget": exceeded.budget.pk, "spent": str(exceeded.spent), "limit": str(exceeded.budget.limit)},
            dedupe_key=f"budget:run:{ctx.run.pk}",
        )


class RunContext:
    def __init__(self, *, run: AgentRun, agent: Agent[Any, Any], prompt_rules: list[str] | None = None) -> None:
        self.run = run
        self.agent = agent
        self.prompt_rules: list[str] = list(prompt_rules or [])
        self.usage = Usage()
        self.brains_used: list[str] = []
        self.waiting_on: Escalation | None = None
        self.log = RunLogger(logger, {"run_id": run.pk, "agent": agent.name, "correlation_id": str(run.correlation_id)})
        self.roles = Roles()
        self.brain = BrainHandle(self)

    def now(self) -> dt.datetime:
        return clock.now()

    @cached_property
    def approval(self) -> Escalation | None:
        """The latest approved escalation of this run: the human's go-ahead after a wait."""
        if self.run.attempts <= 1:
            # Escalations are decided between attempts; a first attempt cannot have one.
            return None
        return (
            Escalation.objects.filter(run=self.run, status=Escalation.Status.APPROVED).order_by("-decided_at").first()
        )

    def record_usage(self, usage: Usage, *, brain: str) -> None:
        self.usage.add(usage)
        if brain not in self.brains_used:
            self.brains_used.append(brain)

    def act(self, kind: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Perform an external side effect once per (kind, key), even across retries and crashes."""
        return outbox.act(run=self.run, kind=kind, key=key, payload=payload)

    def handoff(self, agent_name: str, payload: dict[str, Any], *, delay: dt.timedelta | None = None) -> AgentRun:
        """Start ``agent_name`` as a child run (idempotent per parent and payload), guarding against loops."""
        data = registry.get(agent_name).Input.model_validate(payload).model_dump(mode="json")
        digest = payload_hash(data)
        key = f"handoff:{self.run.pk}:{agent_name}:{digest[:40]}"
        same = list(
            AgentRun.objects.filter(
                correlation_id=self.run.correlation_id, agent_name=agent_name, payload_hash=digest
            ).order_by("pk")[:2]
        )
        mine = next((r for r in same if r.idempotency_key == key), None)
        if mine is not None:
            return mine  # this run was retried and had already handed off
        self._guard_loop(agent_name, digest, seen=bool(same))
        return start_run(
            agent_name=agent_name,
            input=data,
            trigger=AgentRun.Trigger.HANDOFF,
            idempotency_key=key,
            parent=self.run,
            due_at=clock.now() + delay if delay else None,
        )

    def _guard_loop(self, agent_name: str, digest: str, *, seen: bool) -> None:
        depth = self.run.depth + 1
        max_depth = int(getattr(settings, "AGENT_MAX_DEPTH", 12))
        if depth > max_depth:
            reason = f"handoff to {agent_name} would reach depth {depth} (max {max_depth})"
        elif seen:
            reason = f"{agent_name} was already started with the same input in this chain"
        else:
            return
        approval = self.approval
        if approval is not None and approval.kind == Escalation.Kind.LOOP:
            return  # an operator looked at the chain and let it continue
        raise EscalateRun(
            Escalation.Kind.LOOP,
            f"loop guard: {reason}",
            payload={"agent": agent_name, "payload_hash": digest, "depth": depth},
            dedupe_key=f"loop:{self.run.correlation_id}:{agent_name}:{digest[:40]}",
        )

    def escalate(
        self,
        kind: str,
        reason: str,
        payload: dict[str, Any] | None = None,
        *,
        group: str = "operator",
        wait: bool | None = None,
        dedupe_key: str = "",
    ) -> Escalation:
        """Ask a human. Approval and policy escalations stop the run until decided (``wait``);
        the decision re-queues it (``ctx.approval`` is then set) or cancels it."""
        escalation = raise_escalation(
            kind=kind, reason=reason, payload=payload, run=self.run, group=group, dedupe_key=dedupe_key
        )
        if wait if wait is not None else kind in WAITING_KINDS:
            self.waiting_on = escalation
        return escalation
