"""Scenario (a) on a real roster agent: email_finder, whose provider refuses one kind of record.

Findymail (faked at the HTTP transport with respx, answering as its API documents) refuses to
search a webmail domain: small businesses in a scraped list often give ``gmail.com`` as their
company's domain, and a finder cannot guess a person's private address there. Each refusal is a
422 the client turns into a permanent failure of the run. email_finder's input is only
``lead_id``: the condition comes from its facts (``lead.company.domain``, recorded by its domain
part only), its lookups run in ``fetch`` after the learned guards, so the approved rule skips the
next webmail lead before anything is paid for.

Used by ``bench/learning/run.py`` (figures) and ``tests/learning/test_demo_finder.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import override_settings

from agents import runtime
from agents.models import AgentRun
from agents.services.runs import start_run
from crm.models import Company, Lead
from learning.demo import Arms, Phase, _count
from learning.models import KnowledgeRule
from learning.services import extraction
from learning.services.evidence import refresh_rules
from learning.services.rules import approve_rule, create_rule
from smarter_team import clock

AGENT = "email_finder"
FINDYMAIL = "https://app.findymail.com/api"
WEBMAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
FIRST = ("Dana", "Sam", "Priya", "Luca", "Wei", "Amara", "Noah", "Chloe")
LAST = ("Lee", "Patel", "Rossi", "Chen", "Okafor", "Silva", "Novak", "Garcia")
REFUSAL = {"error": "The domain is a webmail provider: no professional email can be found there."}


@contextmanager
def findymail(calls: list[str]) -> Iterator[None]:
    """The email_finder role served by Findymail, its API faked at the transport."""
    import httpx
    import respx

    def search(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        domain = str(body.get("domain", "")).lower()
        calls.append(domain)
        if domain in WEBMAIL:
            return httpx.Response(422, json=REFUSAL)
        first, _, last = str(body.get("name", "")).partition(" ")
        email = f"{first}.{last}@{domain}".lower()
        return httpx.Response(200, json={"contact": {"name": body.get("name", ""), "email": email, "domain": domain}})

    from unittest import mock

    from integrations.providers.findymail import FindymailClient

    keys = {"FINDYMAIL_API_KEY": "bench-findymail-key"}
    with (
        # The vendor's rate limit paces real calls (5/s); a faked vendor needs no pacing.
        mock.patch.object(FindymailClient, "rate", None),
        override_settings(
            INTEGRATION_KEYS=keys, PROVIDER_OVERRIDES={"email_finder": "findymail"}, EMAIL_FINDER_COSTS={}
        ),
        respx.mock(assert_all_called=False, assert_all_mocked=True) as router,
    ):
        router.post(f"{FINDYMAIL}/search/name").mock(side_effect=search)
        yield


def _lead(n: int, *, webmail: bool, rng: random.Random, country: str = "US") -> int:
    if webmail:
        # One company row per domain (crm's rule): the practices that gave a webmail domain share it.
        company, _ = Company.objects.get_or_create(
            domain=rng.choice(WEBMAIL), defaults={"name": "Webmail practices", "country": country, "source": "bench"}
        )
    else:
        domain = f"{rng.choice(('harbor', 'summit', 'cedar', 'atlas'))}dental{n}.com"
        company = Company.objects.create(name=f"Practice {n}", domain=domain, country=country, source="bench")
    lead = Lead.objects.create(
        first_name=rng.choice(FIRST), last_name=f"{rng.choice(LAST)}{n}", company=company, country=country
    )
    return lead.pk


def _finder_run(n: int, *, webmail: bool, rng: random.Random, tick: clock.FrozenClock, country: str) -> AgentRun:
    tick.tick(dt.timedelta(minutes=1))
    run = start_run(
        agent_name=AGENT,
        input={"lead_id": _lead(n, webmail=webmail, rng=rng, country=country)},
        trigger=AgentRun.Trigger.MANUAL,
        enqueue=False,
    )
    runtime.execute(run.pk)
    run.refresh_from_db()
    return run


def play_finder(
    *, before_runs: int, after_runs: int, webmail_share: float, seed: int = 13, bad_rule: bool = False
) -> tuple[Arms, dict[str, int]]:
    """Like ``learning.demo.play_id_only`` on email_finder; also returns how many searches were paid
    for on webmail domains before and after (what the rule saves)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload
    calls: list[str] = []
    before, after = Phase(), Phase()
    rule: KnowledgeRule | None = None
    proposed_after: int | None = None
    n = 0
    paid: dict[str, int] = {}
    with findymail(calls), clock.frozen(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)) as tick:
        for _ in range(before_runs):
            n += 1
            webmail, country = rng.random() < webmail_share, rng.choice(["DE", "US"])
            run = _finder_run(n, webmail=webmail, rng=rng, tick=tick, country=country)
            _count(before, run, domain=not webmail)
            if not bad_rule and rule is None and run.status == AgentRun.Status.FAILED:
                proposed = extraction.extract().proposed
                if proposed:
                    rule, proposed_after = proposed[0], before.failed
        paid["webmail_searches_before"] = sum(1 for d in calls if d in WEBMAIL)
        if bad_rule:
            rule = create_rule(
                user=None,
                rule_type=KnowledgeRule.RuleType.VALIDATE,
                agent_name=AGENT,
                text="Skip German leads: the finder refuses them.",
                condition={"field": "lead.company.country", "op": "equals", "value": "DE"},
            )
        if rule is not None:
            rule = approve_rule(rule=rule, user=None)
        mark = len(calls)
        for _ in range(after_runs):
            n += 1
            webmail, country = rng.random() < webmail_share, rng.choice(["DE", "US"])
            run = _finder_run(n, webmail=webmail, rng=rng, tick=tick, country=country)
            _count(after, run, domain=not webmail)
            if rule is not None and n % 50 == 0:
                extraction.extract()  # as the hourly pass does: refreshes the evidence, widens the rule
        paid["webmail_searches_after"] = sum(1 for d in calls[mark:] if d in WEBMAIL)
        if rule is not None:
            refresh_rules(rule_ids=[rule.pk], retire=True)
            rule.refresh_from_db()
    return Arms(before=before, after=after, rule=rule, proposed_after_failures=proposed_after), paid


def summary(arms: Arms) -> dict[str, Any]:
    return {"recurrence_before": arms.before.recurrence, "recurrence_after": arms.after.recurrence}
