"""The learning demonstration: a recurring failure, injected.

A fake enrichment agent (registered only inside ``demo_agent()``) rejects every lead without a
company domain.

Used by ``bench/learning/run.py`` (figures) and ``tests/learning/test_demo.py`` (assertions). The
agent runs through the real runtime (start_run -> execute), so the learning hooks see what production
sees: ErrorLogs, extraction, approval, rules applied before runs, holdout, evidence.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agents import registry, runtime
from agents.base import Agent
from agents.errors import PermanentError
from agents.models import AgentRun
from agents.services.runs import start_run
from learning.models import ErrorLog, KnowledgeRule, RuleApplication
from learning.services import extraction
from learning.services.evidence import refresh_rules
from learning.services.rules import approve_rule
from learning.stats import lift
from smarter_team import clock

AGENT = "demo_lead_enricher"


class DemoInput(BaseModel):
    lead_id: int
    company_domain: str | None = None
    country: str = "US"


class DemoOutput(BaseModel):
    enriched: bool


class DemoEnricher(Agent[DemoInput, DemoOutput]):
    name = AGENT
    category = "demo"
    trigger = "handoff"
    Input = DemoInput
    Output = DemoOutput

    def act(self, ctx: Any, data: DemoInput) -> DemoOutput:
        if not data.company_domain:
            raise PermanentError(f"lead {data.lead_id} has no company domain; cannot enrich lead {data.lead_id}")
        return DemoOutput(enriched=True)


@contextmanager
def demo_agent() -> Iterator[type[DemoEnricher]]:
    registry.register(DemoEnricher)
    try:
        yield DemoEnricher
    finally:
        registry.unregister(AGENT)


@dataclass
class Phase:
    runs: int = 0
    concerned: int = 0  # runs without a domain: the ones the mistake (and the rule) is about
    failed: int = 0
    skipped: int = 0
    succeeded: int = 0
    holdout_failed: int = 0
    holdout_runs: int = 0

    @property
    def recurrence(self) -> float:
        """Failures of the known mistake per concerned run."""
        return self.failed / self.concerned if self.concerned else 0.0


@dataclass
class Outcome:
    before: Phase
    after: Phase
    proposed_after_failures: int | None
    rule: KnowledgeRule | None
    fingerprints: int
    errors: int
    extra: dict[str, Any] = field(default_factory=dict)


def run_one(lead_id: int, *, domain: bool, tick: clock.FrozenClock) -> AgentRun:
    tick.tick(dt.timedelta(minutes=1))
    run = start_run(
        agent_name=AGENT,
        input={"lead_id": lead_id, "company_domain": f"lead{lead_id}.example.com" if domain else None},
        trigger=AgentRun.Trigger.MANUAL,
        enqueue=False,
    )
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def _count(phase: Phase, run: AgentRun, *, domain: bool) -> None:
    phase.runs += 1
    phase.concerned += 0 if domain else 1
    if run.status == AgentRun.Status.FAILED:
        phase.failed += 1
    elif run.status == AgentRun.Status.SKIPPED:
        phase.skipped += 1
    elif run.status == AgentRun.Status.SUCCEEDED:
        phase.succeeded += 1
    held = [e for e in run.learnings_applied or [] if e.get("mode") == RuleApplication.Mode.HOLDOUT]
    if held:
        phase.holdout_runs += 1
        phase.holdout_failed += int(run.status == AgentRun.Status.FAILED)


def play(*, before_runs: int, after_runs: int, missing_share: float, seed: int = 7) -> Outcome:
    """Run the scenario inside the caller's database (tests: the test DB; bench: a rolled-back transaction)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    before, after = Phase(), Phase()
    proposed_after: int | None = None
    rule: KnowledgeRule | None = None
    lead_id = 1000
    with demo_agent(), clock.frozen(start) as tick:
        for _ in range(before_runs):
            lead_id += 1
            domain = rng.random() >= missing_share
            run = run_one(lead_id, domain=domain, tick=tick)
            _count(before, run, domain=domain)
            if run.status == AgentRun.Status.FAILED and rule is None:
                # learning_extraction is hourly; here it looks after every failure to show when it reacts.
                result = extraction.extract()
                if result.proposed:
                    rule = result.proposed[0]
                    proposed_after_failures = before.failed
                    proposed_after = proposed_after_failures
        if rule is not None:
            rule = approve_rule(rule=rule, user=None)
        for _ in range(after_runs):
            lead_id += 1
            domain = rng.random() >= missing_share
            run = run_one(lead_id, domain=domain, tick=tick)
            _count(after, run, domain=domain)
        if rule is not None:
            refresh_rules(rule_ids=[rule.pk], retire=True)
            rule.refresh_from_db()
    errors = ErrorLog.objects.filter(agent_name=AGENT)
    return Outcome(
        before=before,
        after=after,
        proposed_after_failures=proposed_after,
        rule=rule,
        fingerprints=errors.values("fingerprint").distinct().count(),
        errors=errors.count(),
        extra={
            "recurrence_lift": lift(
                holdout_failures=after.holdout_failed,
                holdout_n=after.holdout_runs,
                applied_failures=after.failed - after.holdout_failed,
                applied_n=max(after.concerned - after.holdout_runs, 0),
            )
        },
    )
