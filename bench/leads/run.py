"""Leads bench: sandbox leads through validation, company research and scoring; the AUC of the score
against the sandbox's hidden ``fits`` next to a baseline that knows only the industry match.

Run by hand (prints figures). It creates and migrates the scratch database when needed and empties
it first (it is a scratch database):

    DJANGO_SETTINGS_MODULE=smarter_team.settings_test DATABASE_URL=postgres://.../st_bench_leads \\
        .venv/bin/python bench/leads/run.py [--leads 1000] [--niche "dental clinics"]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.scratch import setup_django

setup_django()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
call_command("flush", interactive=False, verbosity=0)
logging.getLogger("agents").setLevel(logging.ERROR)

from django.test.utils import override_settings  # noqa: E402

from agents import runtime  # noqa: E402
from agents.models import AgentRun  # noqa: E402
from agents.services.runs import start_run  # noqa: E402
from crm.models import IdealCustomerProfile, Lead  # noqa: E402
from crm.services.leads import create_or_update_lead  # noqa: E402
from crm.services.scoring import employee_range, industry_matches  # noqa: E402
from integrations.models import SandboxRecord  # noqa: E402
from integrations.sandbox.market import SandboxEmailVerifier  # noqa: E402
from integrations.sandbox.world import Company, Person, search_people  # noqa: E402


def auc(scores: list[float], truth: list[bool]) -> float:
    """Mann-Whitney AUC (ties count a half): the chance a fitting lead outscores one that does not."""
    ranked = sorted(zip(scores, truth, strict=True), key=lambda t: t[0])
    rank_sum, i, n = 0.0, 0, len(ranked)
    while i < n:
        j = i
        while j < n and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # 1-based mean rank of the tie group
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    pos = sum(truth)
    neg = n - pos
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")


def bootstrap(
    ours: list[float], base: list[float], truth: list[bool], *, rounds: int = 1000, seed: int = 14
) -> dict[str, tuple[float, float]]:
    """95% intervals of our AUC, the baseline's and the margin, resampling the leads with replacement."""
    rng = random.Random(seed)
    n, drawn = len(truth), defaultdict[str, list[float]](list)
    for _ in range(rounds):
        pick = [rng.randrange(n) for _ in range(n)]
        t = [truth[i] for i in pick]
        a, b = auc([ours[i] for i in pick], t), auc([base[i] for i in pick], t)
        drawn["ours"].append(a)
        drawn["base"].append(b)
        drawn["margin"].append(a - b)
    return {k: (sorted(v)[int(0.025 * rounds)], sorted(v)[int(0.975 * rounds) - 1]) for k, v in drawn.items()}


def work(run: AgentRun) -> None:
    runtime.execute(run.pk)


