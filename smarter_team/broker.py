"""Whether the broker may have lost messages since a caller last looked: a restarted Redis.

A Redis broker that restarts loses what it held in memory (every queued message when it runs
without persistence, the last seconds' with it). Rows that were published before (runs with
``enqueued_at``, received webhook events) would then wait for their republish timers, ten
minutes. The dispatchers ask this on every pass instead, and republish at once after a restart.

Redis names each server process by a ``run_id`` (INFO server) that changes on every start. Each
caller ("runs", "webhooks") keeps the last run_id it saw in a key of the broker itself; a
different or missing one means a restart (or the first look ever: a republish then is harmless,
processing is idempotent). Brokers other than Redis (the embedded filesystem one keeps its
messages on disk) never report a loss.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "smarter_team:broker-run-id:{consumer}"
# A broker that is down answers no faster: the dispatchers must not hang on it.
SOCKET_TIMEOUT = 2.0


@functools.lru_cache(maxsize=4)
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)


def lost_messages_since_last_look(consumer: str) -> bool:
    """True when the broker restarted since ``consumer`` last asked (or it never asked before)."""
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith(("redis://", "rediss://")):
        return False
    try:
        client = _client(url)
        run_id = str(client.info("server").get("run_id", ""))
        prefix = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", ""))
        key = prefix + KEY.format(consumer=consumer)
        previous = client.getset(key, run_id)
    except Exception as exc:
        # Down: whatever is published now fails and is marked for republishing by its publisher.
        logger.info("broker run id unavailable (%s)", type(exc).__name__)
        return False
    seen = previous.decode() if isinstance(previous, bytes) else previous
    return bool(run_id) and seen != run_id


# After a failed publish the broker is taken as down for this long: later publishes in this
# process skip the attempt (each would cost Celery's retries, ~0.6 s, to fail) and leave their
# row for the dispatcher at once. Wall-clock, per process.
DOWN_FOR_SECONDS = 5.0
_down_until = 0.0


def looks_down() -> bool:
    """Whether a publish in this process failed in the last DOWN_FOR_SECONDS."""
    import time

    return time.monotonic() < _down_until


def note_publish_failed() -> None:
    import time

    global _down_until
    _down_until = time.monotonic() + DOWN_FOR_SECONDS


def reset() -> None:
    """Forget a past failure (tests: one test's broken broker must not hold back the next test's)."""
    global _down_until
    _down_until = 0.0


class BrokerLooksDown(Exception):
    """A publish skipped because one in this process just failed (see ``looks_down``)."""
