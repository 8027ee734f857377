"""database_manager: nightly retention and archival, erasure past retention, integrity checks.

One round is one bounded act: per table at most RETENTION_BATCH rows are exported and deleted
(agents/services/retention.py says what may go and why the rest stays). When a table still had a
full batch, the round hands off to the next (``round`` + 1, at most MAX_ROUNDS a night): each
round's transaction stays short, the hot tables are never locked for long, and a failing round
fails alone. Integrity findings (stuck runs, runs waiting on nothing...) are reported in the
output and escalated to the admins once, never fixed silently.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents import registry
from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import Escalation, StaffGroup
from agents.registry import register
from agents.services import retention

MAX_ROUNDS = 8


def _batch() -> int:
    from django.conf import settings

    return max(int(getattr(settings, "RETENTION_BATCH", 1000)), 1)


class Round(BaseModel):
    round: int = 0


class Due(Facts):
    purges: dict[str, list[int]]
    prospects: list[int]
    integrity: dict[str, list[int]]


class Housekeeping(BaseModel):
    round: int
    archived: dict[str, int] = Field(default_factory=dict)
    prospects_erased: int = 0
    addresses_forgotten: int = 0
    integrity: dict[str, list[int]] = Field(default_factory=dict)
    more: bool = False
    summary: str = ""


@register
class DatabaseManager(Agent[Round, Housekeeping]):
    """Retention/archival of old runs and events, erasure past retention, integrity checks."""

    name = "database_manager"
    category = "system"
    trigger = ("schedule", "handoff")
    schedule = "30 3 * * *"
    Input = Round
    Facts = Due
    Output = Housekeeping
    next = ("database_manager",)

    def load(self, ctx: RunContext, data: Round) -> Due:
        batch = _batch()
        purges = {p.label: retention.candidate_ids(p, batch=batch) for p in retention.PURGES}
        registered = {a.name for a in registry.all_agents()}
        # Integrity once a night (the first round), not per round.
        integrity = retention.integrity_findings(registered=registered) if data.round == 0 else {}
        return Due(purges=purges, prospects=retention.prospects_to_erase(batch=batch), integrity=integrity)

    def act(self, ctx: RunContext, facts: Due) -> Housekeeping:
        data = Round.model_validate(ctx.run.input)
        batch = _batch()
        out = Housekeeping(round=data.round)
        for purge in retention.PURGES:
            ids = facts.purges.get(purge.label, [])
            out.archived[purge.label] = retention.archive_and_delete(purge, ids, tag=f"run{ctx.run.pk}")
        out.prospects_erased = retention.erase_prospects(facts.prospects)
        out.addresses_forgotten = retention.forget_suppressed_addresses(batch=batch)
        found = {name: ids for name, ids in facts.integrity.items() if ids}
        out.integrity = found
        if found:
            ctx.escalate(
                Escalation.Kind.ERROR,
                "integrity check: " + ", ".join(f"{name} ({len(ids)})" for name, ids in found.items()),
                {"findings": found},
                group=StaffGroup.ADMIN,
                wait=False,
                dedupe_key="integrity:database",
            )
        out.more = any(len(ids) >= batch for ids in facts.purges.values()) or len(facts.prospects) >= batch
        if out.more and data.round + 1 < MAX_ROUNDS:
            ctx.handoff("database_manager", {"round": data.round + 1})
        total = sum(out.archived.values())
        out.summary = (
            f"archived {total} row(s), erased {out.prospects_erased} prospect(s), {len(found)} integrity finding(s)"
            if total or out.prospects_erased or found or out.addresses_forgotten
            else "nothing to archive, erase or report"
        )
        return out
