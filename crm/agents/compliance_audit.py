"""compliance_audit: the daily proof that the agency kept its promises to the people it mailed.

Load reads yesterday's window (and an hour of overlap, so nothing falls between two audits) and
runs the four checks of crm.services.compliance; act escalates each breached rule once per day
to the admins with the evidence (message, enrollment or lead ids, never the addresses), and the
run's output is the proof: what was checked, how many, what failed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from pydantic import BaseModel, Field

from agents.base import Agent, Empty, Facts
from agents.context import RunContext
from agents.models import Escalation, StaffGroup
from agents.registry import register
from agents.services.retention import prospects_to_erase
from crm.services import compliance

OVERLAP = dt.timedelta(hours=1)


class Findings(Facts):
    start: dt.datetime
    end: dt.datetime
    checks: list[compliance.Check]


class CheckResult(BaseModel):
    name: str
    checked: int
    breaches: int
    evidence: list[int] = Field(default_factory=list)


class Audit(BaseModel):
    start: dt.datetime
    end: dt.datetime
    checks: list[CheckResult]
    passed: bool
    summary: str


def _minutes(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(minutes=max(int(getattr(settings, name, default)), 0))


@register
class ComplianceAudit(Agent[Empty, Audit]):
    """Suppressed addresses never contacted, opt-outs honoured in time, compliant cold emails, retention."""

    name = "compliance_audit"
    category = "system"
    trigger = "schedule"
    schedule = "15 4 * * *"
    queue = "crm"
    Input = Empty
    Facts = Findings
    Output = Audit

    def load(self, ctx: RunContext, data: Empty) -> Findings:
        end = ctx.now()
        start = end - dt.timedelta(days=1) - OVERLAP
        delay = _minutes("COMPLIANCE_OPT_OUT_DELAY_MINUTES", 15)
        grace = dt.timedelta(days=max(int(getattr(settings, "COMPLIANCE_RETENTION_GRACE_DAYS", 3)), 0))
        checks = [
            compliance.contacted_after_suppression(start, end),
            compliance.opt_outs_honoured(start, end, delay=delay),
            compliance.cold_emails_compliant(start, end),
            compliance.retention_backlog(prospects_to_erase(batch=1000), grace=grace, now=end),
        ]
        return Findings(start=start, end=end, checks=checks)

    def act(self, ctx: RunContext, facts: Findings) -> Audit:
        day = facts.end.date().isoformat()
        results = []
        for check in facts.checks:
            evidence = check.breaches[: compliance.SAMPLE]
            results.append(
                CheckResult(name=check.name, checked=check.checked, breaches=len(check.breaches), evidence=evidence)
            )
            if check.breaches:
                ctx.escalate(
                    Escalation.Kind.ERROR,
                    f"compliance breach: {check.name} ({len(check.breaches)} of {check.checked} checked, "
                    f"{facts.start:%Y-%m-%d %H:%M} to {facts.end:%Y-%m-%d %H:%M} UTC)",
                    {"check": check.name, "ids": evidence, "breaches": len(check.breaches), "checked": check.checked},
                    group=StaffGroup.ADMIN,
                    wait=False,
                    dedupe_key=f"compliance:{check.name}:{day}",
                )
        failed = [r for r in results if r.breaches]
        summary = (
            "all checks passed: " + ", ".join(f"{r.name} ({r.checked} checked)" for r in results)
            if not failed
            else "breaches: " + ", ".join(f"{r.name} ({r.breaches})" for r in failed)
        )
        return Audit(start=facts.start, end=facts.end, checks=results, passed=not failed, summary=summary)