def drain_children(parent_ids: list[int]) -> None:
    while parent_ids:
        children = list(AgentRun.objects.filter(parent_id__in=parent_ids, status=AgentRun.Status.QUEUED))
        for child in children:
            runtime.execute(child.pk)
        parent_ids = [c.pk for c in children]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--niche", default="dental clinics")
    args = parser.parse_args()
    started = time.perf_counter()
    icp = IdealCustomerProfile.objects.create(
        name="bench",
        industries=[args.niche],
        company_sizes=["11-50", "51-200", "201-500"],
        titles=["Owner", "Founder", "CEO", "COO"],
        countries=[],
    )
    people: list[Person] = search_people(query=args.niche, location="", start=0, count=args.leads)
    SandboxRecord.objects.bulk_create(
        [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
    )
    verifier = SandboxEmailVerifier()
    truth: dict[int, Person] = {}
    for p in people:  # what a lead search, the finder and the verifier would have stored
        c = p.company
        lead = create_or_update_lead(
            data={
                "first_name": p.first_name,
                "last_name": p.last_name,
                "email": p.email,
                "title": p.title,
                "linkedin_url": p.linkedin_url,
                "company_name": c.name,
                "domain": c.domain,
                "industry": c.industry,
                "employee_range": employee_range(c.employees),
                "source": "sandbox",
            }
        ).lead
        Lead.objects.filter(pk=lead.pk).update(
            seniority=p.seniority, email_status=verifier.verify(p.email).status, icp=icp
        )
        truth[lead.pk] = p
    loaded = time.perf_counter()
    with override_settings(BRAIN_DEFAULT="heuristic"):
        ids = []
        for lead_id in truth:
            run = start_run(agent_name="data_validation", input={"lead_id": lead_id}, trigger="manual", enqueue=False)
            work(run)
            run = start_run(agent_name="company_research", input={"lead_id": lead_id}, trigger="handoff", enqueue=False)
            work(run)
            ids.append(run.pk)
        drain_children(ids)  # lead_scoring, then lead_research for the qualified
    ran = time.perf_counter()

    leads = {lead.pk: lead for lead in Lead.objects.select_related("company").filter(pk__in=truth)}
    rows = [(leads[pk], truth[pk]) for pk in truth if leads[pk].score is not None]
    fits = [p.company.fits for _, p in rows]
    ours = [float(lead.score or 0) for lead, _ in rows]
    base = [float(industry_matches(lead.company.industry if lead.company else "", icp.industries)) for lead, _ in rows]
    inside = [(o, f) for o, b, f in zip(ours, base, fits, strict=True) if b]
    print(
        f"AUC among leads in the ICP's industry (where the baseline cannot rank, 0.5): "
        f"{auc([o for o, _ in inside], [f for _, f in inside]):.3f} over {len(inside)} leads"
    )
    qualified = [lead.status == Lead.Status.QUALIFIED for lead, _ in rows]
    tp = sum(q and f for q, f in zip(qualified, fits, strict=True))
    print(f"leads: {len(truth)} loaded, {len(rows)} scored; {sum(fits)} fit (sandbox fit >= 0.6)")
    ci = bootstrap(ours, base, fits)
    a, b = auc(ours, fits), auc(base, fits)
    print(f"AUC score vs hidden fits: {a:.3f} (95% CI {ci['ours'][0]:.3f}-{ci['ours'][1]:.3f})")
    print(f"AUC baseline (industry match only): {b:.3f} (95% CI {ci['base'][0]:.3f}-{ci['base'][1]:.3f})")
    print(
        f"margin: {a - b:+.3f} (95% CI {ci['margin'][0]:+.3f} to {ci['margin'][1]:+.3f}); "
        f"the most any score could add over this baseline: {1 - b:+.3f}"
    )
    # The sandbox names namesakes' sites alike now and then: two of its companies at one domain are one
    # company in our records (and one site for research), so what we know of a lead may be the other's.
    at_domain = defaultdict[str, set[Company]](set)
    for p in truth.values():
        at_domain[p.company.domain].add(p.company)
    shared = {i for i, (_, p) in enumerate(rows) if len(at_domain[p.company.domain]) > 1}
    own = [i for i in range(len(rows)) if i not in shared]
    print(
        f"leads at a domain the sandbox gave two companies: {len(shared)}; without them AUC "
        f"{auc([ours[i] for i in own], [fits[i] for i in own]):.3f}, baseline "
        f"{auc([base[i] for i in own], [fits[i] for i in own]):.3f}"
    )
    print(
        f"qualified: {sum(qualified)}, of which fit: {tp} (precision {tp / max(1, sum(qualified)):.1%}, "
        f"recall {tp / max(1, sum(fits)):.1%})"
    )
    with_signals = sum(any("buying signals found by research" in r for r in lead.score_reasons) for lead, _ in rows)
    print(f"leads with research signals in their reasons: {with_signals}")
    print(f"runs: {AgentRun.objects.count()}")
    print(f"time: load {loaded - started:.0f}s, agents {ran - loaded:.0f}s")


if __name__ == "__main__":
    main()
