"""A learned domain rule that keeps meeting the same refusal on new domains widens to them.

A rule derived from the first few failures names the domains seen by then (a finder refusing
``yahoo.com`` and ``outlook.com``); the same refusal on ``gmail.com`` a day later is the same lesson,
not a new one: its fingerprint is covered, so extraction would never propose anything for it.
Each extraction pass therefore looks at the failures of an active domain rule's fingerprint since
its approval that it did not match. A domain seen failing in at least ``min_occurrences`` runs, and
rare among the agent's successes (the rule would not throw work away), joins the rule; the rule
says so in its evidence (what was added, when, on how many failures), and the holdout goes on
measuring it. Anything else (another field, a domain that also succeeds) stays for a human.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from agents.models import AgentRun
from learning.derivation import MAX_DOMAINS, OK_SHARE, domain_condition, domains_of
from learning.models import ErrorLog, KnowledgeRule
from smarter_team import clock

MAX_FAILURES_READ = 200
MAX_SUCCESSES_READ = 200


@dataclass(frozen=True)
class Widening:
    rule: KnowledgeRule
    added: list[str]
    failures: int


def _domain_at(facts: object, path: str) -> str:
    if not isinstance(facts, dict):
        return ""
    found = facts.get(path)
    return str(found.get("domain", "")) if isinstance(found, dict) else ""


def plan_widenings(*, threshold: int) -> list[Widening]:
    """The reads: which active domain rules should take which new domains."""
    planned = []
    rules = KnowledgeRule.objects.filter(status=KnowledgeRule.Status.ACTIVE).exclude(fingerprint="")
    for rule in rules.filter(condition__op="matches"):
        domains = domains_of(rule.condition)
        if domains is None or len(domains) >= MAX_DOMAINS:
            continue
        path = str(rule.condition["field"])
        since = rule.approved_at or rule.created_at
        failing = ErrorLog.objects.filter(fingerprint=rule.fingerprint, occurred_at__gte=since, run__isnull=False)
        runs_by_domain: dict[str, set[int]] = {}
        for run_id, context in failing.values_list("run_id", "context")[:MAX_FAILURES_READ]:
            domain = _domain_at((context or {}).get("facts"), path)
            if domain and domain not in domains:
                runs_by_domain.setdefault(domain, set()).add(run_id)
        new = sorted(d for d, runs in runs_by_domain.items() if len(runs) >= threshold)
        if not new:
            continue
        succeeded = (
            AgentRun.objects.filter(agent_name=rule.agent_name, status=AgentRun.Status.SUCCEEDED, created_at__gte=since)
            .filter(~Q(tracking__facts={}))
            .values_list("tracking__facts", flat=True)[:MAX_SUCCESSES_READ]
        )
        ok = [_domain_at(facts, path) for facts in succeeded]
        new = [d for d in new if not ok or sum(1 for o in ok if o == d) / len(ok) <= OK_SHARE]
        new = new[: MAX_DOMAINS - len(domains)]
        if new and len(domain_condition(path, [*domains, *new])["value"]) <= 200:
            planned.append(Widening(rule=rule, added=new, failures=sum(len(runs_by_domain[d]) for d in new)))
    return planned


def widen(item: Widening, *, now: dt.datetime | None = None) -> KnowledgeRule:
    """The write: the rule's condition takes the new domains (its version changes: every worker
    reloads it), with the change kept in its evidence."""
    rule = KnowledgeRule.objects.select_for_update().get(pk=item.rule.pk)
    domains = domains_of(rule.condition) or []
    added = [d for d in item.added if d not in domains]
    if not added or rule.status != KnowledgeRule.Status.ACTIVE:
        return rule
    rule.condition = domain_condition(str(rule.condition["field"]), [*domains, *added])
    history = list(rule.action_params.get("widened", []))
    history.append({"at": (now or clock.now()).isoformat(), "added": added, "failures": item.failures})
    rule.action_params = {**rule.action_params, "widened": history}
    rule.text = f"{rule.text.rstrip()} (widened to {', '.join(added)} after {item.failures} more failures)"
    rule.save(update_fields=["condition", "action_params", "text", "updated_at"])
    return rule
