"""onboarding_orchestrator: the checklist, the welcome email, the kickoff and the shared folder, once."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from agents.models import Action, Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.onboarding.common import CHECKLIST, FOLDER, KICKOFF_BOOKED, WELCOME
from delivery.models import Onboarding
from integrations.http.errors import PermanentError
from integrations.models import SandboxRecord
from integrations.sandbox.meetings import SandboxCalendar
from integrations.values import Slot
from sales.models import Client, Meeting
from tests.delivery.agents.lifecycle import signed_client
from tests.factories.delivery import OnboardingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def done_items(onboarding: Onboarding) -> set[str]:
    return set(onboarding.tasks.filter(done_at__isnull=False).values_list("item", flat=True))


def test_a_signed_client_gets_the_checklist_a_welcome_a_booked_kickoff_and_a_shared_folder() -> None:
    client = signed_client()
    contact = client.primary_contact
    assert contact is not None

    result = run_agent("onboarding_orchestrator", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    onboarding = Onboarding.objects.get(client=client)
    assert list(onboarding.tasks.values_list("item", flat=True)) == list(CHECKLIST)
    assert done_items(onboarding) == {WELCOME, FOLDER, KICKOFF_BOOKED}
    welcome = Message.objects.get(idempotency_key=f"onboarding:{onboarding.pk}:welcome")
    assert welcome.to_email == contact.email and welcome.status == Message.Status.SENT
    kickoff = Meeting.objects.get(client=client, kind=Meeting.Kind.KICKOFF)
    assert kickoff.status == Meeting.Status.SCHEDULED and kickoff.booking_uid
    assert kickoff.participants.filter(email=contact.email, role="client").exists()
    # Booked in the contact's business hours, not before the day after tomorrow.
    assert kickoff.starts_at is not None
    local = kickoff.starts_at.astimezone(zoneinfo.ZoneInfo(contact.time_zone))
    assert local.weekday() < 5 and 9 <= local.hour < 17
    assert kickoff.starts_at >= result.run.created_at + dt.timedelta(days=2)
    assert f"{local:%H:%M}" in welcome.body and f"{local:%A}" in welcome.body
    assert SandboxRecord.objects.filter(kind="booking", ref=kickoff.booking_uid).exists()
    assert onboarding.shared_folder_url.startswith("https://")
    assert {a.kind for a in result.acts} == {"email.reply", "onboarding.kickoff", "onboarding.shared_folder"}
    assert all(a.status == Action.Status.DONE for a in result.acts)
    assert [r.agent_name for r in result.handoffs] == ["client_setup"]
    assert result.output["kickoff_meeting_id"] == kickoff.pk


def test_a_second_run_for_the_same_client_does_nothing_twice() -> None:
    client = signed_client()

    first, second = assert_idempotent("onboarding_orchestrator", {"client_id": client.pk})

    assert first.output["onboarding_id"] == second.output["onboarding_id"]
    assert Meeting.objects.filter(client=client, kind=Meeting.Kind.KICKOFF).count() == 1
    assert Message.objects.filter(intent="onboarding_welcome").count() == 1


def test_an_onboarded_or_departed_client_is_skipped() -> None:
    active = signed_client()
    Client.objects.filter(pk=active.pk).update(status=Client.Status.ACTIVE)

    result = run_agent("onboarding_orchestrator", {"client_id": active.pk})

    assert result.status == "skipped" and "active" in result.error
    assert not Onboarding.objects.exists()


def test_an_unknown_client_is_skipped_with_the_reason() -> None:
    result = run_agent("onboarding_orchestrator", {"client_id": 987654})

    assert result.status == "skipped" and "does not exist" in result.error.lower()


def test_a_contact_who_may_not_be_emailed_gets_no_email_and_no_booking_and_a_human_is_told() -> None:
    client = signed_client(contact={"do_not_contact": True})

    result = run_agent("onboarding_orchestrator", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    assert not Message.objects.exists()
    assert not Meeting.objects.filter(client=client).exists()
    onboarding = Onboarding.objects.get(client=client)
    assert WELCOME not in done_items(onboarding)
    (escalation,) = result.escalations
    assert escalation.kind == Escalation.Kind.ERROR and "no primary contact we may email" in escalation.reason


def test_without_a_free_slot_the_kickoff_is_proposed_and_the_email_asks_for_times(monkeypatch: Any) -> None:
    monkeypatch.setattr(SandboxCalendar, "available_slots", lambda self, **kwargs: [])
    client = signed_client()

    result = run_agent("onboarding_orchestrator", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    kickoff = Meeting.objects.get(client=client, kind=Meeting.Kind.KICKOFF)
    assert kickoff.status == Meeting.Status.PROPOSED and kickoff.starts_at is None
    assert not result.acts_of("onboarding.kickoff")
    welcome = Message.objects.get(intent="onboarding_welcome")
    assert "two or three times" in welcome.body
    assert KICKOFF_BOOKED not in done_items(Onboarding.objects.get(client=client))


def test_a_drafted_welcome_that_omits_the_booked_time_is_replaced_by_the_heuristic() -> None:
    client = signed_client()

    result = run_agent(
        "onboarding_orchestrator",
        {"client_id": client.pk},
        answers=[{"subject": "Welcome!", "body": "Hi, welcome aboard. We will be in touch about a kickoff soon."}],
    )

    assert result.status == "succeeded", result.error
    welcome = Message.objects.get(intent="onboarding_welcome")
    kickoff = Meeting.objects.get(client=client, kind=Meeting.Kind.KICKOFF)
    assert kickoff.starts_at is not None
    local = kickoff.starts_at.astimezone(zoneinfo.ZoneInfo(kickoff.time_zone))
    assert welcome.subject != "Welcome!" and f"{local:%H:%M}" in welcome.body


def test_a_good_drafted_welcome_is_sent_as_written(monkeypatch: Any) -> None:
    start = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)  # Thursday, 10:00 in Berlin
    monkeypatch.setattr(
        SandboxCalendar, "available_slots", lambda self, **kw: [Slot(start=start, end=start + dt.timedelta(hours=1))]
    )
    client = signed_client()
    body = "Dear Ada,\n\nThanks for signing. Our kickoff is on Thursday 5 March, 10:00 (Berlin time).\n\nBest, Anna"

    result = run_agent(
        "onboarding_orchestrator", {"client_id": client.pk}, answers=[{"subject": "Hello", "body": body}]
    )

    assert result.status == "succeeded", result.error
    assert Message.objects.get(intent="onboarding_welcome").body == body
    assert Meeting.objects.get(client=client, kind=Meeting.Kind.KICKOFF).starts_at == start


def test_an_existing_open_onboarding_is_continued_not_duplicated() -> None:
    onboarding = OnboardingFactory.create(client=signed_client())

    result = run_agent("onboarding_orchestrator", {"client_id": onboarding.client_id})

    assert result.status == "succeeded", result.error
    assert result.output["onboarding_id"] == onboarding.pk
    assert Onboarding.objects.count() == 1


def test_a_booking_the_calendar_refuses_is_withdrawn_and_a_later_run_books_anew(monkeypatch: Any) -> None:
    def refuse(self: Any, **kwargs: Any) -> Any:
        raise PermanentError("slot no longer available", provider="sandbox", operation="book")

    client = signed_client()
    with monkeypatch.context() as patched:
        patched.setattr(SandboxCalendar, "book", refuse)
        first = run_agent("onboarding_orchestrator", {"client_id": client.pk})
    withdrawn = Meeting.objects.get(client=client, kind=Meeting.Kind.KICKOFF)
    assert withdrawn.status == Meeting.Status.CANCELED
    assert first.acts_of("onboarding.kickoff")[0].status == Action.Status.FAILED
    assert KICKOFF_BOOKED not in done_items(Onboarding.objects.get(client=client))

    run_agent("onboarding_orchestrator", {"client_id": client.pk})

    booked = Meeting.objects.filter(client=client, kind=Meeting.Kind.KICKOFF).exclude(pk=withdrawn.pk).get()
    assert booked.status == Meeting.Status.SCHEDULED and booked.booking_uid
    assert KICKOFF_BOOKED in done_items(Onboarding.objects.get(client=client))
