"""Impossible states are refused by the database itself, whatever code path tries to write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DataError, IntegrityError, transaction

from crm.models import Lead
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    CompanyFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    NicheFactory,
    SuppressionEntryFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def _refused(make: Callable[[], Any]) -> None:
    # DataError: a value longer than its column ("Germany" in a 2-letter country field).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        make()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"email": "Jane@acme.example"},
        {"email": "no-at-sign"},
        {"phone": "030 1234567"},
        {"phone": "+0301234567"},
        {"score": 101},
        {"status": Lead.Status.UNSUBSCRIBED, "do_not_contact": False},
        {"status": "sleeping"},
        {"email_status": "great"},
        {"country": "Germany"},
        {"country": "de"},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_a_lead_in_an_impossible_state_is_refused(kwargs: dict[str, Any]) -> None:
    _refused(lambda: LeadFactory.create(**kwargs))


def test_two_leads_cannot_share_an_email() -> None:
    LeadFactory.create(email="jane@acme.example")
    _refused(lambda: LeadFactory.create(email="jane@acme.example"))


def test_many_leads_may_have_no_email() -> None:
    LeadFactory.create(email=None)
    LeadFactory.create(email=None)
    assert Lead.objects.filter(email__isnull=True).count() == 2


def test_a_lead_cannot_be_merged_into_itself() -> None:
    lead = LeadFactory.create()
    _refused(lambda: Lead.objects.filter(pk=lead.pk).update(merged_into=lead))


@pytest.mark.parametrize("domain", ["ACME.example", "www.acme.example", "acme.example/about", ""])
def test_a_company_domain_must_be_normalised(domain: str) -> None:
    _refused(lambda: CompanyFactory.create(domain=domain))


def test_two_companies_cannot_share_a_domain() -> None:
    CompanyFactory.create(domain="acme.example")
    _refused(lambda: CompanyFactory.create(domain="acme.example"))


def test_a_step_has_one_winning_variant_at_most() -> None:
    step = CampaignStepFactory.create()
    VariantFactory.create(step=step, label="A", is_winner=True)
    VariantFactory.create(step=step, label="B", is_winner=False)
    _refused(lambda: VariantFactory.create(step=step, label="C", is_winner=True))


def test_variant_labels_are_unique_per_step() -> None:
    step = CampaignStepFactory.create()
    VariantFactory.create(step=step, label="A")
    _refused(lambda: VariantFactory.create(step=step, label="A"))


def test_step_orders_are_unique_per_campaign() -> None:
    campaign = CampaignFactory.create()
    CampaignStepFactory.create(campaign=campaign, order=1)
    _refused(lambda: CampaignStepFactory.create(campaign=campaign, order=1))


def test_a_lead_is_enrolled_once_per_campaign() -> None:
    enrollment = EnrollmentFactory.create()
    _refused(lambda: EnrollmentFactory.create(lead=enrollment.lead, campaign=enrollment.campaign))


@pytest.mark.parametrize(
    "kwargs",
    [{"send_window_start": dt.time(17), "send_window_end": dt.time(9)}, {"daily_limit": 0}, {"status": "running"}],
)
def test_a_campaign_in_an_impossible_state_is_refused(kwargs: dict[str, Any]) -> None:
    _refused(lambda: CampaignFactory.create(**kwargs))


def test_a_sent_message_needs_sent_at() -> None:
    _refused(lambda: MessageFactory.create(status="sent", sent_at=None))


def test_message_idempotency_keys_are_unique() -> None:
    MessageFactory.create(idempotency_key="send:1:step:1")
    _refused(lambda: MessageFactory.create(idempotency_key="send:1:step:1"))


def test_mailbox_rates_and_email_are_checked() -> None:
    _refused(lambda: MailboxFactory.create(bounce_rate=2))
    _refused(lambda: MailboxFactory.create(email="Sender@outreach.example"))


def test_niche_scores_are_at_most_100() -> None:
    _refused(lambda: NicheFactory.create(demand_score=101))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"value": "Jane@acme.example"},
        {"value_hash": "not-a-hash"},
        {"kind": "email", "value": "acme.example"},
        {"kind": "domain", "value": "jane@acme.example"},
        {"reason": "bored"},
    ],
)
def test_a_suppression_entry_in_an_impossible_state_is_refused(kwargs: dict[str, Any]) -> None:
    _refused(lambda: SuppressionEntryFactory.create(**kwargs))


def test_a_value_is_suppressed_once_per_kind() -> None:
    SuppressionEntryFactory.create(value="jane@acme.example")
    _refused(lambda: SuppressionEntryFactory.create(value="jane@acme.example"))
