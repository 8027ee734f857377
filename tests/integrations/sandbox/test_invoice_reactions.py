"""How the sandbox's clients pay (integrations/sandbox/paying.py): each reaction's direction, over a
few hundred seeded invoices, and the Payments provider planning the Stripe events from it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from integrations.models import SandboxEvent
from integrations.roles import get_role
from integrations.sandbox.paying import LATE_GRACE_DAYS, InvoiceFate, invoice_fate
from integrations.values import InvoiceLine

INVOICES = [f"in_sbx{n:05d}" for n in range(600)]
DUNNING = (3, 7, 14)  # days past due


def fates(fit: float = 0.5, *, dunned: bool = False) -> list[InvoiceFate]:
    """Each invoice's fate; dunned: the reminders it would get, each only while still unpaid."""
    out = []
    for invoice_id in INVOICES:
        fate = invoice_fate(invoice_id=invoice_id, fit=fit, due_days=14)
        received: list[float] = []
        for days in DUNNING if dunned else ():
            if fate.pays_after is not None and fate.pays_after <= fate.due_after + dt.timedelta(days=days):
                break
            received.append(days)
            fate = invoice_fate(invoice_id=invoice_id, fit=fit, due_days=14, reminders=received)
        out.append(fate)
    return out


def share(found: list[InvoiceFate], test: Any) -> float:
    return sum(1 for f in found if test(f)) / len(found)


def late(f: InvoiceFate) -> bool:
    return f.late


def uncollectible(f: InvoiceFate) -> bool:
    return f.pays_after is None


def test_without_reminders_about_half_pay_after_the_due_date_and_a_few_never() -> None:
    found = fates()
    after_due = share(found, lambda f: f.days_late is not None and f.days_late > 0)
    assert 0.35 <= after_due <= 0.55  # Atradius: ~47% of B2B invoices paid late
    assert 0.02 <= share(found, uncollectible) <= 0.07
    assert 0.04 <= share(found, lambda f: bool(f.failed_after) and f.pays_after is not None) <= 0.12
    assert 0.005 <= share(found, lambda f: f.refund_share > 0) <= 0.04
    assert {f.kind for f in found} == {"paid", "late", "failed_then_paid", "refunded", "uncollectible"}


def test_reminders_lower_the_late_and_the_uncollectible_shares() -> None:
    quiet, dunned = fates(), fates(dunned=True)
    assert share(dunned, late) < share(quiet, late) - 0.08
    assert share(dunned, uncollectible) < share(quiet, uncollectible)
    mean_late = [f.days_late for f in quiet if f.days_late is not None and f.days_late > 0]
    mean_dunned = [f.days_late for f in dunned if f.days_late is not None and f.days_late > 0]
    assert sum(mean_dunned) / len(mean_dunned) < sum(mean_late) / len(mean_late)


def test_a_reminder_only_ever_brings_a_payment_forward() -> None:
    for quiet, dunned in zip(fates(), fates(dunned=True), strict=True):
        if quiet.pays_after is not None:
            assert dunned.pays_after is not None and dunned.pays_after <= quiet.pays_after
        if dunned.answered_reminder is not None and dunned.pays_after is not None:
            received = dunned.due_after + dt.timedelta(days=DUNNING[dunned.answered_reminder])
            assert dt.timedelta(0) < dunned.pays_after - received <= dt.timedelta(days=3 + 5)  # + a card retry


def test_a_better_fit_pays_more_readily() -> None:
    poor, good = fates(fit=0.0), fates(fit=1.0)
    assert share(good, late) < share(poor, late)
    assert share(good, uncollectible) < share(poor, uncollectible)


def test_the_same_invoice_meets_the_same_fate() -> None:
    one = invoice_fate(invoice_id="in_sbx_same", fit=0.4, reminders=[3.0])
    assert one == invoice_fate(invoice_id="in_sbx_same", fit=0.4, reminders=[3.0])
    assert LATE_GRACE_DAYS == 7


@pytest.mark.django_db
class TestTheProvider:
    def _invoice(self, n: int) -> Any:
        payments = get_role("payments")
        customer = payments.create_customer(idempotency_key=f"cus:{n}", email=f"payer{n}@example.com", name="Payer")
        draft = payments.create_invoice(
            idempotency_key=f"inv:{n}",
            customer_id=customer.customer_id,
            lines=[InvoiceLine(description="Deposit", amount=Decimal("1000.00"))],
            currency="USD",
            metadata={"invoice_number": f"INV-2026-{n:05d}"},
        )
        return payments.finalize_invoice(idempotency_key=f"fin:{n}", invoice_id=draft.invoice_id)

    def _paid_at(self, invoice_id: str) -> dt.datetime | None:
        event = SandboxEvent.objects.filter(subject=invoice_id, kind="invoice_paid", status="pending").first()
        return event.due_at if event is not None else None

    def _remind(self, n: int, subject: str) -> None:
        get_role("outreach").send_email(
            idempotency_key=f"remind:{n}:{subject}",
            from_mailbox="billing@agency.example",
            to=f"payer{n}@example.com",
            subject=subject,
            body="Could you arrange payment?",
            headers={},
        )

    def test_a_reminder_past_due_brings_some_payments_forward_and_none_back(self, frozen_clock: Any) -> None:
        invoices = [self._invoice(n) for n in range(60)]
        before = {i.invoice_id: self._paid_at(i.invoice_id) for i in invoices}
        frozen_clock.tick(dt.timedelta(days=14 + 3, hours=1))
        unpaid = [n for n, i in enumerate(invoices) if get_role("payments").get_invoice(i.invoice_id).status == "open"]
        for n in unpaid:
            self._remind(n, f"Reminder: invoice INV-2026-{n:05d} is past due")
        after = {i.invoice_id: self._paid_at(i.invoice_id) for i in invoices}

        moved = [k for k in after if after[k] != before[k]]
        assert moved, "some payers heed a reminder"
        for key in moved:
            assert after[key] is not None and (before[key] is None or after[key] < before[key])  # type: ignore[operator]
            assert after[key] <= frozen_clock.now + dt.timedelta(days=3 + 5)  # within days (+ a card retry)  # type: ignore[operator]
        # Read as a reminder, not a pitch: nothing answers it
        assert not SandboxEvent.objects.filter(provider="instantly").exists()

    def test_an_email_before_the_due_date_or_about_something_else_changes_nothing(self, frozen_clock: Any) -> None:
        invoices = [self._invoice(n) for n in range(20)]
        before = {i.invoice_id: self._paid_at(i.invoice_id) for i in invoices}
        for n in range(20):
            self._remind(n, f"Invoice INV-2026-{n:05d}: your notice")  # not due yet
        frozen_clock.tick(dt.timedelta(days=20))
        for n in range(20):
            self._remind(n, "Quick question about your support desk")  # names no invoice
        assert {i.invoice_id: self._paid_at(i.invoice_id) for i in invoices} == before
