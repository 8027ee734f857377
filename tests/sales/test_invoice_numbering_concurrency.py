"""Gapless invoice numbers under concurrent writers, against the real PostgreSQL (committed transactions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sales.models import Invoice, InvoiceSequence
from sales.services.invoices import create_invoice, next_invoice_number
from tests.concurrency import at_once
from tests.factories.sales import ClientFactory

THREADS = 6
PER_THREAD = 5


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("frozen_clock")
def test_concurrent_writers_get_gapless_unique_numbers() -> None:
    # Given no sequence row yet for the year (so the writers also race to create it)
    client = ClientFactory.create()
    assert not InvoiceSequence.objects.exists()

    def writer() -> None:
        for _ in range(PER_THREAD):
            create_invoice(
                client=client, kind="deposit", amount=Decimal("10.00"), currency="USD", due_on=dt.date(2026, 4, 1)
            )

    # When several threads create invoices at once
    errors = at_once(writer, threads=THREADS)

    # Then every number 1..N is used exactly once
    assert errors == []
    total = THREADS * PER_THREAD
    sequences = sorted(Invoice.objects.filter(year=2026).values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    numbers = set(Invoice.objects.values_list("number", flat=True))
    assert numbers == {f"INV-2026-{n:05d}" for n in range(1, total + 1)}
    assert InvoiceSequence.objects.get(year=2026).last_number == total


@pytest.mark.django_db(transaction=True)
def test_reserving_a_number_outside_a_transaction_is_refused() -> None:
    # Outside a transaction the lock would end at once and the number could be lost: a gap.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        next_invoice_number(year=2026)
    assert not InvoiceSequence.objects.exists()
