"""Campaign status changes, enrolling leads and picking variant winners go through the campaign services."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.models import Campaign, Enrollment, Lead
from crm.services.campaigns import (
    CampaignNotReady,
    EnrollmentRefused,
    campaign_set_status,
    enroll,
    enrollment_set_status,
    variant_set_winner,
)
from crm.services.suppression import suppress
from smarter_team import clock
from smarter_team.models import InvalidTransition
from tests.factories.crm import (
    CampaignFactory,
    CampaignStepFactory,
    EnrollmentFactory,
    LeadFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def test_a_campaign_goes_draft_review_active_paused_active() -> None:
    campaign = CampaignFactory.create()
    CampaignStepFactory.create(campaign=campaign)

    campaign_set_status(campaign=campaign, status=Campaign.Status.REVIEW)
    campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
    campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED, reason="bounce rate 4%")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == (Campaign.Status.PAUSED, "bounce rate 4%")

    campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.paused_reason) == (Campaign.Status.ACTIVE, "")


def test_a_draft_cannot_skip_review() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(InvalidTransition, match="cannot go from 'draft' to 'active'"):
        campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)


def test_a_campaign_without_steps_cannot_be_activated() -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.REVIEW)
    with pytest.raises(CampaignNotReady, match="no steps"):
        campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.REVIEW


def test_completing_a_campaign_stops_its_running_enrollments() -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.ACTIVE)
    running = EnrollmentFactory.create(campaign=campaign, status=Enrollment.Status.ACTIVE)
    paused = EnrollmentFactory.create(campaign=campaign, status=Enrollment.Status.PAUSED)
    replied = EnrollmentFactory.create(campaign=campaign, status=Enrollment.Status.REPLIED)

    campaign_set_status(campaign=campaign, status=Campaign.Status.COMPLETED)

    for enrollment in (running, paused, replied):
        enrollment.refresh_from_db()
    assert running.status == paused.status == Enrollment.Status.STOPPED
    assert running.next_send_at is None
    assert replied.status == Enrollment.Status.REPLIED


def test_enroll_creates_an_active_enrollment_due_now(frozen_clock: object) -> None:
    lead, campaign = LeadFactory.create(), CampaignFactory.create(status=Campaign.Status.ACTIVE)

    enrollment = enroll(lead=lead, campaign=campaign, variables={"pain": "manual dispatch"})

    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.next_send_at == clock.now()
    assert enrollment.variables == {"pain": "manual dispatch"}


def test_enroll_is_idempotent() -> None:
    lead, campaign = LeadFactory.create(), CampaignFactory.create()
    start = clock.now() + dt.timedelta(days=1)

    first = enroll(lead=lead, campaign=campaign, start_at=start)
    again = enroll(lead=lead, campaign=campaign)

    assert again.pk == first.pk and again.next_send_at == start
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize(
    ("lead_kwargs", "reason"),
    [
        ({"do_not_contact": True}, "do-not-contact"),
        ({"status": Lead.Status.BOUNCED}, "status is bounced"),
        ({"status": Lead.Status.DISQUALIFIED}, "status is disqualified"),
        ({"email": None}, "no email address"),
        ({"email_status": Lead.EmailStatus.INVALID}, "email address is invalid"),
        ({"email_status": Lead.EmailStatus.DISPOSABLE}, "email address is disposable"),
    ],
)
def test_enroll_refuses_leads_that_may_not_be_mailed(lead_kwargs: dict[str, object], reason: str) -> None:
    lead = LeadFactory.create(**lead_kwargs)
    with pytest.raises(EnrollmentRefused, match=reason):
        enroll(lead=lead, campaign=CampaignFactory.create())
    assert not Enrollment.objects.exists()


def test_enroll_refuses_a_lead_whose_domain_is_suppressed_after_the_lead_was_stored() -> None:
    lead = LeadFactory.create(email="jane@acme.example")
    suppress(email_or_domain="acme.example", reason="manual")
    lead.refresh_from_db()
    lead.do_not_contact = False  # as if an operator had cleared the flag by hand
    lead.status = Lead.Status.NEW
    lead.save()

    with pytest.raises(EnrollmentRefused, match="suppression list"):
        enroll(lead=lead, campaign=CampaignFactory.create())


def test_enroll_refuses_a_completed_campaign() -> None:
    with pytest.raises(EnrollmentRefused, match="completed"):
        enroll(lead=LeadFactory.create(), campaign=CampaignFactory.create(status=Campaign.Status.COMPLETED))


def test_enrollment_pause_and_resume() -> None:
    enrollment = EnrollmentFactory.create()

    enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.PAUSED)
    enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.ACTIVE)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE and enrollment.next_send_at is not None


def test_a_suppressed_lead_cannot_be_resumed() -> None:
    enrollment = EnrollmentFactory.create(status=Enrollment.Status.PAUSED)
    Lead.objects.filter(pk=enrollment.lead_id).update(do_not_contact=True)

    with pytest.raises(EnrollmentRefused, match="do-not-contact"):
        enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.ACTIVE)


def test_a_stopped_enrollment_stays_stopped() -> None:
    enrollment = EnrollmentFactory.create(status=Enrollment.Status.STOPPED)
    with pytest.raises(InvalidTransition):
        enrollment_set_status(enrollment=enrollment, status=Enrollment.Status.ACTIVE)


def test_variant_set_winner_demotes_the_previous_winner() -> None:
    step = CampaignStepFactory.create()
    a = VariantFactory.create(step=step, label="A", is_winner=True)
    b = VariantFactory.create(step=step, label="B")

    variant_set_winner(variant=b)

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.is_winner, b.is_winner) == (False, True)
