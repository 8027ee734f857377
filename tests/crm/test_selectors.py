"""Reads shared by agents and the console: lookups by any notation, who is contactable, what is due."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.models import Campaign, Enrollment, Lead
from crm.selectors import company_by_domain, contactable_leads, due_enrollments, lead_by_email, variant_stats
from smarter_team import clock
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    CompanyFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def test_lookups_accept_any_notation() -> None:
    lead = LeadFactory.create(email="jane@acme.example")
    old = CompanyFactory.create(domain="old-acme.example")
    new = CompanyFactory.create(domain="acme.example")
    old.merged_into = new
    old.save()

    assert lead_by_email(" JANE@acme.example") == lead
    assert lead_by_email("nonsense") is None
    assert company_by_domain("https://www.old-acme.example/x") == new


def test_contactable_leads_excludes_everyone_outreach_must_skip() -> None:
    ok = LeadFactory.create()
    LeadFactory.create(do_not_contact=True)
    LeadFactory.create(email=None)
    LeadFactory.create(email_status=Lead.EmailStatus.INVALID)
    LeadFactory.create(status=Lead.Status.BOUNCED)
    LeadFactory.create(merged_into=ok)

    assert list(contactable_leads()) == [ok]


def test_due_enrollments_are_active_due_in_active_campaigns_oldest_first(frozen_clock: object) -> None:
    now = clock.now()
    active = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    later = EnrollmentFactory.create(campaign=active, next_send_at=now - dt.timedelta(minutes=1))
    earlier = EnrollmentFactory.create(campaign=active, next_send_at=now - dt.timedelta(hours=1))
    EnrollmentFactory.create(campaign=active, next_send_at=now + dt.timedelta(minutes=1))
    EnrollmentFactory.create(campaign=active, status=Enrollment.Status.PAUSED, next_send_at=now)
    EnrollmentFactory.create(campaign=CampaignFactory.create(status=Campaign.Status.PAUSED), next_send_at=now)
    EnrollmentFactory.create(campaign=active, next_send_at=now, lead=LeadFactory.create(do_not_contact=True))

    assert list(due_enrollments()) == [earlier, later]


def test_variant_stats_come_from_messages() -> None:
    step = CampaignStepFactory.create()
    a, b = VariantFactory.create(step=step, label="A"), VariantFactory.create(step=step, label="B")
    MessageFactory.create(variant=a, status="replied")
    MessageFactory.create(variant=a, status="sent")
    MessageFactory.create(variant=b, status="queued", sent_at=None)

    stats = variant_stats(step=step)

    assert [(s["label"], s["sent"], s["replied"], s["reply_rate"]) for s in stats] == [
        ("A", 2, 1, 0.5),
        ("B", 0, 0, 0.0),
    ]
