"""Clients leave, on simulated time, with the sandbox world answering: the handover, the accesses
taken back, the exit survey and its answers through the real webhook, the final invoice, the
offboarding closed, and after the cool-off a win-back campaign, never to the suppressed or sooner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import AgentRun, Escalation
from agents.registry import is_registered
from agents.services.escalations import decide
from agents.services.runs import start_run
from agents.testing import advance
from crm.models import Campaign, Enrollment, Lead, Message
from crm.services.suppression import is_suppressed, record_opt_out
from delivery.models import ClientAccess, Offboarding, SurveyResponse
from integrations.models import SandboxRecord
from integrations.sandbox import accounts
from integrations.sandbox.world import Person, search_people
from sales.models import Client, Invoice
from tests.delivery.agents.lifecycle import delivered_client
from tests.factories.crm import CompanyFactory, MailboxFactory
from tests.factories.delivery import ClientAccessFactory
from tests.factories.sales import InvoiceFactory

# Weeks of simulated agency: run once, on PostgreSQL. What differs on SQLite (locking, JSON lookups,
# the ORM's fallbacks) is covered by the unit tests that run on both, and CI's time is finite.
pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

DAY = dt.timedelta(days=1)
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York")


def market_people(count: int) -> list[Person]:
    """People of the sandbox market, in zones where a 4-hourly step meets their working hours."""
    found = search_people(query="dental clinics", location="", start=0, count=300)
    one_each = {p.company.domain: p for p in reversed(found) if p.company.timezone in ZONES}
    return sorted(one_each.values(), key=lambda p: p.email)[:count]


def former_client(person: Person, *, mood: float) -> Client:
    """A client who worked with us, as the market knows them (their mood as delivery left it)."""
    SandboxRecord.objects.get_or_create(kind="person", ref=person.email, defaults={"data": person.to_record()})
    company = CompanyFactory.create(name=person.company.name, domain=person.company.domain, tech_stack=[])
    client = delivered_client(
        company=company,
        contact={"email": person.email, "first_name": person.first_name, "last_name": person.last_name,
                 "time_zone": person.company.timezone},
    )  # fmt: skip
    ClientAccessFactory.create(client=client, system="Notion", kind="guest", status="requested", granted_at=None)
    accounts.move(person.email, mood - accounts.mood(person.email), key="delivery so far", reason="test setup")
    return client


def offboard(clients: list[Client]) -> None:
    for client in clients:  # what renewal_manager hands over at the contract's end
        start_run(
            agent_name="offboarding_orchestrator",
            input={"client_id": client.pk, "reason": "Contract not renewed"},
            trigger="handoff",
        )


def bill_the_final_invoices(clients: list[Client]) -> None:
    if not is_registered("invoice_generation"):  # what invoice_generation issues on its handoff
        for client in clients:
            InvoiceFactory.create(client=client, kind=Invoice.Kind.FINAL)


def test_clients_leave_are_offboarded_and_only_the_reachable_are_won_back_after_the_cool_off(
    frozen_clock: Any,
) -> None:
    call_command("sync_schedules", verbosity=0)
    MailboxFactory.create()
    start = frozen_clock.now
    people = market_people(5)
    moods = (0.9, 0.85, 0.3, 0.5, 0.9)
    clients = [former_client(p, mood=m) for p, m in zip(people, moods, strict=True)]
    opted_out = clients[4].primary_contact
    assert opted_out is not None and opted_out.email

    offboard(clients)
    advance(frozen_clock, until=start + DAY, step=DAY / 2)
    bill_the_final_invoices(clients)
    advance(frozen_clock, until=start + 10 * DAY, step=DAY)  # the handover, the accesses, the answers
    record_opt_out(email=opted_out.email, reason="unsubscribe", source="test")  # they asked us to stop
    opted_out_at = frozen_clock.now
    advance(frozen_clock, until=start + 87 * DAY, step=7 * DAY)  # the cool-off ends on day 90
    assert not Enrollment.objects.exists()  # nobody before it
    advance(frozen_clock, until=start + 92 * DAY, step=DAY / 2)  # day 91: reactivation's Monday
    for gate in Escalation.objects.filter(dedupe_key__endswith=":first-batch", status="open"):
        decide(escalation=gate, approve=True, user=None, note="win-back copy approved")
    advance(frozen_clock, until=start + 97 * DAY, step=DAY / 3)  # 09:00, 17:00, 01:00 UTC: in each zone's window

    for client in clients:
        client.refresh_from_db()
        offboarding = Offboarding.objects.get(client=client)
        assert offboarding.status == Offboarding.Status.COMPLETED, offboarding.checklist
        assert client.status == Client.Status.OFFBOARDED and offboarding.access_revoked_at is not None
        statuses = set(ClientAccess.objects.filter(client=client).values_list("status", flat=True))
        assert statuses == {"revoked", "withdrawn"}, statuses  # nothing we were given is still held
        assert "Email assistant" in offboarding.handover_document
        contact = client.primary_contact
        assert contact is not None
        contact.refresh_from_db()
        assert contact.email and contact.first_name  # the keep policy: their people stay as they were
        wins = Message.objects.filter(enrollment__lead=contact, enrollment__campaign__name__startswith="Win-back")
        assert offboarding.reactivation_after is not None
        assert all(m.created_at.date() >= offboarding.reactivation_after for m in wins)
    answered = SurveyResponse.objects.filter(kind="exit", responded_at__isnull=False)
    assert answered.exists()
    assert all(s.answers.get("raw") for s in answered)  # what they wrote is kept, however it reads
    assert is_suppressed(opted_out.email)
    assert not Message.objects.filter(to_email=opted_out.email, created_at__gt=opted_out_at).exists()
    assert not Enrollment.objects.filter(lead=opted_out).exists()
    enrolled = Enrollment.objects.filter(campaign__name__startswith="Win-back: former clients")
    assert enrolled.count() == 4
    assert Campaign.objects.get(name__startswith="Win-back: former clients").status == Campaign.Status.ACTIVE
    assert Message.objects.filter(enrollment__in=enrolled, status="sent").exists()
    back = Message.objects.filter(direction="in", conversation__lead__in=[c.primary_contact for c in clients[:4]])
    routed = AgentRun.objects.filter(agent_name="change_request", input__message_id__in=list(back.values_list("pk")))
    assert not routed.exists()  # a former client's answer is a sales conversation, not delivery work
    assert not AgentRun.objects.filter(
        agent_name__in=["offboarding_orchestrator", "knowledge_transfer", "access_revocation", "exit_survey",
                        "reactivation"], status="failed",
    ).exists()  # fmt: skip


def test_with_the_erase_policy_the_people_are_erased_and_never_written_to_again(
    frozen_clock: Any, settings: Any
) -> None:
    settings.DELIVERY_LIFECYCLE = {"contact_data": "erase", "erase_after_days": 30}
    call_command("sync_schedules", verbosity=0)
    MailboxFactory.create()
    start = frozen_clock.now
    clients = [former_client(p, mood=0.9) for p in market_people(2)]
    addresses = [c.primary_contact.email for c in clients if c.primary_contact is not None]

    offboard(clients)
    advance(frozen_clock, until=start + DAY, step=DAY / 2)
    bill_the_final_invoices(clients)
    advance(frozen_clock, until=start + 28 * DAY, step=3 * DAY)
    assert all(Lead.objects.filter(email=a).exists() for a in addresses)  # kept until the retention date
    advance(frozen_clock, until=start + 31 * DAY, step=DAY)
    assert not any(Lead.objects.filter(email=a).exists() for a in addresses)
    advance(frozen_clock, until=start + 122 * DAY, step=7 * DAY)  # past the cool-off, reactivation's Mondays

    erased_on = start + 30 * DAY
    for client, address in zip(clients, addresses, strict=True):
        assert not Lead.objects.filter(email=address).exists()
        assert is_suppressed(str(address))  # the hash survives: never contacted again
        contact = client.primary_contact
        assert contact is not None
        contact.refresh_from_db()
        assert contact.email is None and contact.first_name == "" and contact.do_not_contact
        assert not Message.objects.filter(conversation__lead=contact, created_at__gt=erased_on + DAY).exists()
        assert not Enrollment.objects.filter(lead=contact).exists()
        offboarding = Offboarding.objects.get(client=client)
        assert offboarding.status == Offboarding.Status.COMPLETED
        assert set(ClientAccess.objects.filter(client=client).values_list("status", flat=True)) == {
            "revoked", "withdrawn",
        }  # fmt: skip
