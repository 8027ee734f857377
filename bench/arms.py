"""The on/off comparison the stage benches share (bench/clients, bench/deals): the same market people,
the same start, the agency lived once per arm with some agents switched off.

An agent is switched off by name: its beat is disabled (``agents.testing.keep_schedules``) and any
run started for it is canceled (``agents.testing.advance(off=...)``), so the arms differ only by
what the agency did. Import it once Django is set up.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

from agents.models import Escalation
from agents.services.escalations import decide
from agents.testing import WorldStep, advance
from integrations.sandbox.world import Person, search_people
from smarter_team import clock

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
INDUSTRIES = ("dental clinics", "law firms", "accounting firms", "real estate agencies", "ecommerce")


def people(count: int) -> list[Person]:
    """Decision makers with a deliverable address, spread over industries (and so over zones): the
    same ones, in the same order, for every arm."""
    found: list[Person] = []
    seen: set[str] = set()
    for index in range(count * 20):
        industry = INDUSTRIES[index % len(INDUSTRIES)]
        for person in search_people(query=industry, location="", start=index // len(INDUSTRIES), count=1):
            if person.decision_maker and person.email_status == "deliverable" and person.email not in seen:
                seen.add(person.email)
                found.append(person)
        if len(found) == count:
            return found
    return found


def demo_agency() -> None:
    """seed_demo's agency (its profile, two ICPs and mailboxes) in autopilot as ``make run`` sets it,
    without make run's book of business (crm/demo_book.py): a bench counts only what its own leads did."""
    from crm.management.commands.seed_demo import DEMO_AUTOPILOT, seed_demo
    from crm.services.agency import profile

    seed_demo()
    agency = profile()
    agency.autopilot = {**(agency.autopilot or {}), **DEMO_AUTOPILOT}
    agency.save(update_fields=["autopilot"])


def live(
    frozen: clock.FrozenClock,
    *,
    until: dt.datetime,
    step: dt.timedelta,
    off: tuple[str, ...],
    stop_at_hints: bool = False,
    after_step: Callable[[WorldStep], None] | None = None,
) -> None:
    """The agency on its beats until ``until``, the sandbox answering through the real webhooks; the
    agents ``off`` never run. An arm is as long as it takes: no cap on the number of runs."""
    advance(
        frozen,
        until=until,
        step=step,
        max_runs=sys.maxsize,
        off=off,
        stop_at_hints=stop_at_hints,
        after_step=after_step,
    )


def approve_what_waits(note: str = "approved in the daily review") -> int:
    """The team's pass over the approval queue: everything the agents asked for, approved, in the
    order it was asked (the runs resume in that order)."""
    waiting = list(
        Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, status=Escalation.Status.OPEN).order_by("pk")
    )
    for gate in waiting:
        decide(escalation=gate, approve=True, user=None, note=note)
    return len(waiting)


def review_deliverability(note: str = "reviewed in the daily review: resumed") -> int:
    """The team's look at what deliverability_monitor paused, as its escalation asks ("they fix the
    cause, resume and close the escalation"): a campaign or mailbox paused for the first time is
    resumed and the escalation closed, so the monitor judges only the sends after it. The lists
    are verified and the copy passed the spam check, so a first breach on a few hundred sends (two
    complaints in 451: the market's complaints are mostly chance) is taken as bad luck. A subject
    that breaches again stays paused: a second time is a pattern a team would stop to fix. Without
    this pass a paused campaign waited for the rest of the arm, its enrollments never followed up.
    Returns how many it resumed."""
    from crm.models import Campaign, Mailbox
    from crm.services.campaigns import campaign_set_status
    from crm.services.mailboxes import mailbox_resume

    resumed = 0
    waiting = Escalation.objects.filter(
        kind=Escalation.Kind.POLICY, status=Escalation.Status.OPEN, dedupe_key__startswith="deliverability:"
    ).order_by("pk")
    for alert in waiting:
        if Escalation.objects.filter(dedupe_key=alert.dedupe_key).exclude(pk=alert.pk).exists():
            continue  # paused before for the same breach: left for someone to fix
        kind, pk = alert.payload.get("kind"), alert.payload.get("id")
        if kind == "campaign":
            campaign = Campaign.objects.filter(pk=pk, status=Campaign.Status.PAUSED).first()
            if campaign is not None:
                campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
        elif kind == "mailbox":
            mailbox = Mailbox.objects.filter(pk=pk).first()
            if mailbox is not None:
                mailbox_resume(mailbox=mailbox)
        decide(escalation=alert, approve=True, user=None, note=note)
        resumed += 1
    return resumed
