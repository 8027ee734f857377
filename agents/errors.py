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


class PhaseError(RuntimeError):
    """A write (update, act, handoff, escalate) outside the act phase: a bug in the agent."""


class ModelCallInTransaction(RuntimeError):
    """A brain was asked while a database transaction was open: a bug in the agent."""


class UndeclaredHandoff(RuntimeError):
    """A handoff to an agent the class does not declare in ``next``: a bug in the agent."""


class ActPayloadMismatch(TypeError):
    """An act's payload is not the typed payload registered for its kind."""


class Interruption(BaseException):
    """Stops the run without failing it; the runtime turns it into a status.

    A BaseException, like KeyboardInterrupt: an ``except Exception`` in agent or service code (a
    fallback around a model call, a best-effort step) cannot swallow a budget pause, a skip or an
    escalation. Only the runtime catches it.
    """


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

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        payload: dict[str, Any] | None = None,
        dedupe_key: str = "",
        group: str = "operator",
        wait: bool = True,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.payload = payload or {}
        self.dedupe_key = dedupe_key
        self.group = group
        self.wait = wait
