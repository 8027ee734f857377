"""Chaos send bench: 1,000 campaign emails through the real send path while the worker is SIGKILLed
at random points, at least 50 times, and restarted each time. Counts duplicates and losses.

Run by hand (prints figures; asserts nothing). It creates, migrates and empties the scratch database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_bench_chaos REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/chaos_send/run.py [--sends 1000] [--kills 50] [--seed 16]

The path is production's: sequence_scheduler runs (started every few seconds, as beat's ticks
are) render each due step, reserve a mailbox under its cap, write the queued Message and record the
``email.send`` act in one transaction; the worker performs the acts after commit through the
Outreach role (the sandbox market, which remembers every email it received), and on_done marks the
Message sent. One Celery worker process (solo pool, queues crm and system) does the work; this
process plays beat and the sweepers: it publishes due runs (dispatch_due), takes back runs of a
dead worker (recover_lost_runs) and performs acts a dead worker left (outbox.perform_due, which
outbox.py calls a beat task, but which no beat schedule runs yet: ``--beat-as-configured`` leaves it
out and shows what that costs).

Once a worker is up (it says so on Celery's worker_ready signal), it is killed with SIGKILL after
a random 0.2-4 s of work, so deaths fall anywhere: loading, inside the act's transaction, between
the commit and the sends, inside a send, between a send and its done mark. It is restarted at once,
until every email is out and at least ``--kills`` deaths happened.

Counted at the end, once everything settled:
- losses: enrollments whose email the market never received, and Messages not marked sent;
- duplicates: emails the market received more than once for one enrollment and step (any key),
  and Messages or acts recorded twice for one key;
- provider calls repeated for the same key (a send retried after a death, absorbed by the key).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.scratch import setup_worker_bench, worker_command  # noqa: E402

setup_worker_bench(log_level="ERROR")

import datetime as dt  # noqa: E402

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
call_command("flush", interactive=False, verbosity=0)

from agents import outbox, runtime  # noqa: E402
from agents.models import Action, AgentRun, Escalation  # noqa: E402
from agents.services.escalations import decide, raise_escalation  # noqa: E402
from agents.services.runs import dispatch_due, start_run  # noqa: E402
from bench.chaos_send import workload  # noqa: E402
from crm.models import Campaign, CampaignStep, Company, Enrollment, Lead, Mailbox, Message  # noqa: E402
from integrations.models import SandboxRecord  # noqa: E402
from integrations.sandbox.world import search_people  # noqa: E402
from smarter_team import clock  # noqa: E402

WORKER_LOG = Path(tempfile.gettempdir()) / "bench_chaos_send_worker.log"
QUERIES = ("dental clinics", "law firms", "logistics companies", "marketing agencies", "physiotherapy practices")
TICK_SECONDS = 3  # how often a scheduler run is started (beat's is 300 business seconds; faster here)


def setup(sends: int) -> Campaign:
    # Every day and hour is in the window: what is measured is the send path, not the calendar.
    campaign = Campaign.objects.create(
        name="chaos send bench",
        status=Campaign.Status.ACTIVE,
        daily_limit=sends * 2,
        send_window_start=dt.time(0, 0),
        send_window_end=dt.time(23, 59),
        send_weekdays=[1, 2, 3, 4, 5, 6, 7],
    )
    CampaignStep.objects.create(
        campaign=campaign,
        order=0,
        subject_template="{{ company }} and missed calls",
        body_template="Hi {{ first_name }},\n\nWe answer the calls your team misses.\n\n{{ sender_name }}",
    )
    mailboxes = [Mailbox.objects.create(email=f"sender{i}@outreach.example.com", daily_cap=sends) for i in range(5)]
    campaign.mailboxes.add(*mailboxes)
    people, seen = [], set()
    for query in QUERIES:
        for person in search_people(query=query, location="", start=0, count=sends):
            if person.email not in seen and person.email_status != "invalid":
                seen.add(person.email)
                people.append(person)
    for person in people[:sends]:
        SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
        company, _ = Company.objects.get_or_create(domain=person.company.domain, defaults={"name": person.company.name})
        lead = Lead.objects.create(
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            company=company,
            time_zone="UTC",
            status=Lead.Status.QUALIFIED,
        )
        Enrollment.objects.create(lead=lead, campaign=campaign, current_step=0, next_send_at=clock.now())
    # The operator approved the first batch (the human gate is tested on its own).
    escalation = raise_escalation(
        kind=Escalation.Kind.APPROVAL, reason="first batch", dedupe_key=f"approval:campaign:{campaign.pk}:first-batch"
    )
    from django.contrib.auth import get_user_model

    decide(escalation=escalation, approve=True, user=get_user_model().objects.create_user("bench-ops"), note="bench")
    return campaign


def start_worker() -> subprocess.Popen[bytes]:
    workload._redis.delete(workload.READY)
    command = worker_command("bench.chaos_send.workload", queues="crm,system", log_level="ERROR")
    with WORKER_LOG.open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log)


def sweep(*, outbox_sweeper: bool) -> None:
    """What beat and the sweepers do, once."""
    runtime.recover_lost_runs()
    dispatch_due()
    if outbox_sweeper:
        outbox.perform_due(limit=20)  # a few per pass: this loop also times the kills


def settled(campaign: Campaign) -> bool:
    return (
        not Enrollment.objects.filter(campaign=campaign, status=Enrollment.Status.ACTIVE).exists()
        and not Message.objects.filter(status=Message.Status.QUEUED).exists()
        and not Action.objects.filter(status=Action.Status.PENDING).exists()
        and not AgentRun.objects.filter(status__in=["queued", "running"], agent_name="sequence_scheduler").exists()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--beat-as-configured",
        action="store_true",
        help="no outbox sweeper: beat's schedules (agents/schedules.py) do not run outbox.perform_due yet",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    campaign = setup(args.sends)
    workload._redis.delete(workload.CALLS)
    WORKER_LOG.unlink(missing_ok=True)
    workload.app.control.purge()
    print(f"{Enrollment.objects.filter(campaign=campaign).count()} enrollments due; killing the worker now and then")

    kills, busy_kills, tick, last_tick = 0, 0, 0, 0.0
    worker = start_worker()
    death_at: float | None = None
    try:
        while True:
            now = time.monotonic()
            if now - last_tick >= TICK_SECONDS:
                last_tick, tick = now, tick + 1
                start_run(
                    agent_name="sequence_scheduler",
                    input={},
                    trigger="schedule",
                    idempotency_key=f"schedule:sequence_scheduler:bench:{tick}",
                )
            sweep(outbox_sweeper=not args.beat_as_configured)
            done = settled(campaign)
            if args.beat_as_configured and kills >= args.kills and not done:
                # Nothing performs a dead worker's pending acts: wait for the last worker's own, then stop.
                time.sleep(20)
                break
            if death_at is None and workload._redis.get(workload.READY):
                death_at = now + rng.uniform(0.2, 4.0)
            if death_at is not None and now >= death_at and (kills < args.kills or not done):
                busy = (
                    AgentRun.objects.filter(status="running").exists()
                    or Action.objects.filter(status="pending", lease_expires_at__gt=clock.wall_now()).exists()
                )
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills, busy_kills = kills + 1, busy_kills + int(busy)
                worker = start_worker()
                death_at = None
            elif done and kills >= args.kills:
                break
            if now - started > 3600:
                print("gave up after an hour")
                break
            time.sleep(0.1 if death_at is not None else 0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    report(campaign, kills=kills, busy_kills=busy_kills, seconds=time.monotonic() - started)


def report(campaign: Campaign, *, kills: int, busy_kills: int, seconds: float) -> None:
    enrollments = list(Enrollment.objects.filter(campaign=campaign).select_related("lead"))
    keys = {f"email:enrollment:{e.pk}:step:0": e for e in enrollments}
    received = [r.data for r in SandboxRecord.objects.filter(kind="email")]
    per_recipient = Counter(r["to"] for r in received if r.get("campaign_id") == str(campaign.pk))
    raw: list[bytes] = workload._redis.lrange(workload.CALLS, 0, -1)  # type: ignore[assignment]
    entries = [e.decode().split(" ", 1) for e in raw]
    calls = Counter(key for _, key in entries)
    by_sweeper = sum(1 for pid, _ in entries if int(pid) == os.getpid())
    messages = Counter(Message.objects.filter(idempotency_key__in=keys).values_list("status", flat=True))
    acts = Counter(Action.objects.filter(kind="email.send").values_list("idempotency_key", flat=True))
    lost_at_market = sum(1 for e in enrollments if per_recipient.get(e.lead.email, 0) == 0)
    not_marked = sum(n for status, n in messages.items() if status != Message.Status.SENT)
    duplicates_at_market = sum(n - 1 for n in per_recipient.values() if n > 1)
    duplicate_acts = sum(n - 1 for n in acts.values() if n > 1)
    runs = Counter(AgentRun.objects.filter(agent_name="sequence_scheduler").values_list("status", flat=True))
    print(f"worker SIGKILLed {kills} times ({busy_kills} while a run or a send was in flight), restarted each time")
    print(f"sequence_scheduler runs: {dict(runs)}")
    print(f"emails received by the market: {sum(per_recipient.values())} for {len(enrollments)} enrollments")
    print(f"messages: {dict(messages)}")
    print(f"LOSSES: {lost_at_market} never received, {not_marked} not marked sent   (target 0)")
    print(
        f"DUPLICATES: {duplicates_at_market} emails received twice, {duplicate_acts} acts recorded twice   (target 0)"
    )
    repeated = sum(n - 1 for n in calls.values() if n > 1)
    print(
        f"provider calls: {sum(calls.values())} for {len(calls)} keys; {repeated} repeated a key after a death "
        "(the same key: the provider sent nothing twice)"
    )
    print(f"sends performed by a worker: {len(entries) - by_sweeper}, by the outbox sweeper: {by_sweeper}")
    print(f"wall time {seconds:.0f} s (worker log: {WORKER_LOG})")


if __name__ == "__main__":
    main()
