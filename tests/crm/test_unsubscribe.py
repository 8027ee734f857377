"""The one-click unsubscribe link (RFC 8058): signed, public, idempotent, suppresses at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.models import Enrollment, Lead, SuppressionEntry
from crm.services.suppression import is_suppressed
from crm.services.unsubscribe import headers_for, link_for, token_for
from tests.factories.crm import EnrollmentFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _path(lead: Lead) -> str:
    return f"/u/{token_for(lead)}/"


def test_every_cold_email_gets_one_click_headers_with_the_signed_https_link(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://agency.example.com"
    lead = LeadFactory.create(email="ada@acme.example")
    headers = headers_for(lead)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{link_for(lead)}>"
    assert link_for(lead).startswith("https://agency.example.com/u/")
    assert "ada" not in link_for(lead)  # the address is not in the URL


def test_the_mail_clients_one_click_post_suppresses_at_once_without_login_or_cookies() -> None:
    lead = LeadFactory.create(email="ada@acme.example")
    enrollment = EnrollmentFactory.create(lead=lead, status="active")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(lead), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not response.cookies  # nothing to log in to, nothing stored on the reader's side
    assert is_suppressed("ada@acme.example")
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.UNSUBSCRIBED


def test_a_click_in_the_footer_unsubscribes_too_and_twice_is_harmless() -> None:
    lead = LeadFactory.create(email="bo@acme.example")
    assert Client().get(_path(lead)).status_code == 200
    assert Client().get(_path(lead)).status_code == 200
    assert SuppressionEntry.objects.count() == 1
    lead.refresh_from_db()
    assert lead.do_not_contact


@pytest.mark.parametrize("token", ["1:forged", "abc", "1", token_for.__name__, "%00"])
def test_a_forged_or_broken_link_changes_nothing_and_says_so(token: str) -> None:
    LeadFactory.create(email="cy@acme.example")
    response = Client().post(f"/u/{token}/")
    assert response.status_code == 400 and b"not valid" in response.content
    assert not SuppressionEntry.objects.exists()


def test_a_link_of_a_lead_that_is_gone_is_answered_kindly() -> None:
    lead = LeadFactory.create(email="dee@acme.example")
    path = _path(lead)
    Lead.objects.filter(pk=lead.pk).delete()
    assert Client().get(path).status_code == 200


def test_other_methods_are_refused() -> None:
    lead = LeadFactory.create(email="eve@acme.example")
    assert Client().put(_path(lead)).status_code == 405
    assert not is_suppressed("eve@acme.example")
