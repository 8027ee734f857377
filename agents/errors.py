"""Errors the runtime understands. Anything else an agent raises is a permanent failure."""

from __future__ import annotations

import datetime as dt
from typing import Any


class AgentError(Exception):
    """Base class of the runtime's own errors."""

    transient: bool = False


class TransientError(AgentError):
    """Worth retrying later: a timeout, a 5xx, a rate limit. Retried with backoff."""

    transient = True

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(AgentError):
    """Retrying cannot help: bad input, a rejected request. Logged and failed."""


class UnknownAgent(LookupError):
    """No agent is registered under the name."""


class BrainOutputInvalid(PermanentError):
    """The model's structured output failed validation twice (the answer and one repair)."""


class RealModelCallInTests(RuntimeError):
    """A test would have reached a real model: tests must install a fake transport."""


class OutboxInTransaction(RuntimeError):
    """ctx.act was called inside a transaction, where its intent could not be committed first."""


class Interruption(Exception):
    """Stops the run without failing it; the runtime turns it into a status."""


class SkipRun(Interruption):
    """End the run as skipped, with the reason recorded: it must not (or need not) go on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ComplianceBlocked(SkipRun):
    """An outbound act was refused by a compliance guard (a suppressed address, for one).

    An agent acting for many recipients catches it per recipient; uncaught, the run is skipped.
    """


class PauseRun(Interruption):
    """Put the run back in the queue until ``until`` (e.g. the next budget period)."""

    def __init__(self, reason: str, *, until: dt.datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


class EscalateRun(Interruption):
    """End this attempt waiting for a human: an Escalation of ``kind`` is raised for the run."""

    def __init__(self, kind: str, reason: str, *, payload: dict[str, Any] | None = None, dedupe_key: str = "") -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.payload = payload or {}
        self.dedupe_key = dedupe_key
