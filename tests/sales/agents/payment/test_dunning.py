"""dunning: one reminder per stage at 3, 7 and 14 days past due, then a human; never for what
is paid, void, disputed or refunded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents.models import Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from sales.models import Invoice
from sales.services.invoices import record_payment
from smarter_team import clock
from tests.factories.sales import PaymentFactory
from tests.sales.agents.payment.conftest import open_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def reminders(invoice: Invoice) -> list[str]:
    return sorted(
        Message.objects.filter(idempotency_key__startswith=f"invoice:{invoice.pk}:dunning:").values_list(
            "idempotency_key", flat=True
        )
    )


def test_each_overdue_invoice_gets_the_reminder_of_the_stage_it_reached_one_at_a_time() -> None:
    early, three, ten, fifteen, late = (open_invoice(provider_id=f"in_{d}", days_overdue=d) for d in (2, 3, 10, 15, 22))

    result = run_agent("dunning")

    assert result.status == "succeeded", result.error
    assert reminders(early) == []
    assert reminders(three) == [f"invoice:{three.pk}:dunning:1"]
    assert reminders(ten) == [f"invoice:{ten.pk}:dunning:2"]  # the 7-day one only: never two at once
    assert reminders(fifteen) == [f"invoice:{fifteen.pk}:dunning:3"]
    assert reminders(late) == []
    assert result.output["escalated"] == [late.number]
    [human] = result.escalations
    assert "22 days past due after three reminders" in human.reason and "$1,000.00 unpaid" in human.reason
    stages = {i.pk: (i.dunning_stage, i.last_dunning_at) for i in Invoice.objects.all()}
    assert stages[ten.pk] == (2, clock.now()) and stages[late.pk] == (4, clock.now()) and stages[early.pk] == (0, None)


def test_the_reminder_asks_for_the_balance_with_the_payment_link() -> None:
    invoice = open_invoice(amount="1000.00", days_overdue=8)
    PaymentFactory.create(invoice=invoice, amount=Decimal("400.00"))

    run_agent("dunning")

    message = Message.objects.get()
    contact = invoice.client.primary_contact
    assert contact is not None and message.to_email == contact.email
    assert message.subject == f"Second reminder: invoice {invoice.number} ($600.00) is a week overdue"
    assert "8 days ago, and $600.00 is still open" in message.body and invoice.payment_url in message.body
    assert message.intent == "payment_reminder" and message.status == Message.Status.SENT


def test_a_second_run_the_same_day_sends_nothing() -> None:
    open_invoice(days_overdue=3)
    first, second = assert_idempotent("dunning")
    assert len(first.output["reminded"]) == 1 and second.output["reminded"] == []


def test_day_by_day_three_reminders_at_3_7_14_then_one_escalation_never_twice(frozen_clock: Any) -> None:
    invoice = open_invoice(days_overdue=0)
    sent_on: dict[str, int] = {}
    for day in range(0, 40):
        run_agent("dunning")
        for key in reminders(invoice):
            sent_on.setdefault(key, day)
        frozen_clock.tick(dt.timedelta(days=1))

    assert sent_on == {f"invoice:{invoice.pk}:dunning:{stage}": days for stage, days in ((1, 3), (2, 7), (3, 14))}
    assert Escalation.objects.filter(dedupe_key=f"invoice:{invoice.pk}:dunning:human").count() == 1
    invoice.refresh_from_db()
    assert invoice.dunning_stage == 4


@pytest.mark.parametrize("state", ["paid", "void", "disputed", "refunded", "uncollectible"])
def test_never_for_a_paid_void_disputed_refunded_or_written_off_invoice(state: str) -> None:
    invoice = open_invoice(amount="1000.00", days_overdue=9)
    if state == "paid":
        record_payment(
            invoice=invoice, amount=Decimal("1000.00"), currency="USD", provider_event_id="e1", status="succeeded"
        )
    elif state == "refunded":
        record_payment(
            invoice=invoice, amount=Decimal("1000.00"), currency="USD", provider_event_id="e1", status="succeeded"
        )
        record_payment(
            invoice=invoice, amount=Decimal("200.00"), currency="USD", provider_event_id="e2", status="refunded"
        )
    elif state == "disputed":
        Invoice.objects.filter(pk=invoice.pk).update(disputed_at=clock.now())
    else:
        Invoice.objects.filter(pk=invoice.pk).update(status=state)

    result = run_agent("dunning")

    assert reminders(invoice) == [] and not result.escalations
    invoice.refresh_from_db()
    assert invoice.dunning_stage == 0
    if state == "refunded":
        assert result.output["left_alone"] == [f"{invoice.number}: money was given back on it, an operator decides"]


def test_a_contact_who_may_not_be_emailed_goes_to_a_human_at_once() -> None:
    invoice = open_invoice(days_overdue=4)
    contact = invoice.client.primary_contact
    assert contact is not None
    contact.do_not_contact = True
    contact.save(update_fields=["do_not_contact"])

    result = run_agent("dunning")

    assert reminders(invoice) == []
    [human] = result.escalations
    assert "may not be emailed" in human.reason
    invoice.refresh_from_db()
    assert invoice.dunning_stage == 1  # the stage is done: tomorrow does not ask again
    assert run_agent("dunning").escalations == []
