"""The runtime: claim a run, then load, guards, decide, act; record the outcome.

One attempt is: claim (row lock, attempts + 1, a wall-clock lease; its own commit) -> ``load``
(reads, no transaction) -> learned guards over input + facts -> ``fetch`` (provider reads the
guards let through) -> ``decide`` (LLM agents: the brain,
no transaction) -> ``act`` (domain writes, handoffs, outbox intents AND the outcome in one
transaction) -> the recorded acts performed after commit (agents/outbox.py). A worker that dies
anywhere leaves either nothing of the attempt or all of it; the lease brings the run back.
An interruption (pause, skip, escalation: BaseExceptions no ``except Exception`` can swallow) parks
or ends the run; a failure is logged (ErrorLog) and retried with back-off, escalated or failed, as
the error's nature and the learned rules say. Nothing is swallowed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from pydantic import BaseModel, ValidationError

from agents import outbox, registry, runtime_hooks
from agents.base import AgentBase, LLMAgent
from agents.context import RunContext
from agents.errors import EscalateRun, PauseRun, SkipRun, TransientError, UnknownAgent
from agents.models import Action, AgentRun, Escalation
from agents.services import claims
from agents.services.escalations import raise_escalation
from agents.services.runs import requeue
from smarter_team import clock
from smarter_team.context import bound_run
from smarter_team.logging import redact

logger = logging.getLogger(__name__)

USAGE_FIELDS = ("tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "cost", "brain", "model_name")
MAX_BACKOFF = dt.timedelta(hours=6)


class WorkerLost(TransientError):
    """The worker holding the run disappeared (killed, out of memory, restarted)."""


def claim(run_id: int) -> AgentRun | None:
    """Lock and take the run for this worker; None when it is gone, finished, held or not due."""
    return claims.claim(run_id)


def _agent_class(run: AgentRun) -> type[AgentBase] | None:
    try:
        return registry.get(run.agent_name)
    except UnknownAgent:
        return None


def execute(run_id: int) -> AgentRun | None:
    """One attempt of a run (the body of the ``agents.run`` task). None when nothing was done."""
    run = claim(run_id)
    if run is None:
        return None
    with bound_run(run.pk, run.agent_name):
        perform(run)
    return run


def perform(run: AgentRun) -> None:
    """Work a claimed run to an outcome: load, guards, decide, act (ARCHITECTURE.md)."""
    agent_cls = _agent_class(run)
    if agent_cls is None:
        fail(run, UnknownAgent(f"no agent registered as {run.agent_name!r}"), ctx=None)
        return
    agent = agent_cls()
    try:
        data = agent_cls.Input.model_validate(run.input)
    except ValidationError as exc:
        fail(run, exc, ctx=None, step="input")
        return
    ctx = RunContext(run=run, agent=agent)
    try:
        _work(run, agent, ctx, data)
    except PauseRun as pause:
        _pause(run, ctx, pause)
    except SkipRun as skip:
        _skip(run, reason=skip.reason, also=_apply_usage(run, ctx))
    except EscalateRun as escalation:
        _escalate(
            run,
            kind=escalation.kind,
            reason=escalation.reason,
            payload=escalation.payload,
            dedupe_key=escalation.dedupe_key,
            group=escalation.group,
            also=_apply_usage(run, ctx),
        )
    except _GuardsFailed as exc:  # the guards could not be checked: not a reason to run unguarded
        fail(run, exc.__cause__ or exc, ctx=ctx, step="guards")
    except Exception as exc:  # every failure gets its row and its outcome
        fail(run, exc, ctx=ctx)
    else:
        # After commit: the acts this attempt recorded, at once (the sweeper covers a death here).
        outcomes = outbox.perform_recorded(ctx.recorded_actions)
        if any(outcome != Action.Status.DONE for outcome in outcomes or ()):
            # An act that did not go through may have failed or escalated the run from its own
            # row (outbox._fail_run): the caller gets the run as it now stands, not as it left act.
            run.refresh_from_db()


class _GuardsFailed(Exception):
    pass


def _work(run: AgentRun, agent: AgentBase, ctx: RunContext, data: BaseModel) -> None:
    from learning import hooks

    # 1. load: reads only, no transaction of ours (provider reads may be slow).
    ctx.phase = "load"
    with _gone_is_skip():
        facts = agent.load(ctx, data)
    _check_facts(agent, facts)
    ctx.facts = facts
    runtime_hooks.boundary("after_load")
    # 2. guards: the learned rules, over the input and the facts.
    try:
        verdict = hooks.before_run(run=run, data=run.input, facts=facts)
    except Exception as exc:
        raise _GuardsFailed(str(exc)) from exc
    ctx.prompt_rules = verdict.prompt_rules
    if verdict.blocked:
        if verdict.effect == "block" and ctx.approved(Escalation.Kind.POLICY) is not None:
            ctx.log.info("blocked by learned rules, but an operator approved it: %s", verdict.reason)
        elif verdict.effect == "block":
            raise EscalateRun(Escalation.Kind.POLICY, verdict.reason, payload={"input": run.input})
        else:
            raise SkipRun(verdict.reason)
    # 2b. fetch: the provider reads the guards let through (still no transaction of ours).
    ctx.phase = "fetch"
    with _gone_is_skip():
        facts = agent.fetch(ctx, facts)
    _check_facts(agent, facts)
    ctx.facts = facts
    # 3. decide: the brain, with no transaction open (BrainHandle refuses one).
    decision = None
    if isinstance(agent, LLMAgent):
        ctx.phase = "decide"
        decision = agent.decide(ctx, facts)
        runtime_hooks.boundary("after_decide")
    # 4. act: writes, handoffs, outbox intents and the outcome, in one transaction.
    ctx.phase = "act"
    writes = _StatementCounter()
    with _gone_is_skip(), transaction.atomic():
        with connection.execute_wrapper(writes):
            result = agent.act(ctx, facts, decision) if isinstance(agent, LLMAgent) else agent.act(ctx, facts)  # type: ignore[attr-defined]
        output = _validated_output(agent, result)
        runtime_hooks.boundary("in_act")
        if writes.count:
            _succeed(run, ctx, output)
    if not writes.count:
        # Nothing was written: the outcome alone is atomic (one statement, its own commit).
        _succeed(run, ctx, output)
    ctx.phase = "done"


@contextmanager
def _gone_is_skip() -> Iterator[None]:
    """A row the run works on that no longer exists (deleted, merged away) ends it skipped, with the
    reason: not a failure to retry, log or learn from."""
    try:
        yield
    except ObjectDoesNotExist as exc:
        raise SkipRun(f"its target no longer exists ({exc})") from None


class _StatementCounter:
    """Counts the statements an act ran (an execute_wrapper): none, and the outcome needs no transaction."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _check_facts(agent: AgentBase, facts: Any) -> None:
    expected = agent.facts_type()
    if not isinstance(facts, expected):
        raise TypeError(
            f"{agent.name}.load() returned {type(facts).__name__}, not its declared Facts ({expected.__name__})"
        )


