"""A client's side of delivery: what they make of our work, our reports and our answers.

The client sees what a real client sees: the shared project board (integrations/sandbox/work.py),
the emails we send them, and the calendar. From that their hidden mood (accounts.py) moves:

- a weekly status report lifts it a little, more when it speaks about their actual milestones,
  up to content and no further (a report is expected, not delightful);
- silence lowers it: two weeks without hearing from us cost a little every week after. Hearing
  from us is any news about their work: a weekly report, a milestone delivered, an answer to what
  they wrote, a meeting held with them. Only reports counted until issue #18's calibration, so a
  client whose milestones arrived on time and whose questions were answered, but who had no weekly
  report, sank all the same (bench/clients: 17 of 20 churned with reporting off, mood 0.23, against
  0 of 20 with it on): one agent decided the year;
- a milestone we deliver on time lifts it, a late one costs by the days late, and one past its
  due date and still not delivered costs every week it stays so;
- a delivery with a gap in it (a task closed as "won't do" that nobody reworked, which QA is there
  to catch) costs more than a clean one earns;
- they write to us now and then (a change to the scope, a defect, thanks; a German client now
  and then in German), and a quick answer lifts their mood where a slow one, or none, costs.

Every move is keyed by the client's email and the event (a week, a milestone, a message), so a
retried send or a second look moves nothing twice. Constants: ``SILENCE`` and the answer times
follow what is known of client service (cited where a figure exists); the sizes are judgement,
chosen so that a quarter of weekly reports against a quarter of silence is a clear difference in
mood, which retention turns into renewals and churn.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from integrations.models import SandboxRecord
from integrations.sandbox import accounts, payloads, proposals
from integrations.sandbox.market import find_person
from integrations.sandbox.offboarding import left_at
from integrations.sandbox.rng import rng_for, sandbox_id
from integrations.sandbox.store import recall, records, remember, schedule, update_record
from integrations.sandbox.work import Progress
from integrations.sandbox.work import schedule as work_schedule
from smarter_team import clock

# --- reports -------------------------------------------------------------------------------------
# A report closes part of the gap to content (below); one that names their milestones counts fully, a
# generic one half (judgement: clients value specifics over "all on track"). Regular news, like a
# milestone on time and a quick answer below, is what the client bought: in Kano's terms (Kano et
# al., 1984) a "must-be" quality, whose absence dissatisfies (SILENCE, lateness, no answer) and
# whose presence satisfies little; and a bad experience weighs more than a good one of the same
# size (Baumeister et al., "Bad is stronger than good", 2001). So the lifts are smaller than the
# penalties: at 0.05 a week (with 0.06 per clean punctual month and 0.03 per quick answer) the
# routine lifted clients who began the contract unhappy (mood 0.1-0.2) to 0.36-0.64 by the time
# their renewal was offered, penalties included: they renewed about as often as not (issue #18,
# tests/e2e/test_client_lifecycle.py).
REPORT_LIFT = 0.02
# A report reassures a client who is not yet content (the further from it, the more: a worried
# client reads it closely) but a content client expects it and is not delighted by one more (Kano's
# must-be, above): reports lift up to ``REPORTS_CONTENT`` and no further. Until issue #18's
# calibration they closed part of the gap to 1.0, so twenty-six reports a contract carried every
# reported client to a mood of 0.98 whatever else happened (judgement: delight comes from the work
# delivered, not from the news about it).
REPORTS_CONTENT = 0.8
# "68% of customers leave because they believe you do not care about them" (the Rockefeller
# Corporation study the U.S. SBA popularised): a client not hearing from us notices after about two
# weeks (a fortnightly cadence is the least agencies promise) and cares more each silent week.
SILENT_AFTER = dt.timedelta(days=14)
SILENCE = 0.025
# Neglect is felt while there is work going on and in the weeks after it ended, when the client
# still wants to hear how the launch went (judgement).
ATTENTIVE_AFTER_WORK = dt.timedelta(weeks=3)
# --- milestones ----------------------------------------------------------------------------------
ON_TIME = 0.02  # was 0.04: punctuality is expected (Kano's must-be, above); lateness costs by the day
LATE_PER_DAY, MAX_LATE = 0.01, 0.08
OVERDUE_GRACE = dt.timedelta(days=7)  # a week past due without the deliverable, and then weekly
OVERDUE = 0.02
# A defect the client finds costs more than a clean delivery (QA's pass) earns; was 0.02 (as above).
CLEAN_DELIVERY, GAP_FOUND = 0.01, 0.08
# --- messages from the client ------------------------------------------------------------------------
# PMI's Pulse of the Profession (2018) found scope creep in 52% of projects: about half the clients
# ask for a change during a project. Fixes and thanks come on top (judgement).
MESSAGES_PER_PROJECT = ((0, 0.35), (1, 0.40), (2, 0.25))
MESSAGE_KINDS = (("change", 0.7), ("bug", 0.2), ("thanks", 0.1))
MESSAGE_AFTER_DAYS = (5, 40)
# A German-speaking client writes in German one time in three (judgement).
GERMAN_SHARE = 1 / 3
# Answer times: business clients expect an answer within a business day (HubSpot's service
# research: 90% of customers rate an "immediate" answer, 10 minutes or less, as important);
# after three days the client has chased or given up.
QUICK_ANSWER, SLOW_ANSWER = dt.timedelta(hours=24), dt.timedelta(hours=72)
ANSWERED_QUICKLY, ANSWERED_SLOWLY = 0.015, -0.04  # a quick answer is expected: was 0.03 (as above)

_REPORT = re.compile(r"\b(?:weekly|status|progress)\s+(?:report|update)\b", re.I)
_DELIVERED = re.compile(r"\bdelivered\b|\bready for (?:your )?review\b", re.I)
_RE = re.compile(r"^(?:re|aw|fwd?):\s*", re.I)
_MESSAGES = {
    "change": (
        (
            "Adding WhatsApp",
            "Could we also add a WhatsApp channel to the assistant? Many of our customers "
            "message us there and we would like it to answer them too.",
        ),
        (
            "One more workflow",
            "We'd like the automation to also send a weekly summary to our managers. Can you add that to the project?",
        ),
        ("Spanish version", "Could you add Spanish as a second language? About a third of our customers prefer it."),
        (
            "Invoices too",
            "Can we extend the workflow so that it also creates the invoices in our "
            "accounting tool? That would save us another few hours a week.",
        ),
    ),
    "bug": (
        (
            "Wrong opening hours",
            "The assistant told a customer today that we are open on Sundays, which we are not. Could you take a look?",
        ),
        (
            "Sync stopped",
            "The sync to our CRM seems to have stopped since yesterday, new contacts are not "
            "showing up. Is something broken?",
        ),
    ),
    "thanks": (("Thank you", "Just wanted to say thanks, the team is really happy with how this is going."),),
}
_GERMAN = {
    "change": (
        "Erweiterung",
        "Könnten Sie bitte auch einen WhatsApp-Kanal für den Assistenten hinzufügen? "
        "Viele unserer Kunden schreiben uns dort und wir möchten, dass er auch dort antwortet.",
    ),
    "bug": (
        "Fehler",
        "Der Assistent hat einem Kunden heute falsche Öffnungszeiten genannt. Könnten Sie sich das bitte ansehen?",
    ),
    "thanks": ("Danke", "Vielen Dank, das Team ist sehr zufrieden mit dem bisherigen Ergebnis."),
}


# --- the reactions, one small function each --------------------------------------------------
def report_lift(*, mood: float, specific: bool) -> float:
    gap = max(0.0, REPORTS_CONTENT - mood) / REPORTS_CONTENT
    return REPORT_LIFT * gap * (1.0 if specific else 0.5)


def silence_penalty(*, since_last_word: dt.timedelta) -> float:
    return -SILENCE if since_last_word > SILENT_AFTER else 0.0


def delivery_effect(*, late_days: int, gap: bool) -> float:
    """A milestone delivered: its timing and whether what arrived is complete."""
    timing = ON_TIME if late_days <= 0 else -min(MAX_LATE, LATE_PER_DAY * late_days)
    return timing + (-GAP_FOUND if gap else CLEAN_DELIVERY)


def answer_effect(*, waited: dt.timedelta | None) -> float:
    """Our answer to what they wrote; ``None``: still unanswered after ``SLOW_ANSWER``."""
    if waited is None or waited > SLOW_ANSWER:
        return ANSWERED_SLOWLY
    return ANSWERED_QUICKLY if waited <= QUICK_ANSWER else 0.0


# --- who is a client -------------------------------------------------------------------------------
def client_projects(email: str) -> list[dict[str, Any]]:
    """The projects on the board for this person's company (what makes them a client to the world)."""
    address = email.strip().lower()
    by_contact = records(kind="project", party=address)
    domain = address.partition("@")[2]
    by_domain = records(kind="project", domain=domain) if domain else []
    seen = {p["project_id"] for p in by_contact}
    return by_contact + [p for p in by_domain if p["project_id"] not in seen]


