"""Upserting leads from any source, status changes and qualification go through the lead services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Company, Enrollment, Lead
from crm.services.leads import (
    LeadDataError,
    create_or_update_lead,
    lead_disqualify,
    lead_qualify,
    lead_set_status,
)
from crm.services.suppression import erase, is_suppressed, suppress
from smarter_team.models import InvalidTransition
from tests.factories.crm import CompanyFactory, EnrollmentFactory, LeadFactory
from tests.plans import rows_thrown_away

pytestmark = pytest.mark.django_db


def test_create_or_update_lead_normalises_and_attaches_the_company_by_domain() -> None:
    result = create_or_update_lead(
        data={
            "email": " Jane.Doe@ACME.example ",
            "name": "Dr. Jane Doe",
            "company": "ACME Logistics",
            "website": "https://www.acme.example/about",
            "phone": "030 1234567",
            "country": "Germany",
        }
    )

    lead = result.lead
    assert result.created
    assert (lead.email, lead.first_name, lead.last_name) == ("jane.doe@acme.example", "Jane", "Doe")
    assert (lead.phone, lead.country, lead.time_zone) == ("+49301234567", "DE", "Europe/Berlin")
    assert lead.company is not None
    assert (lead.company.domain, lead.company.name) == ("acme.example", "ACME Logistics")


def test_the_email_domain_finds_the_company_but_free_mail_does_not() -> None:
    company = CompanyFactory.create(domain="acme.example")

    at_work = create_or_update_lead(data={"email": "a@acme.example"}).lead
    at_gmail = create_or_update_lead(data={"email": "b@gmail.com"}).lead

    assert at_work.company == company
    assert at_gmail.company is None
    assert Company.objects.count() == 1


def test_upsert_matches_by_normalised_email_and_never_blanks_stored_values() -> None:
    create_or_update_lead(data={"email": "jane@acme.example", "title": "COO", "phone": "+49301234567"})

    again = create_or_update_lead(data={"email": "JANE@acme.example", "title": "", "phone": None, "country": "DE"})

    lead = again.lead
    assert not again.created
    assert Lead.objects.count() == 1
    assert (lead.title, lead.phone, lead.country) == ("COO", "+49301234567", "DE")
    assert set(again.updated_fields) == {"country"}


def test_upsert_overwrites_with_new_values_only_when_asked() -> None:
    create_or_update_lead(data={"email": "jane@acme.example", "title": "COO", "source": "apollo"})

    kept = create_or_update_lead(data={"email": "jane@acme.example", "title": "CEO"}, overwrite=False)
    assert kept.lead.title == "COO" and kept.updated_fields == ()

    replaced = create_or_update_lead(data={"email": "jane@acme.example", "title": "CEO", "source": "csv"})
    assert replaced.lead.title == "CEO"
    assert replaced.lead.source == "apollo"  # where a lead came from is never rewritten


def test_the_same_data_twice_changes_nothing() -> None:
    data = {"email": "jane@acme.example", "first_name": "Jane", "phone": "+1 415 555 0123", "country": "US"}
    create_or_update_lead(data=data)

    again = create_or_update_lead(data=data)

    assert not again.created and again.updated_fields == ()


def test_upsert_reports_every_bad_field() -> None:
    with pytest.raises(LeadDataError) as caught:
        create_or_update_lead(data={"email": "jane@", "phone": "12", "country": "Atlantis"})

    assert set(caught.value.errors) == {"email", "phone", "country"}
    assert not Lead.objects.exists()


def test_a_lead_needs_an_identity() -> None:
    with pytest.raises(LeadDataError, match="needs an email"):
        create_or_update_lead(data={"first_name": "Jane"})


def test_a_linkedin_lead_gets_its_email_later_without_a_duplicate() -> None:
    first = create_or_update_lead(data={"linkedin_url": "linkedin.com/in/janedoe", "first_name": "Jane"}).lead

    later = create_or_update_lead(
        data={"linkedin_url": "https://linkedin.com/in/janedoe", "email": "jane@acme.example"}
    )

    assert later.lead.pk == first.pk and later.lead.email == "jane@acme.example"
    assert Lead.objects.count() == 1


def test_a_suppressed_address_is_stored_uncontactable() -> None:
    suppress(email_or_domain="jane@acme.example", reason="unsubscribe")
    erase(email="erased@acme.example")

    jane = create_or_update_lead(data={"email": "jane@acme.example"}).lead
    erased = create_or_update_lead(data={"email": "erased@acme.example"}).lead

    assert jane.do_not_contact and jane.status == Lead.Status.UNSUBSCRIBED
    assert erased.do_not_contact and erased.status == Lead.Status.UNSUBSCRIBED


def test_role_and_disposable_addresses_are_flagged() -> None:
    role = create_or_update_lead(data={"email": "info@acme.example"}).lead
    throwaway = create_or_update_lead(data={"email": "x@mailinator.com"}).lead

    assert role.email_status == Lead.EmailStatus.ROLE
    assert throwaway.email_status == Lead.EmailStatus.DISPOSABLE
    assert throwaway.company is None


def test_upsert_updates_the_surviving_lead_of_a_merge() -> None:
    survivor = LeadFactory.create(email="jane.doe@acme.example", title="")
    LeadFactory.create(email="jane@acme.example", merged_into=survivor)

    result = create_or_update_lead(data={"email": "jane@acme.example", "title": "COO"})

    assert result.lead.pk == survivor.pk and result.lead.title == "COO"


def test_lead_set_status_follows_the_state_machine() -> None:
    lead = LeadFactory.create(status=Lead.Status.NEW)

    assert lead_set_status(lead=lead, status=Lead.Status.ENRICHED) is True
    assert lead_set_status(lead=lead, status=Lead.Status.ENRICHED) is False
    with pytest.raises(InvalidTransition):
        lead_set_status(lead=lead, status=Lead.Status.WON)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ENRICHED


def test_unsubscribing_a_lead_suppresses_the_address_and_stops_enrollments() -> None:
    lead = LeadFactory.create(email="jane@acme.example", status=Lead.Status.CONTACTED)
    enrollment = EnrollmentFactory.create(lead=lead)

    assert lead_set_status(lead=lead, status=Lead.Status.UNSUBSCRIBED, reason="asked on the phone") is True

    enrollment.refresh_from_db()
    assert lead.do_not_contact and lead.status == Lead.Status.UNSUBSCRIBED
    assert is_suppressed("jane@acme.example")
    assert enrollment.status == Enrollment.Status.UNSUBSCRIBED


def test_unsubscribing_a_lead_without_email_marks_it_do_not_contact() -> None:
    lead = LeadFactory.create(email=None)

    lead_set_status(lead=lead, status=Lead.Status.UNSUBSCRIBED)

    lead.refresh_from_db()
    assert lead.do_not_contact and lead.status == Lead.Status.UNSUBSCRIBED


def test_lead_qualify_records_score_and_reasons() -> None:
    lead = LeadFactory.create(status=Lead.Status.VERIFIED)

    lead_qualify(lead=lead, score=82, reasons=["ICP industry", {"signal": "hiring", "weight": 10}])

    lead.refresh_from_db()
    assert (lead.status, lead.score) == (Lead.Status.QUALIFIED, 82)
    assert lead.score_reasons == ["ICP industry", {"signal": "hiring", "weight": 10}]


@pytest.mark.parametrize("score", [-1, 101, 50.5, True])
def test_lead_qualify_refuses_scores_outside_0_100(score: object) -> None:
    lead = LeadFactory.create(status=Lead.Status.VERIFIED)
    with pytest.raises(ValueError, match="0 to 100"):
        lead_qualify(lead=lead, score=score, reasons=[])  # type: ignore[arg-type]


def test_lead_qualify_refuses_an_unsubscribed_lead_and_changes_nothing() -> None:
    lead = LeadFactory.create(status=Lead.Status.UNSUBSCRIBED, do_not_contact=True, score=None)

    with pytest.raises(InvalidTransition):
        lead_qualify(lead=lead, score=90, reasons=["great fit"])

    lead.refresh_from_db()
    assert lead.score is None and lead.score_reasons == []


def test_lead_disqualify() -> None:
    lead = LeadFactory.create(status=Lead.Status.ENRICHED)

    lead_disqualify(lead=lead, reasons=["too small"], score=12)

    lead.refresh_from_db()
    assert (lead.status, lead.score, lead.score_reasons) == (Lead.Status.DISQUALIFIED, 12, ["too small"])


@pytest.mark.postgresql
def test_an_imported_row_is_matched_by_profile_or_source_without_reading_every_lead() -> None:
    # A lead list of n rows matches each row against the stored leads: a scan there made it n squared.
    background = 300
    Lead.objects.bulk_create(
        Lead(linkedin_url=f"https://linkedin.com/in/person-{n}", source="list", source_ref=f"ref-{n}")
        for n in range(background)
    )
    with CaptureQueriesContext(connection) as seen:
        by_profile = create_or_update_lead(data={"linkedin_url": "linkedin.com/in/person-7", "first_name": "Ada"})
        by_ref = create_or_update_lead(data={"source": "list", "source_ref": "ref-9", "first_name": "Bob"})
        new = create_or_update_lead(data={"linkedin_url": "linkedin.com/in/someone-new", "source": "list"})
    assert not by_profile.created and not by_ref.created and new.created
    read = rows_thrown_away(seen.captured_queries, table="crm_lead")
    assert read and not [(n, sql) for n, sql in read if n >= background // 10], read
