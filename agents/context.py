"""RunContext: everything an agent may use, bound to one run and to the phase it is in.

Reads (``cached``, ``roles``, ``brain``, ``require_approval``) work in every phase; writes
(``update``, ``act``, ``handoff``, ``escalate``) only in ``act``, where they commit with the run's
outcome in one transaction. Loading rows, transactions, audit diffs, approvals, idempotency,
retries, budgets and logging live here and in the runtime, so an agent file holds only its decisions.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, MutableMapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models
from pydantic import BaseModel, ValidationError

from agents import outbox, registry, roster
from agents.brains import get_brain
from agents.brains.pricing import Usage
from agents.errors import (
    BrainOutputInvalid,
    EscalateRun,
    ModelCallInTransaction,
    PauseRun,
    PhaseError,
    SkipRun,
    TransientError,
    UndeclaredHandoff,
)
from agents.models import Action, AgentRun, Escalation, LookupCache
from agents.services.audit import record_change
from agents.services.budgets import exceeded_budget
from agents.services.escalations import raise_escalation
from agents.services.runs import payload_hash, start_run
from smarter_team import clock
from smarter_team.db import in_real_transaction

if TYPE_CHECKING:
    from agents.base import AgentBase
    from integrations import roles as role_types

logger = logging.getLogger("agents.run")

# Kinds of escalation that stop the run until a human decides, unless the agent says otherwise.
WAITING_KINDS = frozenset({Escalation.Kind.APPROVAL, Escalation.Kind.POLICY})
M = TypeVar("M", bound=BaseModel)
MT = TypeVar("MT", bound=models.Model)


class RunLogger(logging.LoggerAdapter):
    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        kwargs.setdefault("extra", {}).update(extra)
        return f"[{extra.get('agent')} #{extra.get('run_id')}] {msg}", kwargs


class Roles:
    """Integration roles (``ctx.roles.outreach``), typed with their Protocols, resolved on first use."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._cache:
            from integrations.roles import get_role  # the integrations app may load after agents

            self._cache[name] = get_role(name)
        return self._cache[name]

    @property
    def lead_source(self) -> role_types.LeadSource:
        return self.get("lead_source")

    @property
    def email_finder(self) -> role_types.EmailFinder:
        return self.get("email_finder")

    @property
    def email_verifier(self) -> role_types.EmailVerifier:
        return self.get("email_verifier")

    @property
    def outreach(self) -> role_types.Outreach:
        return self.get("outreach")

    @property
    def calendar(self) -> role_types.Calendar:
        return self.get("calendar")

    @property
    def recorder(self) -> role_types.Recorder:
        return self.get("recorder")

    @property
    def documents(self) -> role_types.Documents:
        return self.get("documents")

    @property
    def payments(self) -> role_types.Payments:
        return self.get("payments")

    @property
    def accounting(self) -> role_types.Accounting:
        return self.get("accounting")

    @property
    def project_tool(self) -> role_types.ProjectTool:
        return self.get("project_tool")

    @property
    def web_research(self) -> role_types.WebResearch:
        return self.get("web_research")

    @property
    def vector_store(self) -> role_types.VectorStore:
        return self.get("vector_store")

    @property
    def memory(self) -> role_types.Memory:
        return self.get("memory")

    @property
    def voice(self) -> role_types.Voice:
        return self.get("voice")