def is_client(email: str) -> bool:
    address = email.strip().lower()
    # A buyer who has just signed is a client before their project reaches the board: the onboarding
    # welcome goes out first, and reading it as cold email made the signed buyer's address bounce.
    return (
        bool(client_projects(address)) or bool(records(kind="customer", party=address)) or proposals.has_signed(address)
    )


# --- mail to a client --------------------------------------------------------------------------
def client_reads(sent: Mapping[str, Any], *, body: str) -> bool:
    """A client reads one of our emails (called once per new send). Returns False when the
    recipient is not a client: the prospect reactions then apply instead."""
    address = str(sent["to"]).strip().lower()
    if not is_client(address):
        return False
    now, subject = clock.now(), str(sent.get("subject", ""))
    text = f"{subject}\n{body}"
    if _answers(address, subject=subject, now=now):
        _heard(address, now=now, what="answer")
    if _REPORT.search(subject) or _REPORT.search(body[:400]):
        week = "{}-W{:02d}".format(*now.isocalendar()[:2])
        remember(kind="client_report_seen", ref=f"{address}:{week}", data={"email": address, "at": now.isoformat()})
        specific = any(name.lower() in text.lower() for name in _milestone_names(address))
        lift = report_lift(mood=accounts.mood(address), specific=specific)
        accounts.move(address, lift, key=f"report:{address}:{week}", reason="weekly status report")
    if _DELIVERED.search(subject) and _delivered(address, text=text, now=now):
        _heard(address, now=now, what="delivery")
    return True


