"""Bulk brain calls through the Message Batches API: half the price, answered within hours.

Runs of a ``batch = True`` LLM agent are not published to a worker while the anthropic brain is on.
``submit_batch`` sends their questions as one batch and parks the runs (running, with a lease
past the batch's expiry, so the sweeper recovers them if it is never collected). ``poll_batches``
collects ended batches: each answer is stored on its run's LLMBatchItem, its cost is charged to
the run, and the run is re-queued; when it executes, the brain returns the stored answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import F
from pydantic import ValidationError

from agents import registry
from agents.base import LLMAgent
from agents.brains import BrainResult
from agents.brains.anthropic import build_request, client, model_for, parse_decision
from agents.brains.pricing import usage_of
from agents.models import AgentRun, LLMBatch, LLMBatchItem
from agents.services.runs import requeue
from smarter_team import clock

logger = logging.getLogger(__name__)

MAX_REQUESTS = 10_000  # well under the API's 100,000 requests / 256 MB per batch
COLLECT_MARGIN = dt.timedelta(hours=1)


def _prompt_rules(run: AgentRun) -> list[str]:
    # This run's prompt learnings (its holdout rules excluded); guards still run when it executes.
    from learning.hooks import prompt_rules_for

    return prompt_rules_for(run)


def submit_batch(*, agent_name: str, limit: int = MAX_REQUESTS) -> LLMBatch | None:
    """Send the due queued runs of a batch agent as one Message Batch. None when nothing is due."""
    from agents.context import RunContext

    agent_cls = registry.get(agent_name)
    if not (isinstance(agent_cls, type) and issubclass(agent_cls, LLMAgent)):
        raise TypeError(f"{agent_name} is not an LLM agent")
    agent = agent_cls()
    with transaction.atomic():
        runs = list(
            AgentRun.objects.select_for_update(skip_locked=True)
            .filter(agent_name=agent_name, status=AgentRun.Status.QUEUED, due_at__lte=clock.now())
            .order_by("due_at")[:limit]
        )
        if not runs:
            return None
        requests = []
        asked = []
        for run in runs:
            rules = _prompt_rules(run)
            ctx = RunContext(run=run, agent=agent, prompt_rules=rules)
            try:
                # The same facts the run will load when it acts on the answer (reads only).
                facts = agent.load(ctx, agent_cls.Input.model_validate(run.input))
            except (ObjectDoesNotExist, ValidationError):
                continue  # the run itself will end skipped or failed, with the reason, when it runs
            params = build_request(agent, user_prompt=agent.prompt(ctx, facts), prompt_rules=rules)
            requests.append({"custom_id": f"run-{run.pk}", "params": params})
            asked.append(run)
        runs = asked
        if not runs:
            return None
        created = client().messages.batches.create(requests=requests)  # type: ignore[arg-type]
        batch = LLMBatch.objects.create(
            provider_batch_id=created.id,
            agent_name=agent_name,
            model_name=model_for(agent),
            request_count=len(runs),
            expires_at=created.expires_at,
        )
        LLMBatchItem.objects.bulk_create(LLMBatchItem(batch=batch, run=run, custom_id=f"run-{run.pk}") for run in runs)
        AgentRun.objects.filter(pk__in=[r.pk for r in runs]).update(
            status=AgentRun.Status.RUNNING,
            lease_expires_at=(created.expires_at or clock.now() + dt.timedelta(hours=24)) + COLLECT_MARGIN,
            updated_at=clock.now(),
        )
    logger.info("submitted %s runs of %s as batch %s", len(runs), agent_name, created.id)
    return batch


def submit_due_batches() -> int:
    """Submit every batch agent's due runs (a beat task). Returns the number of batches sent."""
    from django.conf import settings

    if settings.BRAIN_DEFAULT != "anthropic":
        return 0
    sent = 0
    for agent_cls in registry.all_agents():
        if getattr(agent_cls, "batch", False) and submit_batch(agent_name=agent_cls.name) is not None:
            sent += 1
    return sent


def poll_batches() -> int:
    """Collect every ended batch. Returns the number collected."""
    collected = 0
    for batch in LLMBatch.objects.filter(status=LLMBatch.Status.SUBMITTED).order_by("created_at"):
        remote = client().messages.batches.retrieve(batch.provider_batch_id)
        if remote.processing_status != "ended":
            continue
        _collect(batch)
        collected += 1
    return collected


def _collect(batch: LLMBatch) -> None:
    agent = registry.get(batch.agent_name)()
    items = {item.custom_id: item for item in batch.items.all()}
    for entry in client().messages.batches.results(batch.provider_batch_id):
        item = items.get(entry.custom_id)
        if item is None:
            continue
        result: Any = entry.result
        if result.type != "succeeded":
            item.status, item.error = LLMBatchItem.Status.ERRORED, f"batch request {result.type}"
            continue
        usage = usage_of(batch.model_name, result.message.usage, batch=True)
        item.usage = usage.as_dict()
        # The answer was paid for whatever it says: charge it to the run now.
        AgentRun.objects.filter(pk=item.run_id).update(
            cost=F("cost") + usage.cost,
            tokens_in=F("tokens_in") + usage.input_tokens,
            tokens_out=F("tokens_out") + usage.output_tokens,
            cache_write_tokens=F("cache_write_tokens") + usage.cache_write_tokens,
            cache_read_tokens=F("cache_read_tokens") + usage.cache_read_tokens,
        )
        try:
            decision = parse_decision(agent, result.message.content)  # type: ignore[arg-type]
        except (ValidationError, ValueError) as exc:
            # The run will ask live, with the usual repair attempt.
            item.status, item.error = LLMBatchItem.Status.ERRORED, str(exc)[:2000]
            continue
        item.status, item.decision = LLMBatchItem.Status.SUCCEEDED, decision.model_dump(mode="json")
    with transaction.atomic():
        LLMBatchItem.objects.bulk_update(items.values(), ["status", "decision", "usage", "error"])
        batch.collected_at = clock.now()
        batch.transition_to(LLMBatch.Status.COLLECTED, also=["collected_at"])
        waiting = AgentRun.objects.select_for_update().filter(
            pk__in=[i.run_id for i in items.values()], status=AgentRun.Status.RUNNING
        )
        for run in waiting:
            requeue(run)


def collected_answer(*, agent: LLMAgent[Any, Any, Any], run: AgentRun) -> BrainResult | None:
    """The batch's answer for this run, if one was collected (already charged: zero usage here)."""
    item = LLMBatchItem.objects.filter(run=run, status=LLMBatchItem.Status.SUCCEEDED).order_by("-pk").first()
    if item is None or item.decision is None:
        return None
    return BrainResult(decision=agent.Decision.model_validate(item.decision))
