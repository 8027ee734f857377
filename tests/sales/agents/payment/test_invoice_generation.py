"""invoice_generation: what each business event bills, once, numbered without gaps, issued in Stripe."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Action, AgentRun, Escalation
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Message
from delivery.models import Milestone
from integrations.http.errors import PermanentError
from integrations.models import SandboxRecord
from integrations.sandbox.deals import SandboxPayments
from sales.models import Client, Invoice
from tests.factories.delivery import MilestoneFactory, ProjectFactory
from tests.factories.sales import ClientFactory
from tests.sales.agents.payment.conftest import project_client, signed_proposal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_a_signed_project_proposal_bills_half_as_a_deposit_issued_in_stripe() -> None:
    client = project_client()
    proposal = signed_proposal(client, total="12345.67")

    result = run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})

    assert result.status == "succeeded", result.error
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.amount, invoice.currency) == ("deposit", Decimal("6172.84"), "USD")
    assert isinstance(invoice.amount, Decimal)
    assert (invoice.number, invoice.key) == ("INV-2026-00001", f"client:{client.pk}:proposal:{proposal.pk}:deposit")
    assert invoice.due_on == dt.date(2026, 3, 16)  # net 14 from the business day
    # Stripe (the sandbox) has it: customer, invoice with its line, finalised; ours is open with its ids
    assert [(a.kind, a.status) for a in result.acts] == [("payments.invoice", Action.Status.DONE)]
    assert invoice.status == Invoice.Status.OPEN and invoice.provider_id and invoice.payment_url
    stripe = SandboxRecord.objects.get(kind="invoice", ref=invoice.provider_id).data
    assert (stripe["amount_due"], stripe["status"], stripe["metadata"]["invoice_number"]) == (
        "6172.84",
        "open",
        "INV-2026-00001",
    )
    client.refresh_from_db()
    assert client.stripe_customer_id.startswith("cus_sbx")


def test_the_notice_goes_to_the_clients_contact_with_the_payment_link() -> None:
    client = project_client()
    run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": signed_proposal(client).pk})

    drain()  # Stripe's answer started a sweep: the notice needs the hosted page

    invoice = Invoice.objects.get()
    notice = Message.objects.get(idempotency_key=f"invoice:{invoice.pk}:notice")
    assert client.primary_contact is not None and notice.to_email == client.primary_contact.email
    assert "INV-2026-00001" in notice.subject and "$5,000.00" in notice.subject
    assert invoice.payment_url in notice.body and "16 March 2026" in notice.body
    assert notice.status == Message.Status.SENT
    drain()
    assert Message.objects.filter(idempotency_key=f"invoice:{invoice.pk}:notice").count() == 1


def test_the_same_signature_twice_bills_once() -> None:
    client = project_client()
    proposal = signed_proposal(client)

    _first, second = assert_idempotent("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})

    assert Invoice.objects.count() == 1
    assert second.output["skipped"] == [
        f"client:{client.pk}:proposal:{proposal.pk}:deposit: already invoiced as INV-2026-00001"
    ]


def test_a_signed_retainer_starts_the_monthly_invoice_and_the_beat_does_not_bill_the_month_again() -> None:
    client = ClientFactory.create(monthly_value=Decimal("4000.00"), started_on=dt.date(2026, 3, 2))
    proposal = signed_proposal(client, total="4000.00")

    run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})
    run_agent("invoice_generation", {})
    drain()

    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.amount, invoice.key) == (
        "retainer",
        Decimal("4000.00"),
        f"client:{client.pk}:retainer:2026-03",
    )
    assert invoice.description == "Monthly retainer, March 2026"


def test_the_daily_beat_bills_due_retainers_and_delivered_milestones_each_in_a_run_of_its_own(
    frozen_clock: Any,
) -> None:
    retainer = ClientFactory.create(monthly_value=Decimal("4500.00"), started_on=dt.date(2026, 1, 2))
    later = ClientFactory.create(monthly_value=Decimal("3000.00"), started_on=dt.date(2026, 1, 20))  # due the 20th
    gone = ClientFactory.create(monthly_value=Decimal("3000.00"), status=Client.Status.CHURNED)
    project = ProjectFactory.create(client=project_client())
    done = MilestoneFactory.create(project=project, status=Milestone.Status.DONE, amount=Decimal("2500.00"))
    MilestoneFactory.create(project=project, status=Milestone.Status.IN_PROGRESS)
    MilestoneFactory.create(project=project, status=Milestone.Status.ACCEPTED, amount=Decimal("0.00"))

    beat = run_agent("invoice_generation", {})
    drain()

    assert beat.output["handed_off"] == 2
    billed = {i.key: (i.kind, i.amount) for i in Invoice.objects.all()}
    assert billed == {
        f"client:{retainer.pk}:retainer:2026-03": ("retainer", Decimal("4500.00")),
        f"milestone:{done.pk}": ("milestone", Decimal("2500.00")),
    }
    assert not Invoice.objects.filter(client__in=[later, gone]).exists()
    frozen_clock.set(dt.datetime(2026, 3, 20, 7, 0, tzinfo=dt.UTC))
    run_agent("invoice_generation", {})
    drain()
    assert Invoice.objects.filter(client=later, kind="retainer").count() == 1
    assert Invoice.objects.count() == 3


def test_the_beat_looks_only_at_milestones_not_billed_yet() -> None:
    # Billed milestones stay DONE or ACCEPTED for ever: the nightly look must not read them back
    # (their keys went to the database as one IN list, growing with the books).
    project = ProjectFactory.create(client=project_client())
    billed = [
        MilestoneFactory.create(project=project, status=Milestone.Status.DONE, amount=Decimal("100.00"))
        for _ in range(3)
    ]
    run_agent("invoice_generation", {})
    drain()
    assert Invoice.objects.filter(kind="milestone").count() == 3
    fresh = MilestoneFactory.create(project=project, status=Milestone.Status.ACCEPTED, amount=Decimal("100.00"))

    with CaptureQueriesContext(connection) as seen:
        beat = run_agent("invoice_generation", {})
    drain()

    assert beat.output["handed_off"] == 1
    assert Invoice.objects.filter(key=f"milestone:{fresh.pk}").exists()
    statements = " ".join(q["sql"] for q in seen.captured_queries)
    assert not [m.pk for m in billed if f"'milestone:{m.pk}'" in statements]


def test_a_milestone_never_bills_more_than_is_left_of_its_proposal() -> None:
    client = project_client()
    proposal = signed_proposal(client, total="10000.00")
    run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})  # 5,000 deposit
    project = ProjectFactory.create(client=client, proposal=proposal)
    first = MilestoneFactory.create(project=project, status=Milestone.Status.DONE, amount=Decimal("3000.00"))
    second = MilestoneFactory.create(project=project, status=Milestone.Status.ACCEPTED, amount=Decimal("3000.00"))
    third = MilestoneFactory.create(project=project, status=Milestone.Status.ACCEPTED, amount=Decimal("1000.00"))

    for milestone in (first, second, third):
        run_agent("invoice_generation", {"client_id": client.pk, "kind": "milestone", "milestone_id": milestone.pk})

    amounts = {i.key: i.amount for i in Invoice.objects.filter(kind="milestone")}
    assert amounts == {f"milestone:{first.pk}": Decimal("3000.00"), f"milestone:{second.pk}": Decimal("2000.00")}
    assert sum(i.amount for i in Invoice.objects.all()) == proposal.total


def test_the_final_invoice_bills_what_is_left_and_nothing_when_all_is_billed() -> None:
    client = project_client()
    proposal = signed_proposal(client, total="9000.00")
    run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})

    final = run_agent("invoice_generation", {"client_id": client.pk, "kind": "final"})
    again = run_agent("invoice_generation", {"client_id": client.pk, "kind": "final"})

    invoice = Invoice.objects.get(kind="final")
    assert (invoice.amount, invoice.key, invoice.proposal_id) == (
        Decimal("4500.00"),
        f"proposal:{proposal.pk}:final",
        proposal.pk,
    )
    assert final.output["created"] == ["INV-2026-00002"]
    assert again.output["skipped"] == [f"client {client.pk}: nothing left to bill on a signed proposal"]


def test_the_final_invoice_leaves_a_retainer_and_its_renewal_to_the_monthly_bills() -> None:
    """A retainer's months are billed month by month: a leaving client is not billed its whole term again."""
    client = ClientFactory.create(monthly_value=Decimal("4000.00"))
    signed_proposal(client, total="24000.00", requirements={"billing": "monthly"})
    signed_proposal(client, total="48000.00", requirements={"kind": "renewal"})
    project = signed_proposal(client, total="6000.00")

    final = run_agent("invoice_generation", {"client_id": client.pk, "kind": "final"})

    assert final.output["created"] == ["INV-2026-00001"]
    assert list(Invoice.objects.values_list("kind", "amount", "proposal_id")) == [
        ("final", Decimal("6000.00"), project.pk)
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda c: {"proposal_id": signed_proposal(c, status="sent", signed_at=None).pk}, "is sent, not signed"),
        (lambda c: {"proposal_id": signed_proposal(project_client()).pk}, "belongs to another client"),
        (lambda c: {"kind": "deposit"}, "a deposit needs the signed proposal"),
        (lambda c: {"kind": "retainer"}, "has no monthly value to bill"),
        (lambda c: {}, "nothing to bill"),
    ],
    ids=["unsigned", "another client's", "deposit without proposal", "retainer without value", "nothing named"],
)
def test_a_request_that_bills_nothing_says_why_and_writes_nothing(make: Any, reason: str) -> None:
    client = project_client()
    payload = {"client_id": client.pk, **make(client)}

    result = run_agent("invoice_generation", payload)

    assert result.status == "succeeded"
    assert reason in result.output["skipped"][0]
    assert not Invoice.objects.exists() and not result.acts


