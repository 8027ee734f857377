"""Invariants the database itself refuses to break (not only the services)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from sales.models import Meeting
from tests.factories.sales import (
    CallPerformanceFactory,
    ClientFactory,
    InvoiceFactory,
    MeetingFactory,
    MeetingNoteFactory,
    MeetingParticipantFactory,
    PaymentFactory,
    ProposalFactory,
)

pytestmark = pytest.mark.django_db


def _refused(make: Callable[[], Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_the_factories_build_valid_rows() -> None:
    # The refusals below only mean something if the same factories succeed with sane values.
    PaymentFactory.create()
    CallPerformanceFactory.create()
    MeetingNoteFactory.create()
    MeetingParticipantFactory.create()
    ProposalFactory.create(signed=True)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: InvoiceFactory.create(amount=Decimal("-1.00")), id="invoice negative amount"),
        pytest.param(lambda: InvoiceFactory.create(amount=Decimal("0")), id="invoice zero amount"),
        pytest.param(lambda: InvoiceFactory.create(currency="usd"), id="invoice lower case currency"),
        pytest.param(lambda: InvoiceFactory.create(currency="US1"), id="invoice bad currency"),
        pytest.param(lambda: InvoiceFactory.create(status="paid", paid_at=None), id="invoice paid without time"),
        pytest.param(lambda: InvoiceFactory.create(status="sent"), id="invoice unknown status"),
        pytest.param(lambda: InvoiceFactory.create(number="2026-1", sequence=999), id="invoice number format"),
        pytest.param(lambda: PaymentFactory.create(amount=Decimal("-10.00")), id="payment negative amount"),
        pytest.param(lambda: PaymentFactory.create(currency="eur"), id="payment bad currency"),
        pytest.param(
            lambda: PaymentFactory.create(status="succeeded", paid_at=None), id="payment succeeded without time"
        ),
        pytest.param(lambda: MeetingFactory.create(lead=None, client=None), id="meeting without lead or client"),
        pytest.param(
            lambda: MeetingFactory.create(
                starts_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), ends_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
            ),
            id="meeting ends before start",
        ),
        pytest.param(
            lambda: MeetingFactory.create(status=Meeting.Status.SCHEDULED, starts_at=None, ends_at=None),
            id="scheduled meeting without start",
        ),
        pytest.param(lambda: MeetingFactory.create(kind="webinar"), id="meeting unknown kind"),
        pytest.param(lambda: CallPerformanceFactory.create(talk_ratio=Decimal("1.2")), id="talk ratio above 1"),
        pytest.param(
            lambda: CallPerformanceFactory.create(objections_raised=1, objections_handled=2),
            id="handled more than raised",
        ),
        pytest.param(lambda: ProposalFactory.create(total=Decimal("-1")), id="proposal negative total"),
        pytest.param(
            lambda: ProposalFactory.create(lead=None, company=None, client=None), id="proposal without recipient"
        ),
        pytest.param(
            lambda: ProposalFactory.create(status="signed", signed_at=None), id="proposal signed without time"
        ),
        pytest.param(lambda: ClientFactory.create(health_score=101), id="client health above 100"),
        pytest.param(lambda: ClientFactory.create(monthly_value=Decimal("-1")), id="client negative value"),
        pytest.param(
            lambda: ClientFactory.create(started_on=dt.date(2026, 3, 1), contract_end=dt.date(2026, 2, 1)),
            id="contract ends before start",
        ),
    ],
)
def test_the_database_refuses(make: Callable[[], Any]) -> None:
    _refused(make)


def test_the_database_refuses_duplicates() -> None:
    invoice = InvoiceFactory.create()
    payment = PaymentFactory.create(invoice=invoice)
    meeting = MeetingFactory.create()
    participant = MeetingParticipantFactory.create(meeting=meeting)
    note = MeetingNoteFactory.create(meeting=meeting)

    _refused(lambda: InvoiceFactory.create(year=invoice.year, sequence=invoice.sequence, number="INV-2099-00001"))
    _refused(lambda: InvoiceFactory.create(number=invoice.number, sequence=invoice.sequence + 100))
    _refused(lambda: PaymentFactory.create(invoice=invoice, provider_event_id=payment.provider_event_id))
    _refused(lambda: MeetingFactory.create(booking_uid=meeting.booking_uid))
    _refused(lambda: MeetingParticipantFactory.create(meeting=meeting, email=participant.email))
    _refused(lambda: MeetingNoteFactory.create(meeting=meeting, kind=note.kind))
    _refused(lambda: ClientFactory.create(company=ClientFactory.create().company))