HEARD = "client_heard"  # news about their work other than a report (a report is client_report_seen)


def _heard(address: str, *, now: dt.datetime, what: str) -> None:
    remember(
        kind=HEARD,
        ref=sandbox_id("heard", address, what, now.isoformat()),
        data={"email": address, "at": now.isoformat(), "what": what},
    )


def last_heard(address: str, *, now: dt.datetime) -> dt.datetime | None:
    """When the client last heard from us about their work: a report, a delivery, an answer, or a
    meeting held with them (a booking they came to; a no-show is not hearing from us)."""
    latest = (
        SandboxRecord.objects.filter(kind__in=("client_report_seen", HEARD), party=address)
        .order_by("-created_at", "-id")
        .first()
    )
    heard_at = [dt.datetime.fromisoformat(latest.data["at"])] if latest is not None else []
    for booking in records(kind="booking", party=address):
        start = dt.datetime.fromisoformat(str(booking["start"]))
        if booking.get("status") == "accepted" and booking.get("no_show") is False and start <= now:
            heard_at.append(start)
    return max(heard_at, default=None)


def _milestone_names(address: str) -> set[str]:
    return {p.milestone for prj in client_projects(address) for p in work_schedule(prj["project_id"]) if p.milestone}


def delivered_ref(project_id: str, milestone: str) -> str:
    """The record of a milestone's delivery: bounded, whatever the milestone's name (a name is the
    client's own words, "Workflow automation: onboarding a new client takes us almost three weeks",
    and a ref that long did not fit its column: the agent that announced the delivery failed)."""
    return sandbox_id("dlv", project_id, milestone)