def test_an_unknown_client_or_proposal_ends_skipped_with_the_reason() -> None:
    result = run_agent("invoice_generation", {"client_id": 999_999, "proposal_id": 1})
    assert result.status == "skipped" and "no longer exists" in result.error
    assert not Invoice.objects.exists()


def test_a_client_without_a_contact_to_bill_is_escalated_not_invoiced() -> None:
    client = project_client(primary_contact=None)
    result = run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": signed_proposal(client).pk})
    assert not Invoice.objects.exists()
    [escalation] = result.escalations
    assert "no contact with an email" in escalation.reason and escalation.status == Escalation.Status.OPEN


def test_a_stripe_failure_burns_no_number_the_draft_keeps_it_and_is_escalated(monkeypatch: pytest.MonkeyPatch) -> None:
    client = project_client()

    def refuse(self: Any, **kwargs: Any) -> Any:
        raise PermanentError(
            "Your account cannot currently make live charges.", provider="sandbox", operation="invoice"
        )

    with monkeypatch.context() as patched:
        patched.setattr(SandboxPayments, "create_invoice", refuse)
        failed = run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": signed_proposal(client).pk})
    later = run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": signed_proposal(client).pk})

    assert failed.status == "failed" and "cannot currently make live charges" in failed.error
    draft, issued = Invoice.objects.order_by("sequence")
    assert (draft.number, draft.status, draft.provider_id) == ("INV-2026-00001", "draft", None)
    assert (issued.number, issued.status) == ("INV-2026-00002", "open")
    assert later.status == "succeeded"
    sweep = run_agent("invoice_generation", {})
    [stuck] = [e for e in sweep.escalations if e.dedupe_key == f"invoice:{draft.pk}:stripe-failed"]
    assert "INV-2026-00001" in stuck.reason and "void the draft" in stuck.reason
    assert run_agent("invoice_generation", {}).escalations == []  # once


def test_a_stripe_invoice_for_another_amount_is_not_issued(monkeypatch: pytest.MonkeyPatch) -> None:
    client = project_client()
    original = SandboxPayments.finalize_invoice

    def finalize(self: Any, **kwargs: Any) -> Any:
        return original(self, **kwargs).model_copy(update={"amount_due": Decimal("1.00")})

    monkeypatch.setattr(SandboxPayments, "finalize_invoice", finalize)
    result = run_agent("invoice_generation", {"client_id": client.pk, "proposal_id": signed_proposal(client).pk})

    assert result.status == "failed" and "is for 1.00 USD" in result.error
    assert Invoice.objects.get().status == Invoice.Status.DRAFT
    assert not AgentRun.objects.filter(idempotency_key__startswith="invoice_generation:issued:").exists()