def _validated_output(agent: AgentBase, output: Any) -> BaseModel:
    if isinstance(output, agent.Output):
        return output
    return agent.Output.model_validate(output.model_dump() if isinstance(output, BaseModel) else output)


def _apply_usage(run: AgentRun, ctx: RunContext | None) -> list[str]:
    """Add the attempt's usage to the run (costs accumulate over attempts); the fields to save."""
    if ctx is None:
        return []
    usage = ctx.usage
    run.tokens_in += usage.input_tokens
    run.tokens_out += usage.output_tokens
    run.cache_read_tokens += usage.cache_read_tokens
    run.cache_write_tokens += usage.cache_write_tokens
    run.cost += usage.cost
    run.brain = "+".join(ctx.brains_used) or (run.brain or "rules")
    run.model_name = usage.model or run.model_name
    return list(USAGE_FIELDS)


def _succeed(run: AgentRun, ctx: RunContext, output: BaseModel) -> None:
    from learning import hooks

    run.output = output.model_dump(mode="json")
    run.error = ""
    run.lease_expires_at = None
    fields = ["output", "error", "lease_expires_at", *_apply_usage(run, ctx)]
    if ctx.waiting_on is not None:
        # Done for now; a human's decision re-queues or cancels it.
        run.waiting_on = ctx.waiting_on
        run.transition_to(AgentRun.Status.ESCALATED, also=[*fields, "waiting_on"])
        return
    run.finished_at = clock.now()
    run.transition_to(AgentRun.Status.SUCCEEDED, save=False)
    fields = ["status", *fields, "finished_at"]
    statement = hooks.after_run_statement(run=run, succeeded=True) if connection.vendor == "postgresql" else None
    if statement is None:
        # The outcome and what after_run writes commit together. Inside the act's transaction no
        # savepoint: a failure here rolls the act back with it (two statements a run, on SQLite).
        with transaction.atomic(savepoint=False):
            run.save(update_fields=fields)
            hooks.after_run(run=run, succeeded=True)
        return
    claims.save_with(run, fields=fields, statement=statement)


