"""The runtime: claim a run, guard it, let the agent work, record the outcome.

One attempt is: claim (row lock, attempts + 1, a lease) -> learned guards (``before_run``) ->
``agent.run(ctx, data)`` -> outcome. Success saves the output and the usage; an interruption
(pause, escalation) parks the run; a failure is logged (ErrorLog) and then retried with backoff,
escalated or failed, as the error's nature and the learned rules say. Nothing is swallowed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from pydantic import BaseModel, ValidationError

from agents import registry
from agents.base import Agent
from agents.context import RunContext
from agents.errors import EscalateRun, PauseRun, SkipRun, TransientError, UnknownAgent
from agents.models import AgentRun, Escalation
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


def _agent_class(run: AgentRun) -> type[Agent[Any, Any]] | None:
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
    """Work a claimed run to an outcome."""
    from learning import hooks

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
    try:
        decision = hooks.before_run(run=run, data=run.input)
    except Exception as exc:  # the guards could not be checked: not a reason to run unguarded
        fail(run, exc, ctx=None, step="guards")
        return
    ctx = RunContext(run=run, agent=agent, prompt_rules=decision.prompt_rules)
    if decision.blocked:
        approval = ctx.approval
        if decision.effect == "block" and approval is not None and approval.kind == Escalation.Kind.POLICY:
            ctx.log.info("blocked by learned rules, but an operator approved it: %s", decision.reason)
        else:
            _blocked(run, effect=decision.effect, reason=decision.reason)
            return
    try:
        if agent.atomic:
            with transaction.atomic():
                output = _validated_output(agent, agent.run(ctx, data))
        else:
            output = _validated_output(agent, agent.run(ctx, data))
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
            also=_apply_usage(run, ctx),
        )
    except Exception as exc:  # every failure gets its row and its outcome
        fail(run, exc, ctx=ctx)
    else:
        _succeed(run, ctx, output)


def _validated_output(agent: Agent[Any, Any], output: Any) -> BaseModel:
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
        run.transition_to(AgentRun.Status.ESCALATED, also=fields)
        return
    run.finished_at = clock.now()
    run.transition_to(AgentRun.Status.SUCCEEDED, save=False)
    fields = ["status", *fields, "finished_at"]
    statement = hooks.after_run_statement(run=run, succeeded=True) if connection.vendor == "postgresql" else None
    if statement is None:
        with transaction.atomic():  # the outcome and what after_run writes commit together
            run.save(update_fields=fields)
            hooks.after_run(run=run, succeeded=True)
        return
    claims.save_with(run, fields=fields, statement=statement)


def _blocked(run: AgentRun, *, effect: str, reason: str) -> None:
    run.lease_expires_at = None
    if effect == "block":
        _escalate(run, kind=Escalation.Kind.POLICY, reason=reason, payload={"input": run.input})
        return
    _skip(run, reason=reason)


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
    also: list[str] | tuple[str, ...] = (),
) -> Escalation:
    with transaction.atomic():
        escalation = raise_escalation(kind=kind, reason=reason, payload=payload, run=run, dedupe_key=dedupe_key)
        run.error = f"escalated ({kind}): {reason}"
        run.lease_expires_at = None
        run.transition_to(AgentRun.Status.ESCALATED, also=["error", "lease_expires_at", *also])
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
    )
    plan = hooks.on_failure(run=run, error=error_log)
    max_attempts = plan.max_attempts if plan.max_attempts is not None else run.max_attempts
    usage_fields = _apply_usage(run, ctx)
    if plan.escalate:
        reason = plan.reason or message
        _escalate(run, kind=Escalation.Kind.ERROR, reason=reason, payload={"error": message}, also=usage_fields)
    elif (transient or plan.retry_delays) and run.attempts < max_attempts:
        if plan.retry_delays:
            delay = dt.timedelta(seconds=plan.retry_delays[min(run.attempts - 1, len(plan.retry_delays) - 1)])
        else:
            delay = backoff(run.attempts, retry_after=getattr(exc, "retry_after", None))
        requeue(run, due_at=clock.now() + delay, error=message, also=tuple(usage_fields))
    else:
        run.error = message
        run.finished_at = clock.now()
        run.lease_expires_at = None
        run.transition_to(AgentRun.Status.FAILED, also=["error", "finished_at", "lease_expires_at", *usage_fields])
    hooks.after_run(run=run, succeeded=False)


def recover_lost_runs(*, limit: int = 500) -> int:
    """The sweeper: runs still running past their lease lost their worker. Each loss is a
    transient failure (ErrorLog, then a retry with backoff, or failed after max attempts)."""
    now = clock.now()
    with transaction.atomic():
        runs = list(
            AgentRun.objects.select_for_update(skip_locked=True)
            .filter(status=AgentRun.Status.RUNNING, lease_expires_at__lt=now)
            .order_by("lease_expires_at")[:limit]
        )
        for run in runs:
            fail(run, WorkerLost(f"lease expired at {run.lease_expires_at:%Y-%m-%d %H:%M:%S}"), ctx=None, step="lease")
    return len(runs)
