"""The learning demonstration: a recurring failure, injected.

A fake enrichment agent (registered only inside ``demo_agent()``) rejects every lead without a
company domain. ``play_id_only`` does the same with an agent whose input is only ``lead_id`` (the
condition must come from its facts), and with a bad rule that the holdout retires.

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
from agents.base import Agent, Facts
from agents.errors import PermanentError
from agents.models import AgentRun
from agents.services.runs import start_run
from crm.models import Lead
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


# --- an id-only agent: its input is only lead_id, its facts hold the lead with its company ---------

ID_AGENT = "demo_id_enricher"


class LeadRef(BaseModel):
    lead_id: int


class LeadFacts(Facts):
    lead: Lead  # loaded with its company


class IdOnlyEnricher(Agent[LeadRef, DemoOutput]):
    """Like the real email_finder/lead_enrichment: takes an id, loads the lead and its company; its
    provider rejects one kind of record (a company without a domain)."""

    name = ID_AGENT
    category = "demo"
    trigger = "handoff"
    Input = LeadRef
    Facts = LeadFacts
    Output = DemoOutput

    def load(self, ctx: Any, data: LeadRef) -> LeadFacts:
        return LeadFacts(lead=Lead.objects.select_related("company").get(pk=data.lead_id))

    def act(self, ctx: Any, facts: LeadFacts) -> DemoOutput:
        if facts.lead.company is None or not facts.lead.company.domain:
            raise PermanentError(f"provider rejected lead {facts.lead.pk}: company has no domain")
        return DemoOutput(enriched=True)


@contextmanager
def id_agent() -> Iterator[type[IdOnlyEnricher]]:
    registry.register(IdOnlyEnricher)
    try:
        yield IdOnlyEnricher
    finally:
        registry.unregister(ID_AGENT)


@dataclass
class Arms:
    """One scenario's figures: recurrence before and after, the rule's two arms and its worth."""

    before: Phase
    after: Phase
    rule: KnowledgeRule | None
    proposed_after_failures: int | None = None
    note: str = ""


def _lead(n: int, *, domain: bool, country: str) -> int:
    from crm.models import Company

    company = Company.objects.create(
        name=f"Demo Co {n}", domain=f"democo{n}.example.com" if domain else None, country=country, source="demo"
    )
    return Lead.objects.create(first_name="Demo", last_name=f"Lead {n}", company=company, country=country).pk


def _id_run(n: int, *, domain: bool, country: str, tick: clock.FrozenClock) -> AgentRun:
    tick.tick(dt.timedelta(minutes=1))
    run = start_run(
        agent_name=ID_AGENT,
        input={"lead_id": _lead(n, domain=domain, country=country)},
        trigger=AgentRun.Trigger.MANUAL,
        enqueue=False,
    )
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def play_id_only(
    *, before_runs: int, after_runs: int, missing_share: float, seed: int = 11, bad_rule: bool = False
) -> Arms:
    """Scenario (a), ``bad_rule=False``: extraction derives an executable rule from the facts
    (``lead.company.domain`` empty) although the input holds only ``lead_id``; it is approved and cuts
    the recurrence. Scenario (b), ``bad_rule=True``: an operator's rule that skips every German lead
    (where only the domain-less ones fail) is approved instead; its holdout shows the successes it
    throws away, and it is retired on its precision's interval."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    before, after = Phase(), Phase()
    rule: KnowledgeRule | None = None
    proposed_after: int | None = None
    n = 0
    with id_agent(), clock.frozen(start) as tick:
        for _ in range(before_runs):
            n += 1
            domain, country = rng.random() >= missing_share, rng.choice(["DE", "US"])
            run = _id_run(n, domain=domain, country=country, tick=tick)
            _count(before, run, domain=domain)
            if not bad_rule and rule is None and run.status == AgentRun.Status.FAILED:
                proposed = extraction.extract().proposed
                if proposed:
                    rule, proposed_after = proposed[0], before.failed
        if bad_rule:
            from learning.services.rules import create_rule

            rule = create_rule(
                user=None,
                rule_type=KnowledgeRule.RuleType.VALIDATE,
                agent_name=ID_AGENT,
                text="Skip German leads: the provider rejects them.",
                condition={"field": "lead.company.country", "op": "equals", "value": "DE"},
            )
        if rule is not None:
            rule = approve_rule(rule=rule, user=None)
        for _ in range(after_runs):
            n += 1
            domain, country = rng.random() >= missing_share, rng.choice(["DE", "US"])
            run = _id_run(n, domain=domain, country=country, tick=tick)
            _count(after, run, domain=domain)
            if rule is not None and run.pk % 50 == 0:
                refresh_rules(rule_ids=[rule.pk], retire=True)  # as the hourly extraction does
        if rule is not None:
            refresh_rules(rule_ids=[rule.pk], retire=True)
            rule.refresh_from_db()
    return Arms(before=before, after=after, rule=rule, proposed_after_failures=proposed_after)
