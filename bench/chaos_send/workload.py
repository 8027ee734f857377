"""What the chaos bench's worker runs: the real send path, with two bench-only settings.

Imported by the bench and by each worker process it starts (``-A bench.chaos_send.workload``):
- leases are seconds instead of minutes, so that the sweepers take a dead worker's runs and acts
  back within the bench's minutes (the protocol is the one production runs;
  only its timing is shortened). A lease stays far longer than one send (``SEND_SECONDS``);
- the sandbox's send answers after ``SEND_SECONDS`` (a provider's latency; a judgement, in the range
  of an email API's answer time), and every call is written down in Redis before it is made, so
  the bench counts the calls per key that a provider saw.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter_team.settings")
django.setup()

import redis  # noqa: E402
from celery.signals import worker_ready  # noqa: E402
from django.conf import settings  # noqa: E402

from agents import outbox  # noqa: E402
from crm.agents.campaign.sequence_scheduler import SequenceScheduler  # noqa: E402
from integrations.sandbox.market import SandboxOutreach  # noqa: E402
from smarter_team.celery import app  # noqa: E402

CALLS = "bench:chaos_send:calls"
READY = "bench:chaos_send:ready"
SEND_SECONDS = 0.15
LEASE_SECONDS = 8

outbox.LEASE = dt.timedelta(seconds=LEASE_SECONDS)
SequenceScheduler.time_limit = LEASE_SECONDS * 3  # a run's act: 100 enrollments' rows, a few seconds
SequenceScheduler.lease_seconds = LEASE_SECONDS * 4
_redis = redis.Redis.from_url(settings.REDIS_URL)
_send = SandboxOutreach.send_email


def _counted_send(self: SandboxOutreach, **kwargs: Any) -> Any:
    _redis.rpush(CALLS, f"{os.getpid()} {kwargs['idempotency_key']}")
    time.sleep(SEND_SECONDS)
    return _send(self, **kwargs)


SandboxOutreach.send_email = _counted_send  # type: ignore[method-assign]


@worker_ready.connect
def _ready(**kwargs: Any) -> None:
    # The bench kills a worker only once it consumes: a death during startup tests nothing.
    _redis.set(READY, os.getpid())


__all__ = ["CALLS", "READY", "app"]
