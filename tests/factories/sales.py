"""Factories for the sales app's models (realistic rows that satisfy every database constraint)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.db import transaction
from factory.django import DjangoModelFactory

from sales.models import (
    CallPerformance,
    Client,
    FathomRecording,
    Invoice,
    InvoiceSequence,
    Meeting,
    MeetingNote,
    MeetingParticipant,
    Payment,
    Proposal,
)
from sales.services.invoices import next_invoice_number
from smarter_team import clock
from tests.factories.crm import CompanyFactory, LeadFactory


class ClientFactory(DjangoModelFactory[Client]):
    class Meta:
        model = Client

    company = factory.SubFactory(CompanyFactory)
    primary_contact = factory.SubFactory(LeadFactory, company=factory.SelfAttribute("..company"))
    status = Client.Status.ACTIVE
    started_on = factory.LazyFunction(lambda: clock.today() - dt.timedelta(days=60))
    contract_end = factory.LazyAttribute(lambda o: o.started_on + dt.timedelta(days=365))
    monthly_value = Decimal("4500.00")
    currency = "USD"
    health_score = 78


class MeetingFactory(DjangoModelFactory[Meeting]):
    class Meta:
        model = Meeting

    lead = factory.SubFactory(LeadFactory)
    kind = Meeting.Kind.DISCOVERY
    status = Meeting.Status.SCHEDULED
    title = factory.Sequence(lambda n: f"Discovery call #{n}")
    starts_at = factory.LazyFunction(lambda: clock.now().replace(microsecond=0) + dt.timedelta(days=2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))
    time_zone = "Europe/Berlin"
    booking_uid = factory.Sequence(lambda n: f"bk_{n:08d}")
    join_url = factory.LazyAttribute(lambda o: f"https://meet.example.com/{o.booking_uid}")

    class Params:
        proposed = factory.Trait(status=Meeting.Status.PROPOSED, starts_at=None, ends_at=None, booking_uid=None)


class MeetingParticipantFactory(DjangoModelFactory[MeetingParticipant]):
    class Meta:
        model = MeetingParticipant

    meeting = factory.SubFactory(MeetingFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"participant{n}@example.com")
    role = MeetingParticipant.Role.PROSPECT


class MeetingNoteFactory(DjangoModelFactory[MeetingNote]):
    class Meta:
        model = MeetingNote

    meeting = factory.SubFactory(MeetingFactory)
    kind = MeetingNote.Kind.SUMMARY
    content = "Wants an AI intake assistant for support; budget approved for Q2; decision by the COO."
    action_items = factory.LazyFunction(lambda: [{"text": "Send proposal", "owner": "us", "due": "2026-03-06"}])
    source = factory.Sequence(lambda n: f"fathom_{n}")


class FathomRecordingFactory(DjangoModelFactory[FathomRecording]):
    class Meta:
        model = FathomRecording

    meeting = factory.SubFactory(MeetingFactory)
    recording_id = factory.Sequence(lambda n: f"rec_{n:08d}")
    url = factory.LazyAttribute(lambda o: f"https://fathom.video/calls/{o.recording_id}")
    transcript_status = FathomRecording.TranscriptStatus.READY
    summary = "Discussed scope, timeline and pricing."


class CallPerformanceFactory(DjangoModelFactory[CallPerformance]):
    class Meta:
        model = CallPerformance

    meeting = factory.SubFactory(MeetingFactory, status=Meeting.Status.HELD)
    talk_ratio = Decimal("0.420")
    questions_asked = 11
    longest_monologue_seconds = 75
    objections_raised = 3
    objections_handled = 2
    next_step_agreed = True


def _line_items() -> list[dict[str, str]]:
    return [
        {"description": "Discovery and design", "quantity": "1", "unit_price": "3000.00", "amount": "3000.00"},
        {"description": "Build (hours)", "quantity": "40", "unit_price": "150.00", "amount": "6000.00"},
    ]


class ProposalFactory(DjangoModelFactory[Proposal]):
    class Meta:
        model = Proposal

    lead = factory.SubFactory(LeadFactory)
    company = factory.LazyAttribute(lambda o: o.lead.company if o.lead is not None else CompanyFactory())
    title = factory.Sequence(lambda n: f"AI support assistant - proposal {n}")
    status = Proposal.Status.DRAFT
    requirements = factory.LazyFunction(lambda: {"goal": "deflect 40% of tickets", "channels": ["email", "chat"]})
    line_items = factory.LazyFunction(_line_items)
    total = Decimal("9000.00")
    currency = "USD"
    valid_until = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=30))

    class Params:
        sent = factory.Trait(
            status=Proposal.Status.SENT,
            sent_at=factory.LazyFunction(clock.now),
            document_id=factory.Sequence(lambda n: f"pd_{n:08d}"),
        )
        signed = factory.Trait(
            status=Proposal.Status.SIGNED,
            sent_at=factory.LazyFunction(clock.now),
            signed_at=factory.LazyFunction(clock.now),
            document_id=factory.Sequence(lambda n: f"pd_s{n:07d}"),
        )


class InvoiceSequenceFactory(DjangoModelFactory[InvoiceSequence]):
    class Meta:
        model = InvoiceSequence
        django_get_or_create = ("year",)

    year = factory.LazyFunction(lambda: clock.today().year)
    last_number = 0


class InvoiceFactory(DjangoModelFactory[Invoice]):
    """Numbers come from the real sequence, so factory invoices never collide with ``create_invoice``."""

    class Meta:
        model = Invoice

    client = factory.SubFactory(ClientFactory)
    year = factory.LazyFunction(lambda: clock.today().year)
    kind = Invoice.Kind.DEPOSIT
    status = Invoice.Status.OPEN
    amount = Decimal("4500.00")
    currency = "USD"
    issued_on = factory.LazyFunction(clock.today)
    due_on = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=14))

    class Params:
        paid = factory.Trait(status=Invoice.Status.PAID, paid_at=factory.LazyFunction(clock.now))
        draft = factory.Trait(status=Invoice.Status.DRAFT, issued_on=None)

    @classmethod
    def _create(cls, model_class: type[Invoice], *args: Any, **kwargs: Any) -> Invoice:
        with transaction.atomic():
            if "number" not in kwargs or "sequence" not in kwargs:
                kwargs["number"], kwargs["sequence"] = next_invoice_number(year=kwargs["year"])
            return super()._create(model_class, *args, **kwargs)


class PaymentFactory(DjangoModelFactory[Payment]):
    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    amount = factory.LazyAttribute(lambda o: o.invoice.amount)
    currency = factory.LazyAttribute(lambda o: o.invoice.currency)
    provider_event_id = factory.Sequence(lambda n: f"evt_pay_{n:08d}")
    provider_payment_id = factory.Sequence(lambda n: f"pi_{n:08d}")
    status = Payment.Status.SUCCEEDED
    paid_at = factory.LazyFunction(clock.now)
