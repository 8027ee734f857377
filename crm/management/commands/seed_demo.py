"""`manage.py seed_demo`: what a new user needs to watch the agency work (once; idempotent).

The agency's profile, two ICPs the sandbox market can search and two warmed-up mailboxes. With
them, lead_list_builder's first daily tick (which fires at once on first start) finds leads that
are then validated, verified and enriched within minutes, without anyone doing anything.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.models import AgencyProfile, IdealCustomerProfile, Mailbox
from crm.services.agency import profile

ICPS = (
    {
        "name": "Dental clinics (US)",
        "industries": ["dental clinics"],
        "company_sizes": ["11-50", "51-200"],
        "titles": ["Owner", "Founder", "COO", "Office Manager"],
        "countries": ["US"],
        "pains": ["missed calls and bookings", "manual patient reminders"],
    },
    {
        "name": "Law firms (UK)",
        "industries": ["law firms"],
        "company_sizes": ["11-50", "51-200", "201-500"],
        "titles": ["Managing Partner", "COO", "Head of Operations"],
        "countries": ["GB"],
        "pains": ["slow client intake", "document drafting by hand"],
    },
)
# The demo runs unattended: its campaigns send without waiting for an operator to approve each new
# campaign's first batch (the production default is 20 messages held for one approval), and the
# drafted answers to interested and "not now" replies go out on their own (the default sends only
# answers to questions), or no prospect would ever reach a meeting. Answers to objections, questions
# no FAQ covers, proposals over the threshold and prices under the floor still wait for a human, so
# the admin shows escalations. An operator changes all of it in the agency profile's autopilot.
DEMO_AUTOPILOT = {"first_batch_size": 0, "auto_send_intents": ["question", "interested", "not_now"]}
MAILBOXES = (
    {"email": "alex@mail.smarter-team.test", "display_name": "Alex Morgan", "daily_cap": 40},
    {"email": "sam@mail.smarter-team.test", "display_name": "Sam Lee", "daily_cap": 40},
)


def seed_demo(*, autopilot: bool = False) -> dict[str, int]:
    """Create what is missing; never change what exists (an operator may have edited it).

    With ``autopilot`` (make run's demo) also the book of business (crm/demo_book.py): prospects and
    clients at every stage, so the whole lifecycle shows within minutes instead of business weeks.
    """
    created = {"icps": 0, "mailboxes": 0, "prospects": 0, "clients": 0}
    with transaction.atomic():
        if autopilot and not AgencyProfile.objects.filter(pk=1).exists():
            agency = profile()
            agency.autopilot = {**(agency.autopilot or {}), **DEMO_AUTOPILOT}
            agency.save(update_fields=["autopilot"])
        for icp in ICPS:
            _, new = IdealCustomerProfile.objects.get_or_create(name=icp["name"], defaults=icp)
            created["icps"] += new
        for mailbox in MAILBOXES:
            _, new = Mailbox.objects.get_or_create(email=mailbox["email"], defaults=mailbox)
            created["mailboxes"] += new
    if autopilot:
        from crm.demo_book import seed_book  # the whole app graph: only make run's demo needs it

        created.update(seed_book())
    return created


class Command(BaseCommand):
    help = "Seed the demo agency (profile, two ICPs, two mailboxes) once; safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--autopilot",
            action="store_true",
            help="a new profile sends unattended, and the book of business is seeded (make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_demo(autopilot=options["autopilot"])
        if options["verbosity"]:
            self.stdout.write(
                f"demo: {created['icps']} ICPs, {created['mailboxes']} mailboxes, "
                f"{created['prospects']} prospects and {created['clients']} clients created"
            )
