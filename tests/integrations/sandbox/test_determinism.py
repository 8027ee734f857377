"""Same seed, same world and the same event stream; another seed, another world."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.sandbox.world import company_at, search_people
from tests.integrations.sandbox.scenario import forget_the_world, play

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_world_and_event_stream(frozen_clock: Any) -> None:
    first = play(frozen_clock)
    forget_the_world()
    second = play(frozen_clock)
    assert first == second
    assert len(first["planned"]) >= 10, "the scenario should make the world react"


def test_another_seed_gives_another_world(frozen_clock: Any, settings: Any) -> None:
    first = play(frozen_clock)
    forget_the_world()
    settings.SANDBOX_SEED = 43
    other = play(frozen_clock)
    assert first["items"] != other["items"]
    assert [p[0] for p in first["planned"]] != [p[0] for p in other["planned"]]


def test_the_world_does_not_depend_on_the_order_it_is_asked_in(settings: Any) -> None:
    forwards = [company_at(query="saas", location="", index=i) for i in range(20)]
    backwards = [company_at(query="saas", location="", index=i) for i in reversed(range(20))]
    assert forwards == list(reversed(backwards))


def test_the_global_random_generator_is_left_alone() -> None:
    import random

    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    search_people(query="law firms", location="", start=0, count=50)
    assert random.random() == expected


def test_documents_and_invoices_are_the_same_whatever_ids_our_keys_name() -> None:
    # Their fates (signed or not, paid or not) are drawn from their ids: ids made of our outbox keys,
    # which name our rows' pks, drew other fates on CI's database.
    from decimal import Decimal

    from integrations.models import SandboxRecord
    from integrations.roles import get_role
    from integrations.values import InvoiceLine, Recipient

    def document(key: str) -> str:
        return get_role("documents").create_document(
            idempotency_key=key, name="Workflow automation for Bright Dental Co",
            recipients=[Recipient(email="Ann@Bright.example.com", first_name="Ann", last_name="Lee")],
        ).document_id  # fmt: skip

    def invoice(key: str) -> str:
        payments = get_role("payments")
        customer = payments.create_customer(idempotency_key=f"{key}:customer", email="ann@bright.example.com", name="B")
        line = InvoiceLine(description="Deposit", amount=Decimal("1500.00"))
        return payments.create_invoice(
            idempotency_key=key, customer_id=customer.customer_id, lines=[line], currency="usd"
        ).invoice_id

    here = (document("proposal:41:document"), invoice("invoice:17"))
    assert (document("proposal:41:document"), invoice("invoice:17")) == here  # a retry finds its record
    SandboxRecord.objects.all().delete()  # another database, other ids
    assert (document("proposal:3:document"), invoice("invoice:2")) == here
    # A second document or invoice of the same identity under another key is one of its own.
    second = (document("proposal:4:document"), invoice("invoice:3"))
    assert second[0] != here[0] and second[1] != here[1]
