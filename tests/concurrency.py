"""Threads that start at once against the real database: the harness of the concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def at_once(work: Callable[[], None], *, threads: int, timeout: float = 60) -> list[BaseException]:
    """Run ``work`` in ``threads`` threads released together (a barrier), each on its own database
    connection (closed after); returns what any of them raised, for the test to assert empty."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=timeout)
    return errors