def _skip(run: AgentRun, *, reason: str, also: list[str] | tuple[str, ...] = ()) -> None:
    """End the run skipped (an expected refusal, not a failure): no ErrorLog, no retry.

    The rules applied before the work close as successes: the mistake they answer did not happen
    (left pending, they would never count in the rule's evidence).
    """
    from learning import hooks

    run.error = reason
    run.output = {"skipped": reason}
    run.finished_at = clock.now()
    run.lease_expires_at = None
    with transaction.atomic():
        run.transition_to(AgentRun.Status.SKIPPED, also=["error", "output", "finished_at", "lease_expires_at", *also])
        hooks.after_run(run=run, succeeded=True)


def _pause(run: AgentRun, ctx: RunContext, pause: PauseRun) -> None:
    ctx.log.info("paused until %s: %s", pause.until.isoformat(), pause.reason)
    run.attempts = max(run.attempts - 1, 0)  # waiting for money is not a failed attempt
    requeue(run, due_at=pause.until, error=f"paused: {pause.reason}", also=("attempts", *_apply_usage(run, ctx)))


def _escalate(
    run: AgentRun,
    *,
    kind: str,
    reason: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str = "",
    group: str = "operator",
    also: list[str] | tuple[str, ...] = (),
) -> Escalation:
    """Park the run on an escalation (a new one, or the open one with the same dedupe key: every run
    waiting on it resumes or ends with its decision)."""
    with transaction.atomic():
        escalation = raise_escalation(
            kind=kind, reason=reason, payload=payload, run=run, dedupe_key=dedupe_key, group=group
        )
        run.error = f"escalated ({kind}): {reason}"
        run.lease_expires_at = None
        run.waiting_on = escalation
        run.transition_to(AgentRun.Status.ESCALATED, also=["error", "lease_expires_at", "waiting_on", *also])
    return escalation


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError | SoftTimeLimitExceeded) or bool(getattr(exc, "transient", False))


def backoff(attempt: int, *, retry_after: float | None = None) -> dt.timedelta:
    """Exponential: base, 2x base, 4x base... capped; never sooner than the provider's Retry-After."""
    base = float(getattr(settings, "AGENT_RETRY_BASE_SECONDS", 30))
    delay = min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=max(delay, retry_after or 0))


