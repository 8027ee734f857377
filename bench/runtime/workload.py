"""What the runtime benchmark runs: a no-op rules agent and a no-op Celery task (the baseline).

Imported by the benchmark process and by its worker process (``-A bench.runtime.workload``).
"""

from __future__ import annotations

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings")
django.setup()

import redis  # noqa: E402
from celery import shared_task  # noqa: E402
from django.conf import settings  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from agents.base import Agent  # noqa: E402
from agents.context import RunContext  # noqa: E402
from agents.outbox import register_performer  # noqa: E402
from agents.registry import register  # noqa: E402
from smarter_team.celery import app  # noqa: E402

COUNTER = "bench:runtime:noop"
LAST_DONE = "bench:runtime:noop:last"
_redis = redis.Redis.from_url(settings.REDIS_URL)


class Item(BaseModel):
    n: int = 0


@register
class BenchNoop(Agent[Item, Item]):
    """Does nothing: what is measured is the runtime around it."""

    name = "bench_noop"
    category = "bench"
    trigger = "event"
    Input = Item
    Output = Item

    def act(self, ctx: RunContext, data: Item) -> Item:
        return data


class Ping(BaseModel):
    n: int


@register_performer("bench.ping", payload=Ping, contacts=())
def ping(payload: Ping, key: str) -> dict[str, int]:
    """A provider that answers at once: what is measured is the outbox around the call."""
    return {"n": payload.n}


@register
class BenchAct(Agent[Item, Item]):
    """One act per run: the intent in the act's transaction, performed after commit, marked done."""

    name = "bench_act"
    category = "bench"
    trigger = "event"
    Input = Item
    Output = Item

    def act(self, ctx: RunContext, data: Item) -> Item:
        ctx.act("bench.ping", f"item:{ctx.run.idempotency_key}", Ping(n=data.n))
        return data


@shared_task(name="bench.noop", ignore_result=True, acks_late=True)
def noop() -> None:
    # The baseline's only work is telling the benchmark it ran and when (one Redis round trip).
    pipe = _redis.pipeline(transaction=False)
    pipe.incr(COUNTER)
    pipe.set(LAST_DONE, time.time())
    pipe.execute()


__all__ = ["COUNTER", "LAST_DONE", "app", "noop"]
