"""stripe_payment_processing: each Stripe event reconciled once, in any order, the balance right."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents import runtime
from agents.models import AgentRun, Escalation
from agents.testing import assert_idempotent, run_agent
from integrations.models import WebhookEvent
from integrations.sandbox.deals import SandboxPayments
from integrations.sandbox.delivery import post, sign
from integrations.values import InvoicePayment
from integrations.webhooks.services import process_event
from sales.models import Invoice, Payment
from sales.selectors import invoice_amount_paid, invoice_balance_due
from smarter_team import clock
from tests.sales.agents.payment.conftest import open_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]
FIXTURES = Path(__file__).parents[3] / "integrations" / "webhooks" / "fixtures" / "stripe"


def event(kind: str, event_id: str, **fields: Any) -> dict[str, Any]:
    """A PaymentEvent as the Stripe webhook handler hands it over (USD unless said)."""
    defaults: dict[str, Any] = {"currency": "USD", "occurred_at": clock.now().isoformat()}
    return {"kind": kind, "stripe_event_id": event_id, **defaults, **fields}


def paid(event_id: str, amount: str, intent: str, invoice_id: str = "in_test1") -> dict[str, Any]:
    return event(
        "payment_succeeded",
        event_id,
        object_type="invoice_payment",
        object_id=f"inpay_{intent}",
        invoice_id=invoice_id,
        payment_intent_id=intent,
        amount=amount,
    )


def settled(event_id: str, amount_paid: str, invoice_id: str = "in_test1") -> dict[str, Any]:
    return event(
        "payment_succeeded",
        event_id,
        object_type="invoice",
        object_id=invoice_id,
        invoice_id=invoice_id,
        amount=amount_paid,
    )


def refunded(event_id: str, so_far: str, intent: str = "pi_1") -> dict[str, Any]:
    return event(
        "refunded", event_id, object_type="charge", charge_id=f"ch_{intent}", payment_intent_id=intent, amount=so_far
    )


def state(invoice: Invoice) -> tuple[str, Decimal, Decimal]:
    invoice.refresh_from_db()
    return invoice.status, invoice_amount_paid(invoice=invoice), invoice_balance_due(invoice=invoice)


def test_a_payment_marks_the_invoice_paid_and_goes_to_the_books() -> None:
    invoice = open_invoice(amount="1000.00")

    result = run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))

    assert result.status == "succeeded", result.error
    assert state(invoice) == ("paid", Decimal("1000.00"), Decimal("0.00"))
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.provider_event_id, payment.provider_payment_id) == (
        Decimal("1000.00"),
        "USD",
        "evt_1",
        "pi_1",
    )
    assert [(r.agent_name, r.input) for r in result.handoffs] == [("accounting_sync", {"invoice_id": invoice.pk})]
    assert result.output["balance"] == "0.00 USD"


def test_the_same_event_twice_records_it_once() -> None:
    invoice = open_invoice()
    _first, second = assert_idempotent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    assert second.output["outcome"] == "replayed: this event is recorded already"
    assert Payment.objects.count() == 1 and state(invoice)[0] == "paid"


def test_invoice_paid_after_its_payment_adds_nothing() -> None:
    invoice = open_invoice()
    run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))

    result = run_agent("stripe_payment_processing", settled("evt_2", "1000.00"))

    assert result.output["outcome"] == "settled: its payments are recorded" and not result.handoffs
    assert Payment.objects.count() == 1 and state(invoice)[1] == Decimal("1000.00")


def test_invoice_paid_before_its_payment_records_it_from_stripe_and_the_late_event_adds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = open_invoice()
    listed = InvoicePayment(
        payment_id="inpay_1",
        invoice_id="in_test1",
        status="paid",
        payment_intent_id="pi_1",
        amount_paid=Decimal("1000.00"),
        currency="USD",
        paid_at=clock.now() - dt.timedelta(minutes=1),
    )
    monkeypatch.setattr(SandboxPayments, "list_invoice_payments", lambda self, **kw: [listed])

    first = run_agent("stripe_payment_processing", settled("evt_2", "1000.00"))
    late = run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))

    assert first.output["recorded"] == ["succeeded 1000.00 USD"]
    assert late.output["outcome"] == "payment pi_1 is recorded already" and not late.handoffs
    assert Payment.objects.get().provider_event_id == "evt_2:inpay_1"
    assert state(invoice) == ("paid", Decimal("1000.00"), Decimal("0.00"))


def test_stripe_saying_paid_without_listing_the_money_is_escalated_not_invented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_invoice()
    monkeypatch.setattr(SandboxPayments, "list_invoice_payments", lambda self, **kw: [])
    result = run_agent("stripe_payment_processing", settled("evt_2", "1000.00"))
    assert result.status == "escalated" and "lists payments for $0.00 only" in result.error
    assert not Payment.objects.exists()


def test_partial_payments_leave_the_right_balance_until_covered() -> None:
    invoice = open_invoice(amount="1000.00")

    run_agent("stripe_payment_processing", paid("evt_1", "400.00", "pi_1"))
    assert state(invoice) == ("open", Decimal("400.00"), Decimal("600.00"))
    run_agent("stripe_payment_processing", paid("evt_2", "600.00", "pi_2"))
    assert state(invoice) == ("paid", Decimal("1000.00"), Decimal("0.00"))


def test_refunds_in_part_then_in_full_reopen_the_invoice_for_what_was_given_back() -> None:
    invoice = open_invoice(amount="1000.00")
    run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))

    partial = run_agent("stripe_payment_processing", refunded("evt_r1", "300.00"))
    assert state(invoice) == ("open", Decimal("700.00"), Decimal("300.00"))
    assert partial.output["recorded"] == ["refunded 300.00 USD"]
    assert [h.agent_name for h in partial.handoffs] == ["accounting_sync"]
    [told] = partial.escalations
    assert "$300.00 refunded" in told.reason and told.kind == Escalation.Kind.POLICY

    run_agent("stripe_payment_processing", refunded("evt_r2", "1000.00"))  # the charge's refunds so far
    assert state(invoice) == ("open", Decimal("0.00"), Decimal("1000.00"))
    assert sorted(Payment.objects.filter(status="refunded").values_list("amount", flat=True)) == [
        Decimal("300.00"),
        Decimal("700.00"),
    ]


def test_an_older_refund_event_arriving_late_adds_nothing() -> None:
    invoice = open_invoice(amount="1000.00")
    run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    run_agent("stripe_payment_processing", refunded("evt_r2", "500.00"))

    late = run_agent("stripe_payment_processing", refunded("evt_r1", "200.00"))

    assert late.output["outcome"].startswith("these refunds are recorded already") and not late.handoffs
    assert state(invoice) == ("open", Decimal("500.00"), Decimal("500.00"))


def test_a_refund_before_its_payment_is_found_through_stripe_and_the_balance_is_right_once_both_are_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = open_invoice(amount="1000.00")
    listed = InvoicePayment(payment_id="inpay_1", invoice_id="in_test1", status="paid", payment_intent_id="pi_1")
    asked: list[dict[str, str]] = []

    def lookup(self: Any, **kwargs: str) -> list[InvoicePayment]:
        asked.append(kwargs)
        return [listed]

    monkeypatch.setattr(SandboxPayments, "list_invoice_payments", lookup)

    early = run_agent("stripe_payment_processing", refunded("evt_r1", "1000.00"))
    assert asked == [{"payment_intent_id": "pi_1"}]
    assert early.output["recorded"] == ["refunded 1000.00 USD"]
    assert state(invoice) == ("open", Decimal("-1000.00"), Decimal("1000.00"))
    run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    assert state(invoice) == ("open", Decimal("0.00"), Decimal("1000.00"))


def test_a_failure_after_the_payment_is_kept_and_leaves_the_invoice_paid() -> None:
    invoice = open_invoice(amount="1000.00")
    run_agent("stripe_payment_processing", paid("evt_2", "1000.00", "pi_1"))

    late = run_agent(
        "stripe_payment_processing",
        event(
            "payment_failed",
            "evt_1",
            object_type="invoice",
            invoice_id="in_test1",
            amount="1000.00",
            failure_message="Your card was declined.",
        ),
    )

    assert late.output["outcome"] == "failure after the payment: kept, the invoice stays paid"
    assert not late.handoffs  # a failure moved no money
    failed = Payment.objects.get(status="failed")
    assert (failed.failure_reason, failed.paid_at) == ("Your card was declined.", clock.now())
    assert state(invoice) == ("paid", Decimal("1000.00"), Decimal("0.00"))


def test_an_event_for_an_invoice_we_never_issued_is_escalated_and_nothing_is_written() -> None:
    open_invoice()

    result = run_agent("stripe_payment_processing", paid("evt_x", "250.00", "pi_x", invoice_id="in_unknown"))

    assert result.status == "escalated"
    assert "Stripe invoice in_unknown is not one we issued" in result.error and "250.00 USD" in result.error
    [escalation] = result.escalations
    assert escalation.payload["invoice_id"] == "in_unknown" and escalation.kind == Escalation.Kind.ERROR
    assert not Payment.objects.exists() and not result.handoffs


def test_a_refund_of_a_payment_no_invoice_of_ours_had_is_escalated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SandboxPayments, "list_invoice_payments", lambda self, **kw: [])
    result = run_agent("stripe_payment_processing", refunded("evt_r", "10.00", intent="pi_stranger"))
    assert result.status == "escalated" and "no invoice of ours is paid by pi_stranger" in result.error


def test_money_in_another_currency_is_escalated_not_recorded() -> None:
    open_invoice(currency="EUR")
    result = run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    assert result.status == "escalated" and "is in USD, invoice INV-2026-00001 in EUR" in result.error
    assert not Payment.objects.exists()


def test_an_event_without_an_id_is_skipped_with_the_reason() -> None:
    result = run_agent("stripe_payment_processing", paid("", "1000.00", "pi_1"))
    assert result.status == "skipped" and "without a Stripe event id" in result.error


def test_a_dispute_marks_the_invoice_until_won_and_a_lost_one_takes_the_money_back() -> None:
    invoice = open_invoice(amount="1000.00")
    run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    dispute = {"object_type": "dispute", "object_id": "du_1", "charge_id": "ch_1", "payment_intent_id": "pi_1"}

    opened = run_agent(
        "stripe_payment_processing",
        event(
            "dispute_opened",
            "evt_d1",
            amount="1000.00",
            failure_message="fraudulent",
            status="needs_response",
            **dispute,
        ),
    )
    invoice.refresh_from_db()
    assert invoice.disputed_at == clock.now()
    assert "disputes $1,000.00" in opened.escalations[0].reason

    won = run_agent(
        "stripe_payment_processing", event("dispute_closed", "evt_d2", amount="1000.00", status="won", **dispute)
    )
    invoice.refresh_from_db()
    assert invoice.disputed_at is None and won.output["outcome"] == "dispute closed (won)"

    run_agent(
        "stripe_payment_processing",
        event("dispute_opened", "evt_d3", amount="1000.00", status="needs_response", **dispute),
    )
    lost = run_agent(
        "stripe_payment_processing", event("dispute_closed", "evt_d4", amount="1000.00", status="lost", **dispute)
    )
    assert lost.output["recorded"] == ["refunded 1000.00 USD"]
    assert state(invoice) == ("open", Decimal("0.00"), Decimal("1000.00"))
    invoice.refresh_from_db()
    assert invoice.disputed_at is not None
    # A refund of the same charge afterwards still counts its own refunds, not the dispute's
    run_agent("stripe_payment_processing", refunded("evt_r1", "0.00"))
    assert Payment.objects.filter(status="refunded").count() == 1


def test_money_on_a_void_invoice_is_kept_and_escalated() -> None:
    invoice = open_invoice()
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)
    result = run_agent("stripe_payment_processing", paid("evt_1", "1000.00", "pi_1"))
    assert state(invoice)[0] == "void" and Payment.objects.count() == 1
    assert any("void invoice" in e.reason for e in result.escalations)


def test_a_stripe_webhook_reaches_the_agent_through_the_real_endpoint() -> None:
    # As Stripe would post it (the vendor's fixture), signed, verified and stored by the endpoint
    invoice = open_invoice(amount="4900.00", provider_id="in_1PqInvoice")
    body = json.loads((FIXTURES / "invoice_payment_paid.json").read_text())
    assert post(provider_name="stripe", signed=sign(provider_name="stripe", payload=body, message_key="t")) == 200

    assert process_event(event_pk=WebhookEvent.objects.get().pk) == "processed"
    run = AgentRun.objects.get(agent_name="stripe_payment_processing")
    runtime.execute(run.pk)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert state(invoice) == ("paid", Decimal("4900.00"), Decimal("0.00"))
    assert Payment.objects.get().paid_at == dt.datetime(2026, 3, 2, 8, 59, 55, tzinfo=dt.UTC)


def test_a_stripe_event_about_an_object_we_do_not_read_is_kept_failed_with_the_reason() -> None:
    body = json.loads((FIXTURES / "invoice_paid.json").read_text())
    body["data"]["object"] = {"id": "cus_Q1", "object": "customer"}
    assert post(provider_name="stripe", signed=sign(provider_name="stripe", payload=body, message_key="t")) == 200

    stored = WebhookEvent.objects.get()
    assert process_event(event_pk=stored.pk) == "failed"
    stored.refresh_from_db()
    assert "a Stripe payment_succeeded event about a customer object is not one we read" in stored.error
    assert not AgentRun.objects.exists() and not Payment.objects.exists()


def test_a_payment_event_without_an_amount_records_nothing() -> None:
    invoice = open_invoice()
    result = run_agent("stripe_payment_processing", paid("evt_1", "0.00", "pi_1"))
    assert result.output["outcome"] == "the payment event carries no amount paid: nothing recorded"
    assert state(invoice) == ("open", Decimal("0"), Decimal("1000.00")) and not result.handoffs
