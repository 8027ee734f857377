"""The request path's publisher: ids of committed events, batched per interval, never blocking."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from integrations.webhooks import publisher
from integrations.webhooks.publisher import BatchPublisher


class Recorder:
    """A publish callable that records each batch (and can fail on demand)."""

    def __init__(self, *, delay: float = 0.0, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.delay = delay
        self.fail = fail
        self.published = threading.Event()

    def __call__(self, batch: list[int]) -> None:
        time.sleep(self.delay)
        if self.fail:
            raise ConnectionError("the broker is down")
        self.batches.append(list(batch))
        self.published.set()

    def ids(self) -> list[int]:
        return [pk for batch in self.batches for pk in batch]


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_an_event_arriving_while_idle_is_published_at_once() -> None:
    recorder = Recorder()
    batcher = BatchPublisher(recorder, linger=60.0)  # a linger that would show if it applied
    batcher.submit(1)
    assert recorder.published.wait(2.0)
    assert recorder.batches == [[1]]
    batcher.close()


def test_events_arriving_while_busy_share_one_message() -> None:
    recorder = Recorder(delay=0.05)
    batcher = BatchPublisher(recorder, linger=0.2)
    batcher.submit(1)  # published at once; the next ones arrive within the linger
    wait_for(lambda: batcher.pending() == 0)
    for pk in range(2, 8):
        batcher.submit(pk)
    wait_for(lambda: len(recorder.ids()) == 7)
    assert recorder.batches == [[1], [2, 3, 4, 5, 6, 7]]
    batcher.close()


def test_a_full_batch_goes_out_without_waiting_for_the_linger(monkeypatch: Any) -> None:
    monkeypatch.setattr(publisher, "MAX_BATCH", 3)
    recorder = Recorder()
    batcher = BatchPublisher(recorder, linger=60.0)
    batcher.submit(1)
    assert recorder.published.wait(2.0)
    for pk in range(2, 5):
        batcher.submit(pk)
    wait_for(lambda: len(recorder.ids()) == 4)
    assert recorder.batches == [[1], [2, 3, 4]]
    batcher.close()


def test_a_failed_publish_is_logged_never_raised_and_later_events_still_go_out(caplog: Any) -> None:
    recorder = Recorder(fail=True)
    batcher = BatchPublisher(recorder, linger=0.0)
    batcher.submit(1)
    wait_for(lambda: "the sweeper will replay them" in caplog.text)
    recorder.fail = False
    batcher.submit(2)
    assert recorder.published.wait(2.0)
    assert recorder.ids() == [2]
    batcher.close()


def test_closing_publishes_what_is_still_waiting() -> None:
    recorder = Recorder(delay=0.1)
    batcher = BatchPublisher(recorder, linger=60.0)
    batcher.submit(1)  # the flusher is busy publishing this one...
    wait_for(lambda: batcher.pending() == 0)
    batcher.submit(2)  # ...and lingers before this one
    batcher.close()
    wait_for(lambda: sorted(recorder.ids()) == [1, 2])
    batcher.submit(3)  # after close (interpreter exit): published in the caller's thread
    assert sorted(recorder.ids()) == [1, 2, 3]


def test_closing_waits_for_the_batch_the_flusher_is_publishing() -> None:
    # At exit the daemon flusher would be killed mid-publish: close() must not return before it.
    recorder = Recorder(delay=0.3)
    batcher = BatchPublisher(recorder, linger=60.0)
    batcher.submit(1)
    wait_for(lambda: batcher.pending() == 0)  # taken by the flusher, not yet published
    batcher.close()
    assert recorder.ids() == [1]


def test_eager_celery_publishes_inline_in_the_callers_thread(monkeypatch: Any) -> None:
    monkeypatch.setattr(publisher, "_eager", lambda: True)
    threads: list[str] = []
    batcher = BatchPublisher(lambda batch: threads.append(threading.current_thread().name))
    batcher.submit(1)
    assert threads == [threading.current_thread().name]


@pytest.mark.django_db
def test_the_real_publish_sends_one_process_events_message(monkeypatch: Any) -> None:
    from integrations.webhooks.tasks import process_webhook_events

    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(process_webhook_events, "apply_async", lambda args, **kw: sent.append(args))
    publisher.publish_batch([4, 5, 6])
    assert sent == [([4, 5, 6],)]
    assert process_webhook_events.name == "integrations.webhooks.process_events"