class BrainHandle:
    """``ctx.brain``: the configured brain behind the budget check every call goes through."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.name: str = settings.BRAIN_DEFAULT

    def decide(self, subject: Any) -> Any:
        """Ask the brain about ``subject`` (the facts, or one question of several); the agent's
        ``prompt`` and ``heuristic`` receive it. Never inside a transaction."""
        from agents.base import LLMAgent

        ctx = self._ctx
        agent = ctx.agent
        if not isinstance(agent, LLMAgent):
            raise TypeError(f"{agent.name} is a rules agent: it has no brain to ask")
        if in_real_transaction():
            # With SQLite's immediate transactions this would block every other writer for the
            # length of the call; on PostgreSQL it holds row locks as long.
            raise ModelCallInTransaction(
                f"{agent.name} asked its brain inside a database transaction: ask in decide(), "
                "which the runtime calls between load and act with no transaction open"
            )
        name = self._within_budget(settings.BRAIN_DEFAULT)
        try:
            result = get_brain(name).decide(agent=agent, ctx=ctx, data=subject)
        except TransientError as exc:
            if name != "anthropic" or not agent.degrade_when_down:
                raise
            # The model is down after the SDK's own retries: the heuristic keeps the agency working.
            ctx.log.warning("anthropic unavailable (%s); answering with the heuristic", exc)
            name = "heuristic"
            result = get_brain(name).decide(agent=agent, ctx=ctx, data=subject)
        except BrainOutputInvalid as exc:
            ctx.record_usage(getattr(exc, "usage", None) or Usage(), brain=name)
            raise
        ctx.record_usage(result.usage, brain=name)
        return result.decision

    def decide_checked(
        self, subject: Any, *, check: Callable[[Any], str | None], fallback: Callable[[], Any] | None = None
    ) -> Any:
        """The brain's answer about ``subject`` if it is valid and passes ``check`` (None: fine; text:
        what is wrong, e.g. a claim no fetched source supports); otherwise ``fallback()``, by default
        the agent's heuristic for the same subject. The log says why the answer was replaced."""
        from agents.base import LLMAgent

        agent = self._ctx.agent
        assert isinstance(agent, LLMAgent)

        def heuristic() -> Any:
            return fallback() if fallback is not None else agent.heuristic(self._ctx, subject)

        try:
            decision = self.decide(subject)
        except (BrainOutputInvalid, ValidationError) as exc:
            self._ctx.log.warning(
                "the brain's answer was unusable (%s); answering with the heuristic", type(exc).__name__
            )
            return heuristic()
        problem = check(decision)
        if problem is None:
            return decision
        self._ctx.log.warning("the brain's answer failed the check (%s); answering with the heuristic", problem)
        return heuristic()

    def _within_budget(self, name: str) -> str:
        if name == "heuristic":
            return name  # free
        ctx = self._ctx
        exceeded = exceeded_budget(run=ctx.run, unsaved_cost=ctx.usage.cost)
        if exceeded is None:
            return name
        if ctx.approved(Escalation.Kind.BUDGET) is not None:
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
    def __init__(self, *, run: AgentRun, agent: AgentBase, prompt_rules: list[str] | None = None) -> None:
        self.run = run
        self.agent = agent
        self.phase = "load"
        self.facts: Any = None
        self.prompt_rules: list[str] = list(prompt_rules or [])
        self.usage = Usage()
        self.brains_used: list[str] = []
        self.waiting_on: Escalation | None = None
        self.recorded_actions: list[Action] = []
        self.log = RunLogger(logger, {"run_id": run.pk, "agent": agent.name, "correlation_id": str(run.correlation_id)})
        self.roles = Roles()
        self.brain = BrainHandle(self)

    def now(self) -> dt.datetime:
        """Business time (the project clock)."""
        return clock.now()

    def record_usage(self, usage: Usage, *, brain: str) -> None:
        self.usage.add(usage)
        if brain not in self.brains_used:
            self.brains_used.append(brain)

    # --- approvals ------------------------------------------------------------------------------

    @cached_property
    def _approved_kinds(self) -> dict[str, Escalation]:
        if self.run.attempts <= 1 or self.run.pk is None:
            return {}  # escalations are decided between attempts: a first attempt has none
        found: dict[str, Escalation] = {}
        for escalation in Escalation.objects.filter(run=self.run, status=Escalation.Status.APPROVED).order_by(
            "decided_at"
        ):
            found[escalation.kind] = escalation
        return found

    def approved(self, kind: str) -> Escalation | None:
        """This run's approved escalation of ``kind`` (budget, loop, policy): an operator's go-ahead
        for exactly that. Approving one kind never passes another."""
        return self._approved_kinds.get(kind)

    def require_approval(
        self, key: str, reason: str, payload: dict[str, Any] | None = None, *, group: str = "operator"
    ) -> Escalation:
        """Continue only once an operator approved ``key`` (a business decision identified by the
        domain: ``icp:3:change:<hash>``, ``campaign:12:first-batch``). Otherwise escalate and wait;
        every run that asks for the same key waits on the same escalation and resumes with it.
        A rejection ends the run skipped with the operator's note."""
        full_key = f"approval:{key}"[:200]
        latest = Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, dedupe_key=full_key).order_by("-pk").first()
        if latest is not None and latest.status == Escalation.Status.APPROVED:
            return latest
        if latest is not None and latest.status == Escalation.Status.REJECTED:
            note = f": {latest.decision_note}" if latest.decision_note else ""
            raise SkipRun(f"an operator rejected {key}{note}")
        raise EscalateRun(
            Escalation.Kind.APPROVAL, reason, payload=payload or {}, dedupe_key=full_key, group=group, wait=True
        )

    # --- the act phase: writes, acts, handoffs --------------------------------------------------

    def _in_act(self, what: str) -> None:
        if self.phase != "act":
            raise PhaseError(
                f"ctx.{what}() in {self.agent.name}'s {self.phase} phase: only act() may {what}, so that it "
                "commits with the run's outcome (a worker dying in between leaves nothing half-done)"
            )

    def lock(self, obj: MT) -> MT:
        """Re-read ``obj`` under a row lock in the act's transaction (facts were read without one):
        decide on current values, and no concurrent writer slips in between. Gone: the run is skipped."""
        self._in_act("lock")
        obj.refresh_from_db(from_queryset=type(obj)._default_manager.select_for_update(of=("self",)))
        return obj

    def update(
        self, obj: models.Model, *, action: str, note: dict[str, Any] | None = None, **changes: Any
    ) -> list[str]:
        """Set fields, save only those that changed (``update_fields``) and record the AuditLog diff,
        in the act's transaction. Returns the changed field names (empty: nothing written).
        ``note`` adds context to the audit entry (``{"absorbed": 12}``) and records it even when no
        field changed."""
        self._in_act("update")
        before: dict[str, Any] = {}
        names: list[str] = []
        for name, value in changes.items():
            field = obj._meta.get_field(name)
            attname = getattr(field, "attname", name)
            current = getattr(obj, attname)
            new = value.pk if isinstance(value, models.Model) and attname != name else value
            if current != new:
                before[name] = current
                names.append(field.name)
                setattr(obj, attname, new)
        if not before and not note:
            return []
        if names:
            obj.save(update_fields=names)
        after = {name: getattr(obj, getattr(obj._meta.get_field(name), "attname", name)) for name in before}
        record_change(
            action=action, target=obj, before=_jsonable(before), after=_jsonable(after) | (note or {}), run=self.run
        )
        return list(before)

    def act(self, kind: str, key: str, payload: BaseModel | dict[str, Any]) -> Action:
        """Record an external side effect, performed after the act commits, once per (kind, key).

        ``key`` comes from domain identity (``enrollment:42:step:2``), never from a run id, so a
        second run for the same business action cannot act twice. ``payload`` is the kind's typed
        payload (agents/outbox.py ``register_performer``).
        """
        self._in_act("act")
        action = outbox.record(run=self.run, kind=kind, key=key, payload=payload)
        if action.status == Action.Status.PENDING:
            self.recorded_actions.append(action)
        return action

    def handoff(
        self, agent_name: str, payload: dict[str, Any], *, delay: dt.timedelta | None = None
    ) -> AgentRun | None:
        """Start ``agent_name`` (declared in ``next``) as a child run, idempotent per parent and
        payload, with the loop guard. A declared agent that is planned but not built yet is noted
        in the log and skipped (None), so a chain works while the roster grows."""
        self._in_act("handoff")
        if agent_name not in self.agent.next:
            raise UndeclaredHandoff(
                f"{self.agent.name} hands off to {agent_name!r}, which it does not declare: "
                f"add it to {type(self.agent).__name__}.next"
            )
        if not registry.is_registered(agent_name) and agent_name in roster.PLANNED:
            self.log.info("handoff to %s skipped: planned, not built yet", agent_name)
            return None
        data = registry.get(agent_name).Input.model_validate(payload).model_dump(mode="json")
        digest = payload_hash(data)
        key = f"handoff:{self.run.pk}:{agent_name}:{digest[:40]}"
        # Keys only (a handoff per lead and stage: the whole row would be read for nothing).
        same = list(
            AgentRun.objects.filter(correlation_id=self.run.correlation_id, agent_name=agent_name, payload_hash=digest)
            .order_by("pk")
            .values_list("pk", "idempotency_key")[:2]
        )
        mine = next((pk for pk, idempotency_key in same if idempotency_key == key), None)
        if mine is not None:
            return AgentRun.objects.get(pk=mine)  # this run was retried and had already handed off
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
        if self.approved(Escalation.Kind.LOOP) is not None:
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
        subject: models.Model | None = None,
    ) -> Escalation:
        """Tell a human (an alert, a breach, a risk), in the act's transaction. Approval and policy
        escalations stop the run until decided (``wait``); to wait for a go-ahead before doing
        something, use ``require_approval``."""
        self._in_act("escalate")
        escalation = raise_escalation(
            kind=kind, reason=reason, payload=payload, run=self.run, group=group, dedupe_key=dedupe_key, subject=subject
        )
        if wait if wait is not None else kind in WAITING_KINDS:
            self.waiting_on = escalation
        return escalation

    # --- paid reads -----------------------------------------------------------------------------

    def cached(self, key: str, fetch: Callable[[], M], *, model: type[M], ttl: dt.timedelta | None = None) -> M:
        """A paid provider read kept by domain identity (``email_finder:acme.com:ada:lovelace``):
        a retry, or another run about the same subject, reads the stored answer instead of paying
        again. Call it in ``load`` (outside any transaction); ``ttl`` in business time."""
        now = clock.now()
        row = LookupCache.objects.filter(key=key[:200]).first()
        if row is not None and (row.expires_at is None or row.expires_at > now):
            return model.model_validate(row.value)
        value = fetch()
        # One upsert (INSERT ... ON CONFLICT DO UPDATE): what update_or_create did in three statements
        # (a locking read, then the insert or the update) and a transaction of its own.
        row = LookupCache(
            key=key[:200], value=value.model_dump(mode="json"), created_at=now, expires_at=now + ttl if ttl else None
        )
        LookupCache.objects.bulk_create(
            [row], update_conflicts=True, unique_fields=["key"], update_fields=["value", "created_at", "expires_at"]
        )
        return value


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Audit values as JSON: dates and decimals as text, model instances by id."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, models.Model):
            out[name] = value.pk
        elif isinstance(value, str | int | float | bool | type(None) | list | dict):
            out[name] = value
        else:
            out[name] = str(value)
    return out
