"""The sales admin: every page renders, changelists have no N+1, add forms and actions call services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Model
from django.test import Client as HttpClient

from sales.models import Invoice, Meeting, Payment, Proposal
from smarter_team import clock
from tests.factories.crm import LeadFactory
from tests.factories.sales import ClientFactory, InvoiceFactory, MeetingFactory, ProposalFactory
from tests.sales.admin_checks import (
    admin_url,
    check_changelist_queries_do_not_grow,
    check_pages_render,
    management_data,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

MODELS = list(apps.get_app_config("sales").get_models())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_render(staff_client: HttpClient, model: type[Model]) -> None:
    check_pages_render(staff_client, model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_rows(staff_client: HttpClient, model: type[Model]) -> None:
    with_two, with_twenty = check_changelist_queries_do_not_grow(staff_client, model)

    assert with_two == with_twenty


def _post_add(staff_client: HttpClient, model: type[Model], data: dict[str, str]) -> object:
    page = staff_client.get(admin_url(model, "add"))
    return staff_client.post(admin_url(model, "add"), {**management_data(page), **data})


def test_adding_an_invoice_takes_the_next_number_from_the_service(staff_client: HttpClient) -> None:
    InvoiceFactory.create()  # INV-2026-00001
    client = ClientFactory.create()

    response = _post_add(
        staff_client,
        Invoice,
        {"client": str(client.pk), "kind": "deposit", "amount": "1500.00", "currency": "usd", "due_on": "2026-03-20"},
    )

    assert response.status_code == 302  # type: ignore[attr-defined]
    invoice = Invoice.objects.get(client=client)
    assert (invoice.number, invoice.sequence, invoice.status) == ("INV-2026-00002", 2, Invoice.Status.DRAFT)
    assert invoice.currency == "USD"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "greater than zero"),
        ("currency", "U$D", "three-letter ISO 4217"),
        ("due_on", "2026-01-01", "cannot be due in the past"),
    ],
)
def test_the_invoice_add_form_explains_what_is_wrong(
    staff_client: HttpClient, field: str, value: str, message: str
) -> None:
    data = {"client": str(ClientFactory.create().pk), "kind": "deposit", "amount": "10", "currency": "USD"}
    data |= {"due_on": "2026-03-20", field: value}

    response = _post_add(staff_client, Invoice, data)

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert not Invoice.objects.exists()


def test_the_number_of_an_invoice_is_not_editable(staff_client: HttpClient) -> None:
    invoice = InvoiceFactory.create(draft=True)

    page = staff_client.get(admin_url(Invoice, "change", invoice.pk))

    assert 'name="number"' not in page.content.decode()
    assert 'name="amount"' in page.content.decode()


def test_a_manual_payment_settles_the_invoice(staff_client: HttpClient) -> None:
    invoice = InvoiceFactory.create(amount=Decimal("800.00"))

    response = _post_add(
        staff_client,
        Payment,
        {
            "invoice": str(invoice.pk),
            "amount": "800.00",
            "currency": "USD",
            "status": "succeeded",
            "paid_at_0": "2026-03-02",
            "paid_at_1": "08:30:00",
        },
    )

    assert response.status_code == 302  # type: ignore[attr-defined]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    payment = invoice.payments.get()
    assert payment.provider_event_id.startswith("manual:")
    assert payment.paid_at == invoice.paid_at == dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)


def test_a_payment_in_the_wrong_currency_is_refused_by_the_form(staff_client: HttpClient) -> None:
    invoice = InvoiceFactory.create(currency="USD")

    response = _post_add(
        staff_client, Payment, {"invoice": str(invoice.pk), "amount": "1", "currency": "EUR", "status": "succeeded"}
    )

    assert f"Invoice {invoice.number} is in USD" in response.content.decode()  # type: ignore[attr-defined]


def test_invoice_actions_call_the_services_and_report_refusals(staff_client: HttpClient) -> None:
    draft, paid = InvoiceFactory.create(draft=True), InvoiceFactory.create(paid=True)
    url = admin_url(Invoice, "changelist")

    staff_client.post(url, {"action": "issue", "_selected_action": [draft.pk]})
    response = staff_client.post(url, {"action": "void", "_selected_action": [paid.pk]}, follow=True)

    draft.refresh_from_db()
    paid.refresh_from_db()
    assert draft.status == Invoice.Status.OPEN
    assert draft.issued_on == clock.today()
    assert paid.status == Invoice.Status.PAID
    assert (
        f"{paid.number}: Invoice status cannot go from &#x27;paid&#x27; to &#x27;void&#x27;"
        in response.content.decode()
    )


def test_a_meeting_needs_a_lead_or_client_in_the_form(staff_client: HttpClient) -> None:
    response = _post_add(staff_client, Meeting, {"kind": "discovery", "time_zone": "UTC"})

    assert "Choose the lead or the client this meeting is with." in response.content.decode()  # type: ignore[attr-defined]


def test_meeting_actions_move_the_status(staff_client: HttpClient) -> None:
    meeting = MeetingFactory.create()

    staff_client.post(admin_url(Meeting, "changelist"), {"action": "mark_held", "_selected_action": [meeting.pk]})

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


def test_adding_a_proposal_prices_its_lines(staff_client: HttpClient) -> None:
    lead = LeadFactory.create()

    response = _post_add(
        staff_client,
        Proposal,
        {
            "title": "Assistant",
            "lead": str(lead.pk),
            "currency": "USD",
            "requirements": "{}",
            "line_items": '[{"description": "Build", "quantity": "3", "unit_price": "99.99"}]',
        },
    )

    assert response.status_code == 302  # type: ignore[attr-defined]
    proposal = Proposal.objects.get()
    assert proposal.total == Decimal("299.97")


def test_a_sent_proposal_cannot_be_repriced_in_the_admin(staff_client: HttpClient) -> None:
    proposal = ProposalFactory.create(sent=True)
    page = staff_client.get(admin_url(Proposal, "change", proposal.pk))
    data = {
        "title": proposal.title,
        "lead": str(proposal.lead_id),
        "company": str(proposal.company_id),
        "currency": "USD",
        "requirements": "{}",
        "line_items": '[{"description": "Cheaper", "quantity": "1", "unit_price": "1"}]',
        "decline_reason": "",
    }

    response = staff_client.post(admin_url(Proposal, "change", proposal.pk), {**management_data(page), **data})

    assert "A sent proposal cannot be repriced." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.total == Decimal("9000.00")


def test_the_proposal_form_explains_a_bad_line(staff_client: HttpClient) -> None:
    response = _post_add(
        staff_client,
        Proposal,
        {
            "title": "Assistant",
            "lead": str(LeadFactory.create().pk),
            "currency": "USD",
            "requirements": "{}",
            "line_items": '[{"description": "Build", "quantity": "0", "unit_price": "10"}]',
        },
    )

    assert "Line 1: quantity must be greater than zero" in response.content.decode()  # type: ignore[attr-defined]
    assert not Proposal.objects.exists()


def test_create_client_action_turns_a_signed_proposal_into_a_client(staff_client: HttpClient) -> None:
    proposal = ProposalFactory.create(signed=True)

    staff_client.post(admin_url(Proposal, "changelist"), {"action": "create_client", "_selected_action": [proposal.pk]})

    proposal.refresh_from_db()
    assert proposal.client is not None
    assert proposal.client.company_id == proposal.company_id
    assert dt.date(2026, 3, 2) == proposal.client.started_on
