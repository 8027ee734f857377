"""unsubscribe_compliance: opt-outs, complaints and GDPR requests honoured at once, and only once."""

from __future__ import annotations

import pytest

from agents.models import AgentRun
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Enrollment, Lead, SuppressionEntry
from crm.services.suppression import is_suppressed, value_hash
from tests.crm.agents.response_helpers import contacted, reply
from tests.factories.crm import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_an_opt_out_suppresses_the_address_and_stops_every_enrollment() -> None:
    thread = contacted()
    second = EnrollmentFactory.create(lead=thread.lead)
    result = run_agent("unsubscribe_compliance", {"kind": "unsubscribe", "lead_email": thread.lead.email})
    assert result.status == "succeeded", result.error
    assert result.output["enrollments_stopped"] == 2
    assert is_suppressed(thread.lead.email or "")
    assert set(
        Enrollment.objects.filter(pk__in=[thread.enrollment.pk, second.pk]).values_list("status", flat=True)
    ) == {"unsubscribed"}
    thread.lead.refresh_from_db()
    assert thread.lead.do_not_contact and thread.lead.status == Lead.Status.UNSUBSCRIBED


def test_a_complaint_is_stored_as_a_complaint() -> None:
    thread = contacted()
    run_agent("unsubscribe_compliance", {"kind": "complaint", "lead_email": thread.lead.email})
    assert SuppressionEntry.objects.get().reason == "complaint"


def test_an_erasure_request_erases_the_person_and_keeps_only_the_hash() -> None:
    thread = contacted()
    email = thread.lead.email or ""
    text = "Bitte löschen Sie meine Daten und schreiben Sie mir nicht mehr."
    result = run_agent("unsubscribe_compliance", {"kind": "unsubscribe", "lead_email": email, "text": text})
    assert result.output["reason"] == "gdpr_erasure" and result.output["erased_leads"] == 1
    entry = SuppressionEntry.objects.get()
    assert entry.value == "" and entry.value_hash == value_hash(email)
    assert is_suppressed(email)
    thread.lead.refresh_from_db()
    assert thread.lead.email is None and thread.lead.do_not_contact


def test_an_objection_to_processing_is_a_gdpr_objection() -> None:
    thread = contacted()
    text = "I object to the processing of my personal data."
    result = run_agent("unsubscribe_compliance", {"kind": "unsubscribe", "lead_email": thread.lead.email, "text": text})
    assert result.output["reason"] == "gdpr_objection"
    assert SuppressionEntry.objects.get().reason == "gdpr_objection"


def test_an_opt_out_twice_is_honoured_once() -> None:
    thread = contacted()
    assert_idempotent("unsubscribe_compliance", {"kind": "unsubscribe", "lead_email": thread.lead.email})
    assert SuppressionEntry.objects.count() == 1


def test_the_handlers_unsubscribe_reaches_compliance_and_is_never_missed() -> None:
    thread = contacted()
    for n, words in enumerate(
        ["unsubscribe", "Stop emailing me.", "Bitte keine E-Mails mehr.", "take me off your list"]
    ):
        other = contacted(f"p{n}@optout.example.com", message_id=f"<o-{n}@x>")
        result = run_agent("email_response_handler", reply(other, words, message_id=f"<u-{n}@x>"))
        assert result.output["intent"] == "unsubscribe", words
        assert is_suppressed(other.lead.email or ""), words
    drain()
    assert not is_suppressed(thread.lead.email or "")
    statuses = AgentRun.objects.filter(agent_name="unsubscribe_compliance").values_list("status", flat=True)
    assert list(statuses) == ["succeeded"] * 4


def test_an_erasure_request_in_a_reply_reaches_compliance_and_erases() -> None:
    thread = contacted()
    email = thread.lead.email or ""
    result = run_agent("email_response_handler", reply(thread, "Under GDPR, please delete all my personal data."))
    assert result.output["intent"] == "unsubscribe" and is_suppressed(email)
    drain()
    run = AgentRun.objects.get(agent_name="unsubscribe_compliance")
    assert run.status == "succeeded" and (run.output or {}).get("reason") == "gdpr_erasure"
    assert SuppressionEntry.objects.get(value_hash=value_hash(email)).value == ""
