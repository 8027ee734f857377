"""The agency's profile: one row the agents read, validated where an operator edits it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.models import AgencyProfile
from crm.services.agency import profile, update_profile

pytestmark = pytest.mark.django_db


def test_a_fresh_install_reads_a_complete_profile_from_the_settings() -> None:
    agency = profile()
    assert agency.pk == 1 and agency.postal_address and agency.sender_email
    assert [i.service for i in agency.card().items][:1] == ["AI discovery workshop"]
    assert agency.policy().first_batch_size == 20
    assert profile().pk == 1 and AgencyProfile.objects.count() == 1


def test_a_bad_rate_card_or_policy_is_refused_with_the_field_that_is_wrong() -> None:
    profile()
    with pytest.raises(ValidationError) as caught:
        update_profile(rate_card={"items": [{"service": "Build", "unit_price": "-5"}]})
    assert "rate_card" in caught.value.message_dict and "unit_price" in caught.value.message_dict["rate_card"][0]
    with pytest.raises(ValidationError, match="first_batch_size"):
        update_profile(autopilot={"first_batch_size": -1})
    assert profile().card().items[0].unit_price == Decimal("2500.00")  # nothing half-written


def test_an_update_is_audited() -> None:
    from agents.models import AuditLog

    update_profile(postal_address="2 Market Square, Leeds LS1 6DT, UK")
    entry = AuditLog.objects.get(action="agency.update")
    assert entry.after == {"postal_address": "2 Market Square, Leeds LS1 6DT, UK"}


def test_the_console_edits_the_one_row_and_cannot_add_a_second(staff_client) -> None:
    profile()
    assert staff_client.get("/admin/crm/agencyprofile/1/change/").status_code == 200
    assert staff_client.get("/admin/crm/agencyprofile/add/").status_code == 403