def fail(run: AgentRun, exc: BaseException, *, ctx: RunContext | None, step: str = "run") -> None:
    """Log the failure (ErrorLog), then retry, escalate or fail the run as the plan says."""
    from learning import hooks

    transient = is_transient(exc)
    message = redact(f"{type(exc).__name__}: {exc}")[:4000]
    logger.warning("run %s of %s failed (attempt %s): %s", run.pk, run.agent_name, run.attempts, message)
    error_log = hooks.record_failure(
        run=run,
        agent_name=run.agent_name,
        exc=exc,
        step=str(getattr(exc, "step", "") or step),
        provider=str(getattr(exc, "provider", "") or ""),
        transient=transient,
        context={"attempt": run.attempts, "trigger": run.trigger, "correlation_id": str(run.correlation_id)},
        facts=ctx.facts if ctx is not None else None,
    )
    plan = hooks.on_failure(run=run, error=error_log)
    max_attempts = plan.max_attempts if plan.max_attempts is not None else run.max_attempts
    usage_fields = _apply_usage(run, ctx)
    if plan.escalate:
        reason = plan.reason or message
        _escalate(
            run,
            kind=Escalation.Kind.ERROR,
            reason=reason,
            payload={"error": message},
            group=plan.group,
            also=usage_fields,
        )
    elif (transient or plan.retry_delays) and run.attempts < max_attempts:
        if plan.retry_delays:
            delay = dt.timedelta(seconds=plan.retry_delays[min(run.attempts - 1, len(plan.retry_delays) - 1)])
        else:
            delay = backoff(run.attempts, retry_after=getattr(exc, "retry_after", None))
        # A provider's back-off is infrastructure time: it lasts its seconds on the wall at any demo speed.
        requeue(run, due_at=clock.after_wall(delay.total_seconds()), error=message, also=tuple(usage_fields))
    else:
        run.error = message
        run.finished_at = clock.now()
        run.lease_expires_at = None
        run.transition_to(AgentRun.Status.FAILED, also=["error", "finished_at", "lease_expires_at", *usage_fields])
    hooks.after_run(run=run, succeeded=False)


def recover_lost_runs(*, limit: int = 500) -> int:
    """The sweeper: runs still running past their lease lost their worker. Each loss is a
    transient failure (ErrorLog, then a retry with backoff, or failed after max attempts).
    Leases are wall-clock time: the demo's accelerated clock never expires a live worker's lease."""
    wall = clock.wall_now()
    with transaction.atomic():
        runs = list(
            AgentRun.objects.select_for_update(skip_locked=True)
            .filter(status=AgentRun.Status.RUNNING, lease_expires_at__lt=wall)
            .order_by("lease_expires_at")[:limit]
        )
        for run in runs:
            fail(run, WorkerLost(f"lease expired at {run.lease_expires_at:%Y-%m-%d %H:%M:%S}"), ctx=None, step="lease")
    return len(runs)


def fail_after_act(run: AgentRun, exc: BaseException, *, kind: str) -> None:
    """An act of the run failed for good after its decisions committed (call holding the run's
    row lock): one ErrorLog under the run's failure, then the run failed or escalated as its plan
    says. Never a retry of the decisions: the act itself was retried while it was transient."""
    from learning import hooks

    message = redact(f"{kind} failed: {type(exc).__name__}: {exc}")[:4000]
    logger.warning("run %s of %s: its act %s failed for good", run.pk, run.agent_name, kind)
    error_log = hooks.record_failure(
        run=run,
        agent_name=run.agent_name,
        exc=exc,
        step=str(getattr(exc, "step", "") or "act"),
        provider=str(getattr(exc, "provider", "") or ""),
        transient=False,
        context={"attempt": run.attempts, "act": kind, "correlation_id": str(run.correlation_id)},
    )
    if run.status not in (AgentRun.Status.SUCCEEDED, AgentRun.Status.ESCALATED, AgentRun.Status.RUNNING):
        return  # already failed (a second act of the same run) or canceled: the ErrorLog is enough
    plan = hooks.on_failure(run=run, error=error_log)
    if plan.escalate:
        _escalate(
            run, kind=Escalation.Kind.ERROR, reason=plan.reason or message, payload={"error": message}, group=plan.group
        )
        return
    run.error = message
    run.finished_at = run.finished_at or clock.now()
    run.transition_to(AgentRun.Status.FAILED, also=["error", "finished_at"])
