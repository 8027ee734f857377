"""From a signature to an active client, on simulated time: the onboarding chain with the sandbox
world answering (the calendar books the kickoff, the client works through their tasks in the
workspace the agency made, the stuck detector reads it back each morning)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import AgentRun, Escalation
from agents.registry import is_registered
from agents.services.runs import start_run
from agents.testing import advance
from crm.models import Message
from delivery.agents.onboarding.common import CHECKLIST
from delivery.models import ClientAccess, Onboarding
from sales.models import Client, Meeting
from sales.services.meetings import mark_meeting_held
from tests.delivery.agents.lifecycle import signed_client

# Weeks of simulated agency: run once, on PostgreSQL. What differs on SQLite (locking, JSON lookups,
# the ORM's fallbacks) is covered by the unit tests that run on both, and CI's time is finite.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

STEP = dt.timedelta(hours=12)


def test_signed_clients_are_onboarded_and_the_slow_one_is_chased(frozen_clock: Any) -> None:
    call_command("sync_schedules", verbosity=0)
    clients = [signed_client() for _ in range(3)]
    slow = signed_client(requirements={"needs": ["a chatbot"]}, tech_stack=[], contact={"do_not_contact": True})
    # A year's contract: the scope's short build would otherwise end within the 44 days lived here,
    # and renewal_manager (every agent is on) may see an unhappy client off before the assertions.
    year = frozen_clock.now.date() + dt.timedelta(days=365)
    Client.objects.filter(pk__in=[c.pk for c in [*clients, slow]]).update(contract_end=year)
    for client in [*clients, slow]:  # what contract_signature hands over
        start_run(agent_name="onboarding_orchestrator", input={"client_id": client.pk}, trigger="handoff")

    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(days=4), step=STEP)
    for meeting in Meeting.objects.filter(kind=Meeting.Kind.KICKOFF, starts_at__lte=frozen_clock.now):
        if not is_registered("meeting_lifecycle_orchestrator"):
            mark_meeting_held(meeting=meeting)  # what the lifecycle agent records from Cal.com's MEETING_ENDED
    # The sandbox team works the client's workspace tasks in order with seeded overruns: about six
    # weeks see every onboarding through, whatever the seed draws (a day per step keeps it quick).
    advance(frozen_clock, until=frozen_clock.now + dt.timedelta(days=40), step=dt.timedelta(days=1))

    for client in clients:
        client.refresh_from_db()
        onboarding = Onboarding.objects.get(client=client)
        # A kickoff the client called off is booked again (onboarding_stuck_detector): the last one counts.
        *called_off, kickoff = Meeting.objects.filter(client=client, kind=Meeting.Kind.KICKOFF).order_by("pk")
        assert all(k.status == Meeting.Status.CANCELED for k in called_off), [k.status for k in called_off]
        if kickoff.status in (Meeting.Status.HELD, Meeting.Status.FOLLOWED_UP):
            assert onboarding.status == Onboarding.Status.COMPLETED, list(onboarding.tasks.values("item", "done_at"))
            assert client.status == Client.Status.ACTIVE
        else:  # missed or moved by the client: the onboarding waits and is chased
            assert onboarding.status in (Onboarding.Status.STUCK, Onboarding.Status.IN_PROGRESS)
        assert list(onboarding.tasks.values_list("item", flat=True)) == list(CHECKLIST)
        assert set(ClientAccess.objects.filter(client=client).values_list("status", flat=True)) == {"granted"}
        keys = list(Message.objects.filter(conversation__lead=client.primary_contact).values_list("intent", flat=True))
        assert keys.count("onboarding_welcome") == 1 and keys.count("onboarding_access_request") == 1
    slow_onboarding = Onboarding.objects.get(client=slow)
    assert slow_onboarding.status == Onboarding.Status.STUCK and slow_onboarding.nudges_sent == 0
    # The client may write to us (the sandbox client now sends scope changes and defects once its project
    # is on the board); what matters is that nothing goes out to a contact who cannot be emailed.
    assert not Message.objects.filter(conversation__lead=slow.primary_contact, direction="out").exists()
    chased = Escalation.objects.filter(dedupe_key__startswith=f"onboarding:{slow_onboarding.pk}:stuck:")
    assert chased.exists() and all("cannot be emailed" in e.reason for e in chased)
    assert AgentRun.objects.filter(agent_name="onboarding_stuck_detector", status="succeeded").count() >= 10
    ours = ["onboarding_orchestrator", "client_setup", "onboarding_stuck_detector"]
    assert not AgentRun.objects.filter(agent_name__in=ours, status="failed").exists()
