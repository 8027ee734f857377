"""Asking an operator once and resuming with the answer: the response agents' shared step."""

from __future__ import annotations

from agents.context import RunContext
from agents.models import Escalation


def decision(ctx: RunContext, key: str, reason: str) -> Escalation | None:
    """The operator's approved answer to ``key``; None when nobody was asked yet.

    The first run raises the escalation in its act (so what it drafted commits with it); a later
    attempt, re-queued by the decision, reads it here: approved returns it, rejected skips the run,
    still open waits again (ctx.require_approval)."""
    if not Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, dedupe_key=approval_key(key)).exists():
        return None
    return ctx.require_approval(key, reason)


def approval_key(key: str) -> str:
    """The dedupe key ctx.require_approval looks an approval up by."""
    return f"approval:{key}"[:200]