def _delivered(address: str, *, text: str, now: dt.datetime) -> bool:
    """We say a milestone is delivered: they look at it on the board, and at the date. Returns
    whether the email named one of their milestones."""
    lowered = text.lower()
    named = False
    for project in client_projects(address):
        groups: dict[str, list[Any]] = {}
        for progress in work_schedule(project["project_id"]):
            if progress.milestone:
                groups.setdefault(progress.milestone, []).append(progress)
        for name, tasks in groups.items():
            if name.lower() not in lowered:
                continue
            dues = [t.due for t in tasks if t.due is not None]
            late = (now.date() - max(dues)).days if dues else 0
            dropped = any(not t.rework and t.dropped and t.ends_at <= now for t in tasks)
            reworked = any(t.rework and t.ends_at <= now for t in tasks)
            gap = dropped and not reworked
            key = delivered_ref(str(project["project_id"]), name)
            remember(kind="milestone_delivered", ref=key, data={"project_id": project["project_id"], "name": name})
            effect = delivery_effect(late_days=late, gap=gap)
            reason = f"milestone {name!r} delivered {max(late, 0)} day(s) late" + (", with a gap" if gap else "")
            accounts.move(address, effect, key=key, reason=reason)
            named = True
    return named


# --- what the client writes to us --------------------------------------------------------------
def _pick(rng: Any, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def plan_client_messages(project: Mapping[str, Any]) -> list[str]:
    """When the work starts, the world decides what the client will write during it, and when."""
    contact, project_id = str(project["contact"]), str(project["project_id"])
    person = find_person(contact)
    rng = rng_for("client-messages", contact, project.get("name", ""))
    start = dt.datetime.fromisoformat(str(project["created_at"]))
    last = SandboxRecord.objects.filter(kind="email", party=contact).order_by("-created_at").first()
    keys: list[str] = []
    for n in range(_pick(rng, MESSAGES_PER_PROJECT)):
        kind = _pick(rng, MESSAGE_KINDS)
        german = person.company.country == "Germany" and rng.random() < GERMAN_SHARE
        subject, text = _GERMAN[kind] if german else rng.choice(_MESSAGES[kind])
        at = start + dt.timedelta(days=rng.uniform(*MESSAGE_AFTER_DAYS))
        key = f"instantly:client:{project_id}:{n}"
        email = {
            "to": contact,
            "from_mailbox": str(last.data.get("from_mailbox", "")) if last is not None else "",
            "message_id": sandbox_id("msg", project_id, "client", n),
            "thread_id": str(last.data.get("thread_id", "")) if last is not None else sandbox_id("thr", project_id),
            "campaign_id": "",
        }
        remember(
            kind="client_message",
            ref=key,
            data={
                "email": contact,
                "kind": kind,
                "subject": subject,
                "asked_at": at.isoformat(),
                "german": german,
                "answered_at": None,
            },
        )
        schedule(
            key=key,
            provider="instantly",
            kind=f"client_{kind}",
            subject=contact,
            payload=payloads.instantly_event(
                event_type="reply_received", email=email, at=at, reply_subject=subject, reply_text=text
            ),
            due_at=at,
        )
        keys.append(key)
    return keys


def _waiting(address: str, now: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
    """Messages of theirs that expect an answer (not thanks) and have none yet."""
    found = SandboxRecord.objects.filter(kind="client_message", party=address).order_by("created_at")
    return [
        (r.ref, dict(r.data))
        for r in found
        if r.data.get("kind") != "thanks"
        and not r.data.get("answered_at")
        and dt.datetime.fromisoformat(r.data["asked_at"]) <= now
    ]


def _answers(address: str, *, subject: str, now: dt.datetime) -> bool:
    """Our email answers what they wrote (by its subject); returns whether it answered anything."""
    ours = _RE.sub("", subject.strip()).lower()
    answered = False
    for ref, message in _waiting(address, now):
        theirs = _RE.sub("", str(message["subject"]).strip()).lower()
        if not theirs or theirs not in ours:
            continue
        update_record(kind="client_message", ref=ref, answered_at=now.isoformat())
        waited = now - dt.datetime.fromisoformat(message["asked_at"])
        hours = round(waited.total_seconds() / 3600, 1)
        accounts.move(address, answer_effect(waited=waited), key=f"answer:{ref}", reason=f"answered in {hours} h")
        answered = True
    return answered


# --- the passage of time ---------------------------------------------------------------------------
def notice_time_passing(*, now: dt.datetime | None = None) -> bool:
    """Once per business day of the world: silence, overdue milestones and unanswered messages
    weigh on each client. Returns whether it looked (False: already done today)."""
    now = now or clock.now()
    today = now.date().isoformat()
    mark = remember(kind="clock", ref="client-days", data={"last": ""})
    if mark.get("last") == today:
        return False
    update_record(kind="clock", ref="client-days", last=today)
    week = "{}-W{:02d}".format(*now.isocalendar()[:2])
    contacts: dict[str, list[dict[str, Any]]] = {}
    for project in records(kind="project"):
        if project.get("contact") and not _left_before(str(project["contact"]), project):
            contacts.setdefault(str(project["contact"]), []).append(project)
    for address, projects in contacts.items():
        # Each project's schedule once a day: silence and overdue work both read it, and it is the
        # day's dearest read of the world (every task record of the project, replayed).
        plans = {str(p["project_id"]): work_schedule(p["project_id"]) for p in projects}
        _silence(address, plans, projects, now=now, week=week)
        for project in projects:
            _overdue(address, project, plans[str(project["project_id"])], now=now, week=week)
        for ref, message in _waiting(address, now):
            if now - dt.datetime.fromisoformat(message["asked_at"]) > SLOW_ANSWER:
                accounts.move(address, answer_effect(waited=None), key=f"answer:{ref}", reason="no answer in 3 days")
    return True


def _left_before(address: str, project: Mapping[str, Any]) -> bool:
    """Whether the client left us after this project began: their exit survey or handover reached
    them (integrations/sandbox/offboarding.py). A client who has gone expects no more reports and
    no more milestones of the work they left; weighing silence and "overdue" work on them for the
    rest of the year drove every departed client's mood to the floor with nothing happening (and it
    is the mood a win-back is answered with). Work begun after they left (a client won back) is
    watched again."""
    left = left_at(address)
    return left is not None and dt.datetime.fromisoformat(str(project["created_at"])) <= left


def _silence(
    address: str, plans: Mapping[str, list[Progress]], projects: list[dict[str, Any]], *, now: dt.datetime, week: str
) -> None:
    started = min(dt.datetime.fromisoformat(str(p["created_at"])) for p in projects)
    ends = [t.ends_at for plan in plans.values() for t in plan]
    if ends and now > max(ends) + ATTENTIVE_AFTER_WORK:
        return
    last = last_heard(address, now=now)
    heard = max(started, last) if last is not None else started
    penalty = silence_penalty(since_last_word=now - heard)
    if penalty:
        days = (now - heard).days
        accounts.move(address, penalty, key=f"silence:{address}:{week}", reason=f"no news from us for {days} days")


def _overdue(address: str, project: Mapping[str, Any], plan: list[Progress], *, now: dt.datetime, week: str) -> None:
    groups: dict[str, list[dt.date]] = {}
    for progress in plan:
        if progress.milestone and progress.due is not None:
            groups.setdefault(progress.milestone, []).append(progress.due)
    for name, dues in groups.items():
        due = max(dues)
        if now.date() - due <= OVERDUE_GRACE:
            continue
        if recall(kind="milestone_delivered", ref=delivered_ref(str(project["project_id"]), name)) is not None:
            continue
        accounts.move(
            address,
            -OVERDUE,
            key=f"overdue:{project['project_id']}:{name}:{week}",
            reason=f"milestone {name!r} {(now.date() - due).days} days past due, not delivered",
        )
