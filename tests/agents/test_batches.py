"""Bulk brain work through the Message Batches API: submit, poll, collect, resume the runs."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from agents import runtime
from agents.brains.batches import poll_batches, submit_batch
from agents.models import AgentRun, LLMBatch, LLMBatchItem
from agents.services.runs import start_run
from tests.agents.test_anthropic_brain import message

pytestmark = pytest.mark.django_db

BATCH_ID = "msgbatch_01"


def batch(status: str, results_url: str | None = None) -> dict[str, Any]:
    return {
        "id": BATCH_ID,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {"processing": 0, "succeeded": 2, "errored": 0, "canceled": 0, "expired": 0},
        "created_at": "2026-03-02T09:00:00Z",
        "expires_at": "2026-03-03T09:00:00Z",
        "ended_at": "2026-03-02T10:00:00Z" if status == "ended" else None,
        "cancel_initiated_at": None,
        "archived_at": None,
        "results_url": results_url,
    }


def test_queued_bulk_runs_go_out_as_one_batch_and_resume_with_its_answers(
    anthropic_api, frozen_clock, django_capture_on_commit_callbacks
) -> None:
    runs = [
        start_run(agent_name="t_bulk", input={"text": text}, trigger="event") for text in ("has budget", "browsing")
    ]
    assert all(r.enqueued_at is None for r in runs)  # not for a worker: the batch answers them
    create = anthropic_api.post("/v1/messages/batches").mock(
        return_value=httpx.Response(200, json=batch("in_progress"))
    )

    submitted = submit_batch(agent_name="t_bulk")
    assert submitted is not None and submitted.request_count == 2
    requests = json.loads(create.calls.last.request.content)["requests"]
    assert [r["custom_id"] for r in requests] == [f"run-{r.pk}" for r in runs]
    assert requests[0]["params"]["tool_choice"] == {"type": "tool", "name": "verdict"}
    assert set(AgentRun.objects.values_list("status", flat=True)) == {"running"}  # parked for the batch

    anthropic_api.get(f"/v1/messages/batches/{BATCH_ID}").mock(
        side_effect=[
            httpx.Response(200, json=batch("in_progress")),
            httpx.Response(
                200, json=batch("ended", f"https://api.anthropic.com/v1/messages/batches/{BATCH_ID}/results")
            ),
            httpx.Response(
                200, json=batch("ended", f"https://api.anthropic.com/v1/messages/batches/{BATCH_ID}/results")
            ),
        ]
    )
    lines = [
        {
            "custom_id": f"run-{runs[0].pk}",
            "result": {"type": "succeeded", "message": message({"label": "hot", "score": 77})},
        },
        {
            "custom_id": f"run-{runs[1].pk}",
            "result": {"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": "x"}}},
        },
    ]
    anthropic_api.get(f"/v1/messages/batches/{BATCH_ID}/results").mock(
        return_value=httpx.Response(200, content="\n".join(json.dumps(line) for line in lines).encode())
    )
    assert poll_batches() == 0  # still in progress
    with django_capture_on_commit_callbacks(execute=False) as published:
        assert poll_batches() == 1
    assert len(published) == 2  # both runs resume

    assert LLMBatch.objects.get().status == LLMBatch.Status.COLLECTED
    first, second = (AgentRun.objects.get(pk=r.pk) for r in runs)
    assert first.status == AgentRun.Status.QUEUED
    assert first.cost == Decimal("0.001238")  # half of the live price (0.002475), charged at collection
    assert LLMBatchItem.objects.get(run=second).status == LLMBatchItem.Status.ERRORED

    runtime.execute(first.pk)  # answered from the batch: no live call
    first.refresh_from_db()
    assert first.status == AgentRun.Status.SUCCEEDED and first.output == {"label": "hot", "score": 77}
    assert first.cost == Decimal("0.001238")

    live = anthropic_api.post("/v1/messages").mock(
        return_value=httpx.Response(200, json=message({"label": "cold", "score": 3}))
    )
    runtime.execute(second.pk)  # its batch request errored: asked live
    second.refresh_from_db()
    assert second.status == AgentRun.Status.SUCCEEDED and live.call_count == 1
