"""One arm of bench/lifecycle in this process: the agency from a lead list to renewals and goodbyes
on simulated time, with some decisions switched off (bench/lifecycle/policy.py). Import it once
Django is set up on the arm's scratch database (bench/lifecycle/run.py does both)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings

from agents import registry
from agents.models import AgentRun
from agents.testing import WorldStep, keep_schedules
from bench.arms import START, approve_what_waits, demo_agency, live, review_deliverability
from bench.lifecycle.forks import Fork, Snapshots
from bench.lifecycle.metering import metered
from bench.lifecycle.policy import applied, arm_decisions
from bench.market import (
    LEADS_PER_MAILBOX,
    MAILBOX_CAP,
    NOT_HERE,
    AgentTimer,
    CpuMeter,
    QueryCounter,
    lead_list,
    market_people,
)
from crm.models import Campaign, Lead, Mailbox, Message
from crm.services.imports import import_leads_csv
from delivery.models import Offboarding
from integrations.models import SandboxRecord
from sales.models import Client, Meeting, Payment, Proposal
from smarter_team import clock

DAY = dt.timedelta(days=1)
SENT = ("sent", "delivered", "opened", "clicked", "replied", "bounced")
HELD = (Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP)


def by_currency(rows: Any, field: str) -> dict[str, str]:
    return {r["currency"]: str(r["s"]) for r in rows.values("currency").annotate(s=Sum(field)).order_by("currency")}


def outcomes(now: dt.datetime) -> dict[str, Any]:
    """What the arm's agency achieved, stage by stage (the whole-lifecycle test's definitions)."""
    leads = Lead.objects.filter(merged_into__isnull=True)
    cold = Message.objects.filter(direction="out", enrollment__isnull=False, status__in=SENT)
    replies = Message.objects.filter(direction="in", conversation__lead__isnull=False).exclude(intent="bounce")
    calls = Meeting.objects.filter(lead__isnull=False, client__isnull=True)
    later = Proposal.objects.filter(requirements__kind__in=["renewal", "upsell"])
    first_deals = Proposal.objects.exclude(pk__in=later.values("pk")).exclude(lead__isnull=True)
    signed = first_deals.filter(status=Proposal.Status.SIGNED)
    clients = Client.objects.all()
    renewed = Proposal.objects.filter(requirements__kind="renewal", status="signed").values("client").distinct()
    came_due = clients.filter(contract_end__lt=now.date() - 14 * DAY)
    left = clients.filter(status__in=[Client.Status.OFFBOARDED, Client.Status.CHURNED])
    payments = Payment.objects.filter(status="succeeded")
    refunds = Payment.objects.filter(status="refunded")
    return {
        "leads": leads.count(),
        "qualified": leads.filter(score__isnull=False).exclude(status=Lead.Status.DISQUALIFIED).count(),
        "emailed": cold.values("enrollment__lead").distinct().count(),
        "emails sent": cold.count(),
        "replied": replies.values("conversation__lead").distinct().count(),
        "interested": replies.filter(intent="interested").values("conversation__lead").distinct().count(),
        "unsubscribed": replies.filter(intent="unsubscribe").values("conversation__lead").distinct().count(),
        "meetings booked": calls.values("lead").distinct().count(),
        "meetings held": calls.filter(status__in=HELD).values("lead").distinct().count(),
        "no-shows": calls.filter(status=Meeting.Status.NO_SHOW).count(),
        # Every call missed, recovered or not (no-shows counts the calls still missed at the end: with
        # no_show_recovery on, a missed call is mostly booked again and held, and hides what reminders do).
        "calls missed": calls.aggregate(n=Sum("no_show_attempts"))["n"] or 0,
        "proposed": first_deals.exclude(status=Proposal.Status.DRAFT).values("lead").distinct().count(),
        "signed deals": signed.count(),
        "clients": clients.count(),
        "contracts due": came_due.count(),
        "renewed": renewed.count(),
        "churned": left.count(),
        "offboarded": Offboarding.objects.filter(status=Offboarding.Status.COMPLETED).count(),
        "deal value": by_currency(signed, "total"),
        "revenue": {
            c: str(Decimal(v) - Decimal(by_currency(refunds, "amount").get(c, "0")))
            for c, v in by_currency(payments, "amount").items()
        },
    }


def funnel() -> dict[str, dict[str, int]]:
    """Where replies go (issue #20: which answers book a call): leads by the intent of their first
    reply, our answers to replies (reply_drafting's, by the intent answered) and how many of them
    offer concrete times as the market reads them, and the booked leads by their first reply."""
    from integrations.sandbox.sending import offers_slot  # the market's own reading; the bench may look

    first: dict[int, str] = {}
    replies = Message.objects.filter(direction="in", conversation__lead__isnull=False).exclude(intent="bounce")
    for lead, intent in replies.order_by("sent_at", "pk").values_list("conversation__lead", "intent"):
        first.setdefault(lead, intent)
    sent = list(
        Message.objects.filter(direction="out", idempotency_key__startswith="reply:", status__in=SENT).values_list(
            "idempotency_key", "body"
        )
    )
    answered = {int(key.removeprefix("reply:")) for key, _ in sent}
    asked = dict(Message.objects.filter(pk__in=answered).values_list("pk", "intent"))
    answers: Counter[str] = Counter()
    with_times: Counter[str] = Counter()
    for key, body in sent:
        intent = asked.get(int(key.removeprefix("reply:")), "?")
        answers[intent] += 1
        with_times[intent] += offers_slot(body)
    booked = set(Meeting.objects.filter(lead__isnull=False, client__isnull=True).values_list("lead", flat=True))
    # How the clients feel at the end, as the market holds it (hidden from the agency): what reports
    # and save plays move before it shows in a renewal, which at 1,000 leads comes for a dozen clients.
    moods = [float(m) for m in SandboxRecord.objects.filter(kind="client_mood").values_list("data__mood", flat=True)]
    return {
        "first reply": dict(Counter(first.values()).most_common()),
        "answers": dict(answers.most_common()),
        "answers offering times": dict(with_times.most_common()),
        "booked by first reply": dict(Counter(first.get(lead, "none") for lead in booked).most_common()),
        "clients' mood at the end": {
            "clients": len(moods),
            "mean %": round(100 * sum(moods) / len(moods)) if moods else 0,
            "content (0.6 and up)": sum(m >= 0.6 for m in moods),
            "unhappy (under 0.4)": sum(m < 0.4 for m in moods),
        },
    }


def _step_done(snapshots: Snapshots, day: int, state: Callable[[], dict[str, Any]], step: WorldStep) -> None:
    snapshots.moment(day, state, within=True)


def play(
    *, leads: int, arm: str, funnel_days: int, days: int, fork: Fork | None = None, snapshots: Snapshots | None = None
) -> dict[str, Any]:
    """The arm from nothing, or from ``fork`` (the full arm's state at the end of a step or a day:
    its database is this process's already, its meters are added; a day begun is lived to its end);
    ``snapshots``: the full arm copies its state for the arms that may start from it
    (bench/lifecycle/forks.py)."""
    if fork is None:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    counter = QueryCounter()
    cpu = CpuMeter(connection)
    timer = AgentTimer(counter)
    if fork is not None:
        counter.count = fork.queries
        timer.seconds.update(fork.agent_seconds)
        timer.queries.update(fork.agent_queries)
    decisions = arm_decisions(arm)
    with (
        cpu,
        timer,
        applied(decisions) as switched_off,
        metered(fork.unpickled_meter() if fork else None) as meter,
        clock.frozen(dt.datetime.fromisoformat(fork.now) if fork else START) as frozen,
        connection.execute_wrapper(counter),
    ):
        off = tuple(sorted({*switched_off, *NOT_HERE}))
        began = time.perf_counter() - (fork.seconds if fork else 0.0)
        mailboxes = math.ceil(leads / LEADS_PER_MAILBOX)
        if fork is None:
            demo_agency()
            Mailbox.objects.bulk_create(
                [
                    Mailbox(email=f"sender{n:04d}@mail.smarter-team.test", display_name=f"Sender {n}")
                    for n in range(mailboxes)
                ]
            )
            Mailbox.objects.update(daily_cap=MAILBOX_CAP, warmup_stage=0)
        # Every agent of the lifecycle; the system agents watch the machinery and have their own benches.
        keep_schedules(
            lambda name: registry.is_registered(name) and registry.get(name).category != "system" and name not in off
        )
        if fork is None:
            people = market_people(leads)
            SandboxRecord.objects.bulk_create(
                [SandboxRecord(kind="person", ref=p.email, data=p.to_record()) for p in people], ignore_conflicts=True
            )
            import_errors = len(import_leads_csv(file=lead_list(people), source="lead_list").errors)
        else:
            import_errors = fork.import_errors
        capacity = mailboxes * MAILBOX_CAP

        def state() -> dict[str, Any]:  # what a fork from here starts with (bench/lifecycle/forks.py)
            return {
                "now": frozen.now.isoformat(),
                "seconds": time.perf_counter() - began,
                "cpu": (fork.cpu if fork else 0.0) + cpu.so_far(),
                "queries": counter.count,
                "import_errors": import_errors,
                "agent_seconds": dict(timer.seconds),
                "agent_queries": dict(timer.queries),
                "meter": Fork.pickled(meter),
            }

        first = 1 if fork is None else fork.day + (0 if fork.within else 1)  # a day begun: its rest
        if snapshots is not None:
            snapshots.moment(first, state, within=True)  # the lead list imported, nothing worked yet
        for day in range(first, days + 1):
            # Four-hour steps while campaigns and calls run, then two-day steps; each stops where an
            # agent said its work falls due, so a reminder still comes an hour before its call.
            step = dt.timedelta(hours=4) if day <= funnel_days else 2 * DAY
            after_step = None
            if snapshots is not None:
                after_step = functools.partial(_step_done, snapshots, day, state)
            live(frozen, until=START + day * DAY, step=step, off=off, stop_at_hints=True, after_step=after_step)
            Campaign.objects.filter(daily_limit__lt=capacity).update(daily_limit=capacity)
            approve_what_waits()
            review_deliverability()
            if snapshots is not None:
                snapshots.moment(day, state, within=False)
            if day % 10 == 0:
                print(
                    f"   [{arm} {leads}] day {day}: {time.perf_counter() - began:.0f}s, "
                    f"runs {AgentRun.objects.count()}, queries {counter.count}",
                    file=sys.stderr,
                    flush=True,
                )
        if snapshots is not None:
            snapshots.close()
        seconds = time.perf_counter() - began
        now = frozen.now
    worked = AgentRun.objects.exclude(status=AgentRun.Status.CANCELED)
    return {
        "arm": arm,
        "database": connection.vendor,
        "leads asked": leads,
        "import errors": import_errors,
        # Where the full arm's state was taken (business time, ISO): '' when the arm lived from nothing.
        "copies for forks": snapshots.copies if snapshots else 0,
        "shared until": fork.now if fork else "",
        "shared hours": round((dt.datetime.fromisoformat(fork.now) - START).total_seconds() / 3600, 1) if fork else 0,
        "seconds": round(seconds, 1),
        "cpu python": round(cpu.here + (fork.cpu if fork else 0.0), 1),
        "cpu postgres": round(cpu.there, 1) if cpu.there is not None else None,
        "runs": worked.count(),
        "failed runs": dict(
            Counter(AgentRun.objects.filter(status=AgentRun.Status.FAILED).values_list("agent_name", flat=True))
        ),
        "queries": counter.count,
        "agents seconds": round(sum(timer.seconds.values()), 1),
        "costliest agents": [[name, round(sec, 1), asked] for name, sec, asked in timer.top()],
        "by agent": dict(Counter(worked.values_list("agent_name", flat=True)).most_common()),
        "llm calls": sum(meter.calls.values()),
        "llm live usd": str(meter.live),
        "llm batches usd": str(meter.batches),
        "llm cache share": round(meter.cache_share, 3),
        "outcomes": outcomes(now),
        "funnel": funnel(),
    }


def play_arm(
    *,
    leads: int,
    arm: str,
    funnel_days: int,
    days: int,
    seed: int,
    fork: Fork | None = None,
    snapshots: Snapshots | None = None,
) -> dict[str, Any]:
    with override_settings(BRAIN_DEFAULT="heuristic", SANDBOX_WEBHOOKS=True, SANDBOX_SEED=seed, SANDBOX_WEBHOOK_URL=""):
        return play(leads=leads, arm=arm, funnel_days=funnel_days, days=days, fork=fork, snapshots=snapshots)
