"""What the onboarding agents share: the checklist, the client's person, ticking an item off."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import holidays
from pydantic import BaseModel

from crm.models import Lead
from delivery.models import Onboarding, OnboardingTask
from delivery.services.onboarding import complete_onboarding_task
from sales.models import Client
from smarter_team import clock

# The agency's onboarding checklist, in order. Ours to do: ticked by the agent that does it.
# The client's to do: pushed as tasks into their workspace (client_setup) and ticked when the
# workspace shows them done (onboarding_stuck_detector reads it daily).
WELCOME = "Welcome email sent"
FOLDER = "Shared folder created"
KICKOFF_BOOKED = "Kickoff meeting booked"
WORKSPACE = "Client workspace set up"
ACCESSES = "Accesses granted"
KICKOFF_HELD = "Kickoff meeting held"
ASSETS = "Brand and data assets shared"
CHECKLIST = (WELCOME, FOLDER, KICKOFF_BOOKED, WORKSPACE, ACCESSES, KICKOFF_HELD, ASSETS)
# The client's items: the task title in their workspace for each.
CLIENT_ITEMS: dict[str, str] = {
    ACCESSES: "Grant the accesses listed in our access request email",
    ASSETS: "Share brand guidelines and sample data in the shared folder",
}
OPEN = (Onboarding.Status.IN_PROGRESS, Onboarding.Status.STUCK)


class ClientRef(BaseModel):
    client_id: int


def open_onboarding(client_id: int) -> Onboarding | None:
    return Onboarding.objects.filter(client_id=client_id, status__in=OPEN).order_by("-pk").first()


def task(onboarding: Onboarding, item: str) -> OnboardingTask | None:
    return OnboardingTask.objects.filter(onboarding=onboarding, item=item).first()


def tick(onboarding_id: int, item: str, *, external_id: str = "") -> bool:
    """Tick ``item`` off an open onboarding (and keep the provider's id of it); True when newly done.

    Items that are not on this onboarding's checklist, or an onboarding that was closed meanwhile
    (canceled because the client left), are left alone: there is nothing to progress.
    """
    found = OnboardingTask.objects.select_related("onboarding").filter(onboarding_id=onboarding_id, item=item).first()
    if found is None or found.onboarding.status not in OPEN:
        return False
    if external_id and found.external_id != external_id:
        found.external_id = external_id[:128]
        found.save(update_fields=["external_id"])
    if found.done_at is not None:
        return False
    complete_onboarding_task(task=found)
    return True


def keep_external_id(onboarding_id: int, item: str, external_id: str) -> None:
    """Remember the provider's id of an item (the client's task in their workspace)."""
    OnboardingTask.objects.filter(onboarding_id=onboarding_id, item=item).exclude(external_id=external_id).update(
        external_id=external_id[:128], updated_at=clock.now()
    )


def contact_of(client: Client) -> Lead | None:
    """The person we onboard: the client's primary contact."""
    return client.primary_contact


def zone_of(lead: Lead | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(lead.time_zone) if lead is not None and lead.time_zone else zoneinfo.ZoneInfo("UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_when(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """A time as the client reads it: "Tuesday 3 March, 10:00 (Europe/Berlin)"."""
    local = at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} ({zone.key})"


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        return None  # a country the library does not know: weekends only


def business_days_between(start: dt.date, end: dt.date, *, country: str = "") -> int:
    """Business days after ``start`` up to and including ``end`` (weekends and the country's
    public holidays do not count: nobody is stuck over Easter)."""
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        table = _holidays(country, day.year) if country else None
        if day.isoweekday() <= 5 and (table is None or day not in table):
            days += 1
    return days
