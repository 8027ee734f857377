"""Publishing accepted events from the request path: one Celery message for many events.

Celery's publish costs ~0.7 ms of CPU per message (routing, message building, kombu's binding
lookup, a new Redis client), more than storing the event. So the endpoint hands the ids of
committed events to this per-process buffer, and a flusher thread publishes what has gathered
as one ``integrations.webhooks.process_events`` message:

- idle, an event is published at once (no added latency);
- busy, the flusher publishes at most once per ``LINGER_SECONDS`` (or when ``MAX_BATCH`` ids are
  waiting), so each message carries the events of that interval;
- the request never waits for the broker, and a broker hiccup is retried off the request path.

Nothing here is trusted for delivery: an id still in the buffer when the process dies, or whose
publish fails, belongs to an event stored as ``received``, which the sweeper
(``replay_unprocessed``) publishes again. Processing stays exactly-once whatever is published
twice (``process_event`` locks the row and acts only on ``received``).
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LINGER_SECONDS = 0.02
MAX_BATCH = 200
# Beyond this many waiting ids (a long broker outage) new ones are left to the sweeper.
MAX_PENDING = 100_000
# How long a closing process waits for the batch the flusher is publishing (the broker's own
# timeouts bound a publish; this only keeps a hung broker from holding the exit forever).
CLOSE_WAIT_SECONDS = 5.0

Publish = Callable[[list[int]], None]


def publish_batch(event_pks: list[int]) -> None:
    """One ``process_events`` message for ``event_pks`` (Celery's retry policy applies)."""
    from integrations.webhooks.tasks import process_webhook_events

    process_webhook_events.apply_async((event_pks,))


@functools.cache
def _celery_conf() -> Any:
    # Imported late: tasks -> services -> this module.
    from integrations.webhooks.tasks import process_webhook_events

    return process_webhook_events.app.conf


def _eager() -> bool:
    # Item access: half the cost of Celery's attribute lookup, paid on every webhook.
    return bool(_celery_conf()["task_always_eager"])


class BatchPublisher:
    """A buffer of event ids and the daemon thread that publishes it (one per process)."""

    def __init__(self, publish: Publish = publish_batch, *, linger: float = LINGER_SECONDS) -> None:
        self._publish = publish
        self._linger = linger
        self._reset()

    def _reset(self) -> None:
        # Also after a fork: the parent's lock may be held and its thread does not exist here.
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._thread: threading.Thread | None = None
        self._last_flush = 0.0
        self._closed = False

    def submit(self, event_pk: int) -> None:
        """Queue one committed event for publishing; never raises, never waits for the broker."""
        if _eager():
            # Tests and CELERY_TASK_ALWAYS_EAGER run the task inline, in the caller's thread
            # (and database connection), as a direct publish would.
            self._safe_publish([event_pk])
            return
        with self._cond:
            if not self._closed:
                if len(self._pending) >= MAX_PENDING:
                    logger.warning("webhook publish buffer full: event %s left to the sweeper", event_pk)
                    return
                self._pending.append(event_pk)
                self._ensure_thread()
                if len(self._pending) == 1 or len(self._pending) >= MAX_BATCH:
                    self._cond.notify()
                return
        # Interpreter shutdown (closed): nobody will flush later.
        self._safe_publish([event_pk])

    def flush(self) -> None:
        """Publish everything waiting now, in the caller's thread (shutdown, tests)."""
        with self._cond:
            batch, self._pending = self._pending, []
        for start in range(0, len(batch), MAX_BATCH):
            self._safe_publish(batch[start : start + MAX_BATCH])

    def close(self) -> None:
        """Stop the flusher and publish what is left (at exit).

        The flusher is a daemon thread: the interpreter would kill it mid-publish, leaving that
        batch to the sweeper minutes later. So wait for the batch it holds, then flush the rest.
        """
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(CLOSE_WAIT_SECONDS)
        self.flush()

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="webhook-publisher", daemon=True)
            self._thread.start()

    def _take(self) -> list[int] | None:
        """Wait for ids, linger while busy, and take one batch; None once closed."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            # Busy (flushed less than a linger ago): let more events gather into this message.
            deadline = self._last_flush + self._linger
            while not self._closed and len(self._pending) < MAX_BATCH:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._closed:
                return None
            batch = self._pending[:MAX_BATCH]
            del self._pending[:MAX_BATCH]
            self._last_flush = time.monotonic()
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            self._safe_publish(batch)

    def _safe_publish(self, batch: list[int]) -> None:
        if not batch:
            return
        try:
            self._publish(batch)
        except Exception as exc:
            # Stored as received, and marked: the sweeper's next pass publishes them again. The
            # exception's class only: a broker error's text may carry the broker URL's password.
            logger.warning(
                "publishing %d webhook events failed (%s); the sweeper will replay them", len(batch), type(exc).__name__
            )
            from integrations.webhooks.services import mark_publish_failed

            mark_publish_failed(batch)


_publisher = BatchPublisher()
atexit.register(_publisher.close)
os.register_at_fork(after_in_child=_publisher._reset)


def publish_later(event_pk: int) -> None:
    """Hand a committed event to this process's publisher."""
    _publisher.submit(event_pk)


def flush() -> None:
    _publisher.flush()
