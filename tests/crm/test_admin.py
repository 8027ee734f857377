"""The crm console: every page renders with data, changelists stay flat, forms normalise, actions call services."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Campaign, Company, Enrollment, Lead, SuppressionEntry
from crm.services.suppression import erase, is_suppressed
from tests.factories import factory_for
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    ConversationFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

CRM_MODELS = sorted(apps.get_app_config("crm").get_models(), key=lambda m: m._meta.label)


def _url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:crm_{model._meta.model_name}_{view}", args=args)


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_every_crm_model_is_registered() -> None:
    assert [m for m in CRM_MODELS if m not in admin.site._registry] == []


@pytest.mark.parametrize("model", CRM_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_add_and_change_pages_render_and_the_changelist_does_not_grow(
    staff_client: Any, model: type
) -> None:
    factory = factory_for(model)
    first = factory.create_batch(2)[0]
    few = _queries(staff_client, _url(model, "changelist"))
    factory.create_batch(18)
    many = _queries(staff_client, _url(model, "changelist"))
    assert many == few, f"{model.__name__}: {few} queries with 2 rows, {many} with 20"

    if admin.site._registry[model].has_add_permission(staff_client.get(_url(model, "changelist")).wsgi_request):
        assert staff_client.get(_url(model, "add")).status_code == 200
    assert staff_client.get(_url(model, "change", first.pk)).status_code == 200


def test_changelists_with_related_rows_do_not_grow(staff_client: Any) -> None:
    """Counts (steps, enrollments, messages, variants) are annotated, not queried per row."""

    def world() -> None:
        campaign = CampaignFactory.create()
        step = CampaignStepFactory.create(campaign=campaign)
        variant = VariantFactory.create(step=step)
        enrollment = EnrollmentFactory.create(campaign=campaign)
        conversation = ConversationFactory.create(lead=enrollment.lead)
        MessageFactory.create(conversation=conversation, step=step, variant=variant, enrollment=enrollment)

    urls = [_url(m, "changelist") for m in CRM_MODELS]
    for _ in range(2):
        world()
    few = [_queries(staff_client, url) for url in urls]
    for _ in range(18):
        world()
    assert [_queries(staff_client, url) for url in urls] == few


def test_change_pages_with_inlines_do_not_grow(staff_client: Any) -> None:
    campaign = CampaignFactory.create()
    step = CampaignStepFactory.create(campaign=campaign, order=100)
    lead = LeadFactory.create()
    conversation = ConversationFactory.create(lead=lead)
    company = lead.company
    assert company is not None

    def add_rows(i: int) -> None:
        CampaignStepFactory.create(campaign=campaign, order=i)
        VariantFactory.create(step=step)
        EnrollmentFactory.create(lead=lead)
        MessageFactory.create(conversation=conversation)
        LeadFactory.create(company=company)

    for i in range(2):
        add_rows(i)
    pages = [_url(Campaign, "change", campaign.pk), _url(Lead, "change", lead.pk)]
    pages += [reverse("admin:crm_conversation_change", args=[conversation.pk])]
    pages += [reverse("admin:crm_campaignstep_change", args=[step.pk]), _url(Company, "change", company.pk)]
    few = [_queries(staff_client, url) for url in pages]
    for i in range(2, 20):
        add_rows(i)
    assert [_queries(staff_client, url) for url in pages] == few


def _lead_form(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "",
        "email_status": "unknown",
        "phone": "",
        "country": "",
        "time_zone": "",
        "_save": "Save",
        "enrollments-TOTAL_FORMS": "0",
        "enrollments-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_the_lead_form_normalises_what_operators_type(staff_client: Any) -> None:
    response = staff_client.post(
        _url(Lead, "add"),
        _lead_form(email=" Jane.Doe@ACME.example ", phone="030 123 4567", country="Germany", time_zone="europe/berlin"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert (lead.email, lead.phone, lead.country, lead.time_zone) == (
        "jane.doe@acme.example",
        "+49301234567",
        "DE",
        "Europe/Berlin",
    )


def test_the_lead_form_rejects_a_bad_phone_with_the_reason(staff_client: Any) -> None:
    response = staff_client.post(_url(Lead, "add"), _lead_form(phone="030 1234567"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "no valid country code" in errors["phone"][0]
    assert not Lead.objects.exists()


def test_the_lead_form_rejects_a_duplicate_address_clearly(staff_client: Any) -> None:
    LeadFactory.create(email="jane@acme.example")

    response = staff_client.post(_url(Lead, "add"), _lead_form(email="JANE@acme.example"))

    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)


def test_the_company_form_stores_a_bare_domain(staff_client: Any) -> None:
    response = staff_client.post(
        _url(Company, "add"),
        {
            "name": "ACME",
            "domain": "https://www.ACME.example/about",
            "country": "United Kingdom",
            "tech_stack": "[]",
            "_save": "Save",
            "leads-TOTAL_FORMS": "0",
            "leads-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Company.objects.values_list("domain", "country").get() == ("acme.example", "GB")


def test_adding_a_suppression_in_the_console_goes_through_the_service(staff_client: Any) -> None:
    lead = LeadFactory.create(email="jane@acme.example")
    enrollment = EnrollmentFactory.create(lead=lead)

    response = staff_client.post(
        _url(SuppressionEntry, "add"),
        {"kind": "email", "value": "Jane@ACME.example", "reason": "manual", "source": "", "note": "phoned in"},
    )

    assert response.status_code == 302
    entry = SuppressionEntry.objects.get()
    assert (entry.value, entry.source) == ("jane@acme.example", "admin:root")
    lead.refresh_from_db()
    enrollment.refresh_from_db()
    assert lead.do_not_contact and enrollment.status == Enrollment.Status.UNSUBSCRIBED


def test_a_second_suppression_of_the_same_value_is_refused_with_a_message(staff_client: Any) -> None:
    staff_client.post(_url(SuppressionEntry, "add"), {"kind": "domain", "value": "acme.example", "reason": "manual"})
    response = staff_client.post(
        _url(SuppressionEntry, "add"), {"kind": "domain", "value": "www.acme.example", "reason": "manual"}
    )

    assert response.status_code == 200
    assert "already suppressed" in str(response.context["adminform"].form.errors)


def test_an_erased_address_is_found_by_searching_for_it(staff_client: Any) -> None:
    erase(email="jane@acme.example")

    response = staff_client.get(_url(SuppressionEntry, "changelist"), {"q": "Jane@acme.example"})

    assert response.context["cl"].result_count == 1


def test_the_suppress_action_suppresses_the_chosen_leads(staff_client: Any) -> None:
    chosen, other = LeadFactory.create(email="a@acme.example"), LeadFactory.create(email="b@acme.example")

    staff_client.post(_url(Lead, "changelist"), {"action": "suppress_leads", "_selected_action": [chosen.pk]})

    assert is_suppressed("a@acme.example") and not is_suppressed("b@acme.example")
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.do_not_contact and not other.do_not_contact


def test_campaign_actions_report_refusals_and_apply_the_rest(staff_client: Any) -> None:
    ready = CampaignFactory.create(status=Campaign.Status.REVIEW)
    CampaignStepFactory.create(campaign=ready)
    empty = CampaignFactory.create(status=Campaign.Status.REVIEW)

    response = staff_client.post(
        _url(Campaign, "changelist"),
        {"action": "activate_campaigns", "_selected_action": [ready.pk, empty.pk]},
        follow=True,
    )

    ready.refresh_from_db()
    empty.refresh_from_db()
    assert ready.status == Campaign.Status.ACTIVE and empty.status == Campaign.Status.REVIEW
    assert "has no steps" in response.content.decode()


def test_the_enrollment_add_form_refuses_a_do_not_contact_lead(staff_client: Any) -> None:
    lead = LeadFactory.create(do_not_contact=True)
    campaign = CampaignFactory.create()

    response = staff_client.post(
        _url(Enrollment, "add"),
        {"lead": lead.pk, "campaign": campaign.pk, "variables": "{}", "next_send_at_0": "", "next_send_at_1": ""},
    )

    assert response.status_code == 200
    assert "do-not-contact" in str(response.context["adminform"].form.errors)
    assert not Enrollment.objects.exists()


def test_the_csv_import_page_imports_and_lists_rejected_lines(staff_client: Any) -> None:
    url = reverse("admin:crm_lead_import_csv")
    assert staff_client.get(url).status_code == 200
    assert url in staff_client.get(_url(Lead, "changelist")).content.decode()
    upload = SimpleUploadedFile("leads.csv", b"email,name\njane@acme.example,Jane Doe\nbroken,Bob\n", "text/csv")

    response = staff_client.post(url, {"file": upload, "source": "fair_2026"})

    assert response.status_code == 200
    report = response.context["report"]
    assert report.created == 1 and [e.line for e in report.errors] == [3]
    assert "line" in response.content.decode().lower() and "broken" in response.content.decode()
    assert Lead.objects.get().source == "fair_2026"
