"""accounting_sync: each issued invoice and each payment in QuickBooks once, whatever retries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.models import Action
from agents.testing import assert_idempotent, crash_and_finish, run_agent
from integrations.models import SandboxRecord
from sales.models import Invoice, Payment
from sales.services.invoices import record_payment
from tests.sales.agents.payment.conftest import open_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def pay(invoice: Invoice, amount: str, event: str, status: str = "succeeded") -> Payment:
    return record_payment(
        invoice=invoice, amount=Decimal(amount), currency=invoice.currency, provider_event_id=event, status=status
    )


def books(invoice: Invoice) -> dict[str, str]:
    invoice.refresh_from_db()
    return SandboxRecord.objects.get(kind="books_invoice", ref=invoice.accounting_id).data


def test_an_invoice_and_its_payment_go_into_the_books_once() -> None:
    invoice = open_invoice(amount="1000.00")
    payment = pay(invoice, "1000.00", "evt_1")

    result = run_agent("accounting_sync", {"invoice_id": invoice.pk})

    assert result.status == "succeeded", result.error
    assert [(a.kind, a.idempotency_key, a.status) for a in result.acts] == [
        ("accounting.invoice", f"accounting.invoice:invoice:{invoice.pk}", Action.Status.DONE),
        ("accounting.payment", f"accounting.payment:payment:{payment.pk}", Action.Status.DONE),
    ]
    entry = books(invoice)
    assert (entry["doc_number"], entry["total"], entry["paid"]) == (invoice.number, "1000.00", "1000.00")
    payment.refresh_from_db()
    assert payment.accounting_id.startswith("sbx_qbpay_")


def test_the_same_handoff_twice_books_nothing_twice() -> None:
    invoice = open_invoice(amount="1000.00")
    pay(invoice, "400.00", "evt_1")
    assert_idempotent("accounting_sync", {"invoice_id": invoice.pk})
    assert books(invoice)["paid"] == "400.00"
    assert SandboxRecord.objects.filter(kind="books_payment").count() == 1


def test_a_second_payment_is_added_later_and_the_first_is_not_booked_again() -> None:
    invoice = open_invoice(amount="1000.00")
    pay(invoice, "400.00", "evt_1")
    run_agent("accounting_sync", {"invoice_id": invoice.pk})
    pay(invoice, "600.00", "evt_2")

    again = run_agent("accounting_sync", {"invoice_id": invoice.pk})

    assert [a.kind for a in again.acts] == ["accounting.payment"]
    assert books(invoice)["paid"] == "1000.00"


def test_nightly_it_books_what_no_act_covers_yet_and_leaves_drafts_and_voids_out() -> None:
    synced, waiting = open_invoice(provider_id="in_a"), open_invoice(provider_id="in_b")
    draft, void = open_invoice(provider_id="in_c"), open_invoice(provider_id="in_d")
    Invoice.objects.filter(pk=draft.pk).update(status=Invoice.Status.DRAFT)
    Invoice.objects.filter(pk=void.pk).update(status=Invoice.Status.VOID)
    run_agent("accounting_sync", {"invoice_id": synced.pk})
    pay(waiting, "1000.00", "evt_w")

    nightly = run_agent("accounting_sync", {})
    tomorrow = run_agent("accounting_sync", {})

    assert nightly.output["invoices"] == [waiting.number] and len(nightly.output["payments"]) == 1
    assert tomorrow.acts == [] and tomorrow.output["invoices"] == []
    assert {i.pk for i in Invoice.objects.exclude(accounting_id="")} == {synced.pk, waiting.pk}
    void_run = run_agent("accounting_sync", {"invoice_id": void.pk})
    assert void_run.output["note"] == f"{void.number} is void: it stays out of the books"


def test_nightly_an_act_without_the_key_hides_nothing() -> None:
    # What covers a row is read in the database (a subquery, not a list of every act ever recorded):
    # an act of the kind whose payload lacks the key must not turn NOT IN into "matches nothing".
    waiting = open_invoice(provider_id="in_a")
    pay(waiting, "1000.00", "evt_w")
    Action.objects.create(kind="accounting.invoice", idempotency_key="accounting.invoice:legacy", payload={})
    Action.objects.create(kind="accounting.payment", idempotency_key="accounting.payment:legacy", payload={})

    nightly = run_agent("accounting_sync", {})

    assert nightly.output["invoices"] == [waiting.number] and len(nightly.output["payments"]) == 1


def test_money_given_back_goes_to_the_bookkeeper_once() -> None:
    invoice = open_invoice(amount="1000.00")
    pay(invoice, "1000.00", "evt_1")
    pay(invoice, "250.00", "evt_2", status="refunded")

    first = run_agent("accounting_sync", {"invoice_id": invoice.pk})
    nightly = run_agent("accounting_sync", {})

    [told] = first.escalations
    assert "$250.00 given back" in told.reason and "refund receipt" in told.reason
    assert nightly.escalations == [] and nightly.output["for_the_bookkeeper"] == []


def test_a_worker_dying_after_quickbooks_answered_books_the_payment_once() -> None:
    invoice = open_invoice(amount="1000.00")
    pay(invoice, "1000.00", "evt_1")

    result = crash_and_finish("accounting_sync", {"invoice_id": invoice.pk}, at="after_call")

    assert result.status == "succeeded"
    assert {a.status for a in result.acts} == {Action.Status.DONE}
    assert SandboxRecord.objects.filter(kind="books_payment").count() == 1
    assert books(invoice)["paid"] == "1000.00"


def test_an_unknown_invoice_ends_skipped() -> None:
    result = run_agent("accounting_sync", {"invoice_id": 424242})
    assert result.status == "skipped" and "no longer exists" in result.error
