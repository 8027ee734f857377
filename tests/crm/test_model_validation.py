"""full_clean() normalises contact data and explains, per field, what cannot be stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.models import Campaign, Company, Lead, Mailbox, SuppressionEntry
from crm.services.suppression import value_hash

pytestmark = pytest.mark.django_db


def test_lead_clean_normalises_contact_fields() -> None:
    lead = Lead(email="Jane@ACME.example", phone="+49 30 1234567", country="Germany", time_zone="europe/berlin")
    lead.full_clean()
    assert (lead.email, lead.phone, lead.country, lead.time_zone) == (
        "jane@acme.example",
        "+49301234567",
        "DE",
        "Europe/Berlin",
    )


def test_lead_clean_names_each_bad_field() -> None:
    lead = Lead(email="jane@acme", country="Atlantis", time_zone="CEST", status="unsubscribed", score=120)
    with pytest.raises(ValidationError) as caught:
        lead.full_clean()
    assert {"email", "country", "time_zone", "do_not_contact", "score"} <= set(caught.value.message_dict)
    assert "unsubscribed lead must be marked do-not-contact" in caught.value.message_dict["do_not_contact"][0]


def test_a_blank_email_is_stored_as_null() -> None:
    lead = Lead(email="")
    lead.full_clean()
    assert lead.email is None


def test_company_clean_stores_a_bare_domain() -> None:
    company = Company(name="ACME", domain="https://www.ACME.example/", country="uk")
    company.full_clean()
    assert (company.domain, company.country) == ("acme.example", "GB")


def test_mailbox_clean_lower_cases_the_address() -> None:
    mailbox = Mailbox(email="Sender@Outreach.example")
    mailbox.full_clean()
    assert mailbox.email == "sender@outreach.example"


def test_campaign_clean_explains_bad_windows_and_weekdays() -> None:
    import datetime as dt

    campaign = Campaign(name="x", send_window_start=dt.time(17), send_window_end=dt.time(9), send_weekdays=[0, 8])
    with pytest.raises(ValidationError) as caught:
        campaign.full_clean()
    assert {"send_window_end", "send_weekdays"} <= set(caught.value.message_dict)


def test_suppression_entry_clean_normalises_and_hashes() -> None:
    entry = SuppressionEntry(kind="domain", value="https://www.ACME.example/x", reason="manual")
    entry.full_clean()
    assert (entry.value, entry.value_hash) == ("acme.example", value_hash("acme.example"))
