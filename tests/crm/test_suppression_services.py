"""The suppression list: once someone opts out, nothing may reach them again, even after erasure."""

from __future__ import annotations

import pytest

from crm.models import Enrollment, Lead, Message, SuppressionEntry
from crm.services.suppression import erase, is_suppressed, suppress, value_hash
from tests.factories.crm import (
    ConversationFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    ResearchReportFactory,
)

pytestmark = pytest.mark.django_db


def test_suppress_email_marks_the_lead_do_not_contact_and_unsubscribed() -> None:
    lead = LeadFactory.create(email="jane@acme.example", status=Lead.Status.CONTACTED)

    entry = suppress(email_or_domain=" Jane@ACME.example ", reason="unsubscribe", source="link")

    lead.refresh_from_db()
    assert (entry.kind, entry.value, entry.value_hash) == (
        "email",
        "jane@acme.example",
        value_hash("jane@acme.example"),
    )
    assert lead.do_not_contact is True
    assert lead.status == Lead.Status.UNSUBSCRIBED


def test_suppress_stops_every_active_and_paused_enrollment_of_the_lead() -> None:
    lead = LeadFactory.create(email="jane@acme.example")
    active = EnrollmentFactory.create(lead=lead, status=Enrollment.Status.ACTIVE)
    paused = EnrollmentFactory.create(lead=lead, status=Enrollment.Status.PAUSED)
    finished = EnrollmentFactory.create(lead=lead, status=Enrollment.Status.COMPLETED)
    other = EnrollmentFactory.create(status=Enrollment.Status.ACTIVE)

    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")

    for enrollment in (active, paused, finished, other):
        enrollment.refresh_from_db()
    assert active.status == paused.status == Enrollment.Status.UNSUBSCRIBED
    assert active.next_send_at is None and paused.next_send_at is None
    assert active.stopped_reason == "suppressed: unsubscribe"
    assert finished.status == Enrollment.Status.COMPLETED
    assert other.status == Enrollment.Status.ACTIVE


def test_a_hard_bounce_marks_lead_and_enrollments_bounced() -> None:
    lead = LeadFactory.create(email="gone@acme.example", status=Lead.Status.CONTACTED)
    enrollment = EnrollmentFactory.create(lead=lead)

    suppress(email_or_domain="gone@acme.example", reason="hard_bounce", source="provider")

    lead.refresh_from_db()
    enrollment.refresh_from_db()
    assert (lead.status, lead.do_not_contact) == (Lead.Status.BOUNCED, True)
    assert enrollment.status == Enrollment.Status.BOUNCED


def test_suppress_is_idempotent() -> None:
    first = suppress(email_or_domain="jane@acme.example", reason="unsubscribe", source="link")
    again = suppress(email_or_domain="JANE@acme.example", reason="complaint", source="fbl")

    assert again.pk == first.pk
    assert again.reason == "unsubscribe"
    assert SuppressionEntry.objects.count() == 1


def test_suppress_a_domain_covers_every_lead_at_it_and_its_subdomains() -> None:
    at_domain = LeadFactory.create(email="a@acme.example")
    at_sub = LeadFactory.create(email="b@eu.acme.example")
    elsewhere = LeadFactory.create(email="c@notacme.example")

    entry = suppress(email_or_domain="https://www.ACME.example/contact", reason="manual")

    assert (entry.kind, entry.value) == ("domain", "acme.example")
    for lead in (at_domain, at_sub, elsewhere):
        lead.refresh_from_db()
    assert at_domain.do_not_contact and at_sub.do_not_contact
    assert not elsewhere.do_not_contact


def test_suppress_refuses_garbage_and_unknown_reasons() -> None:
    with pytest.raises(ValueError, match="not a valid"):
        suppress(email_or_domain="not an address", reason="manual")
    with pytest.raises(ValueError, match="unknown suppression reason"):
        suppress(email_or_domain="jane@acme.example", reason="bored")
    assert not SuppressionEntry.objects.exists()


def test_is_suppressed_checks_the_address_and_its_domain() -> None:
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")
    suppress(email_or_domain="blocked.example", reason="manual")

    assert is_suppressed("Jane@Acme.example")
    assert not is_suppressed("john@acme.example")
    assert is_suppressed("anyone@blocked.example")
    assert is_suppressed("anyone@mail.blocked.example")
    assert is_suppressed("blocked.example")
    assert not is_suppressed("anyone@unblocked.example")


def test_is_suppressed_fails_closed_on_values_that_are_not_addresses() -> None:
    assert is_suppressed("")
    assert is_suppressed("nonsense")


def test_erase_blanks_the_value_keeps_the_hash_and_still_blocks() -> None:
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe", note="asked by phone, Jane Doe")

    result = erase(email="jane@acme.example")

    entry = SuppressionEntry.objects.get()
    assert result.entry.pk == entry.pk
    assert entry.value == "" and entry.note == ""
    assert entry.value_hash == value_hash("jane@acme.example")
    assert is_suppressed("jane@acme.example")


def test_erase_scrubs_the_leads_personal_data_but_keeps_the_row() -> None:
    lead = LeadFactory.create(email="jane@acme.example", first_name="Jane", last_name="Doe", research={"bio": "x"})
    ResearchReportFactory.create(kind="lead", lead=lead, company=None, subject="Jane Doe", summary="Jane likes sailing")
    message = MessageFactory.create(conversation=ConversationFactory.create(lead=lead), body="Hi Jane")

    result = erase(email="Jane@acme.example")

    lead.refresh_from_db()
    message.refresh_from_db()
    assert (result.leads_scrubbed, result.messages_scrubbed) == (1, 1)
    assert lead.email is None and lead.first_name == "" and lead.last_name == "" and lead.phone == ""
    assert lead.research == {} and lead.do_not_contact and lead.status == Lead.Status.UNSUBSCRIBED
    assert message.body == "[erased]" and message.to_email == ""
    assert "Jane" not in lead.reports.get().summary
    assert not Lead.objects.filter(first_name="Jane").exists()
    assert Message.objects.filter(body__contains="Jane").count() == 0


def test_erase_of_an_address_never_suppressed_creates_the_hash_entry() -> None:
    erase(email="stranger@acme.example")

    entry = SuppressionEntry.objects.get()
    assert (entry.value, entry.reason) == ("", "gdpr_erasure")
    assert is_suppressed("stranger@acme.example")
