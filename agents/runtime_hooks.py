"""Named points between the phases of a run, where tests inject a crash.

``boundary(name)`` is called by the runtime and the outbox at each point a worker can die with
consequences: ``after_load``, ``after_decide``, ``in_act`` (inside the act's transaction, before
commit), ``before_call`` (after commit, before the provider is called) and ``after_call`` (after
the provider answered, before the done mark). Tests register a callback (the testing kit raises a
simulated crash) or, for a real worker, set ``AGENTS_CRASH_AT`` to have the process SIGKILL itself
there. Both only ever act under ``DJANGO_ENV=test``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from django.conf import settings

BOUNDARIES = ("after_load", "after_decide", "in_act", "before_call", "after_call")

_callbacks: list[Callable[[str], None]] = []


def boundary(name: str) -> None:
    if _callbacks:
        for callback in list(_callbacks):
            callback(name)
    crash_at = os.environ.get("AGENTS_CRASH_AT")
    if crash_at and crash_at == name and getattr(settings, "DJANGO_ENV", "") == "test":
        os.kill(os.getpid(), signal.SIGKILL)


def add_callback(callback: Callable[[str], None]) -> None:
    _callbacks.append(callback)


def remove_callback(callback: Callable[[str], None]) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)
