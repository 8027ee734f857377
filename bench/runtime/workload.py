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

    def run(self, ctx: RunContext, data: Item) -> Item:
        return data


@shared_task(name="bench.noop", ignore_result=True, acks_late=True)
def noop() -> None:
    # The baseline's only work is telling the benchmark it ran and when (one Redis round trip).
    pipe = _redis.pipeline(transaction=False)
    pipe.incr(COUNTER)
    pipe.set(LAST_DONE, time.time())
    pipe.execute()


__all__ = ["COUNTER", "LAST_DONE", "app", "noop"]
