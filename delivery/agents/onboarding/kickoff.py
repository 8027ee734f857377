"""The kickoff call: its slot, its meeting and its booking, for whichever agent books it.

onboarding_orchestrator books the first kickoff with the welcome; onboarding_stuck_detector books a
new one when the client cancelled theirs or the calendar refused the booking (the
checklist's "Kickoff meeting held" stays open until one is held). Both go through here, so a kickoff
is always booked the same way: the Meeting of kind kickoff written first, the calendar booking an
act keyed by that meeting (a failed booking withdraws the meeting; the next kickoff is a new one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from agents.context import RunContext
from agents.models import Action
from agents.outbox import register_performer
from crm.models import AgencyProfile, Lead
from delivery.agents.onboarding.common import KICKOFF_BOOKED, tick, zone_of
from delivery.models import Onboarding
from integrations.values import Slot
from sales.agents.meeting.bookings import BookCall, BookCallPerformer
from sales.models import Client, Meeting
from sales.services.meetings import create_meeting

KICKOFF_MINUTES = 45
SLOTS_FROM = dt.timedelta(days=2)
SLOTS_WINDOW = dt.timedelta(days=10)
KICKOFF_KIND = "onboarding.kickoff"


class OpenSlots(BaseModel):
    slots: list[Slot]


class KickoffBooking(BookCall):
    onboarding_id: int
    notes: str = "Kickoff: goals, plan, accesses and the first milestone."


@register_performer(KICKOFF_KIND, payload=KickoffBooking, contacts=("attendee_email",))
class BookKickoff(BookCallPerformer):
    """The kickoff in the calendar, booked like any call (the invite reaches the client: their
    opt-out is checked; a failed booking withdraws the meeting and leaves the item open, so the
    stuck detector books again, asks the client for a time, or a human when they cannot be written to)."""

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        super().on_done(action, result)
        tick(int(action.payload["onboarding_id"]), KICKOFF_BOOKED, external_id=str(result.get("booking_uid") or ""))


def kickoffs_of(onboarding: Onboarding) -> Any:
    """The kickoff meetings of this onboarding, oldest first (cancelled and missed ones included)."""
    return Meeting.objects.filter(
        client_id=onboarding.client_id, kind=Meeting.Kind.KICKOFF, created_at__gte=onboarding.started_at
    ).order_by("pk")


def first_slot(ctx: RunContext, client: Client, contact: Lead) -> Slot | None:
    """The first free kickoff slot from two days out, in the contact's zone (cached an hour, so a
    retry of the run does not ask the calendar again)."""
    calendar, zone = ctx.roles.calendar, zone_of(contact)
    start = ctx.now() + SLOTS_FROM
    found = ctx.cached(
        f"onboarding:kickoff-slots:client:{client.pk}:{start:%Y-%m-%d}",
        lambda: OpenSlots(
            slots=calendar.available_slots(
                start=start, end=start + SLOTS_WINDOW, duration_minutes=KICKOFF_MINUTES, timezone=zone.key
            )
        ),
        model=OpenSlots,
        ttl=dt.timedelta(hours=1),
    )
    return found.slots[0] if found.slots else None


def book_kickoff(
    ctx: RunContext,
    *,
    client: Client,
    onboarding: Onboarding,
    contact: Lead,
    agency: AgencyProfile,
    slot: Slot | None,
) -> Meeting:
    """The kickoff meeting, and its booking in the calendar when a slot was found (without one the
    meeting waits for the client's times, which the welcome and the nudges ask for)."""
    assert contact.email
    zone = zone_of(contact)
    title = f"Kickoff: {client.company.name} x {agency.name}"
    participants = [
        {"email": contact.email, "name": contact.full_name, "role": "client"},
        {"email": agency.sender_email, "name": agency.sender_name, "role": "host"},
    ]
    meeting = create_meeting(
        client=client,
        lead=contact,
        kind=Meeting.Kind.KICKOFF,
        title=title,
        starts_at=slot.start if slot else None,
        ends_at=slot.start + dt.timedelta(minutes=KICKOFF_MINUTES) if slot else None,
        time_zone=zone.key,
        participants=participants,
    )
    if slot is not None:
        ctx.act(
            KICKOFF_KIND,
            f"meeting:{meeting.pk}:kickoff-booking",  # a failed booking withdraws the meeting: a new one books anew
            KickoffBooking(
                meeting_id=meeting.pk,
                onboarding_id=onboarding.pk,
                start=slot.start,
                duration_minutes=KICKOFF_MINUTES,
                attendee_email=contact.email,
                attendee_name=contact.full_name,
                title=title,
                timezone=zone.key,
            ),
        )
    return meeting
