"""Write paths for campaigns: status changes, enrolling leads, stopping enrollments, picking a winner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Campaign, Enrollment, Lead, Variant
from crm.services.suppression import is_suppressed
from smarter_team import clock

__all__ = [
    "CampaignNotReady",
    "EnrollmentRefused",
    "campaign_set_status",
    "enroll",
    "enrollment_refusal",
    "enrollment_set_status",
    "variant_set_winner",
]

# Email verdicts we never send to: they bounce, burn the mailbox or reach nobody.
UNSENDABLE_EMAIL_STATUSES = frozenset({Lead.EmailStatus.INVALID, Lead.EmailStatus.DISPOSABLE})
# Lead statuses that end outreach; an enrollment would only be stopped again at the first send.
UNENROLLABLE_LEAD_STATUSES = frozenset({Lead.Status.UNSUBSCRIBED, Lead.Status.BOUNCED, Lead.Status.DISQUALIFIED})


class CampaignNotReady(ValidationError):
    """A campaign cannot take this status yet (e.g. activating one without steps)."""


class EnrollmentRefused(ValidationError):
    """A lead that may not be enrolled; the message says why."""


@transaction.atomic
def campaign_set_status(*, campaign: Campaign, status: str, reason: str = "") -> bool:
    """Move a campaign along its status machine; returns whether it changed.

    Activating needs at least one step with templates. Pausing records ``reason``. Completing stops
    every enrollment that is still running, so nothing is sent after the campaign ended.
    Raises InvalidTransition or CampaignNotReady.
    """
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    locked.STATUS_MACHINE.check(locked, status)
    also: list[str] = []
    if status == Campaign.Status.ACTIVE and locked.status != status:
        if not locked.steps.exists():
            raise CampaignNotReady(f"campaign {locked.name!r} has no steps: add at least one before activating it")
        if locked.paused_reason:
            locked.paused_reason = ""
            also.append("paused_reason")
    if status == Campaign.Status.PAUSED and locked.status != status:
        locked.paused_reason = reason[:255]
        also.append("paused_reason")
    changed = locked.transition_to(status, also=also)
    if changed and status == Campaign.Status.COMPLETED:
        running = locked.enrollments.select_for_update().filter(
            status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED]
        )
        for enrollment in running:
            _stop(enrollment, Enrollment.Status.STOPPED, "campaign completed")
    campaign.status, campaign.paused_reason = locked.status, locked.paused_reason
    return changed


def enrollment_refusal(*, lead: Lead, campaign: Campaign | None = None) -> str | None:
    """Why this lead may not be enrolled (in this campaign), or None; forms show it before ``enroll``."""
    if campaign is not None and campaign.status == Campaign.Status.COMPLETED:
        return f"the campaign {campaign.name!r} is completed"
    return _refusal(lead)


def _refusal(lead: Lead) -> str | None:
    """Why this lead may not be enrolled, or None."""
    if lead.do_not_contact:
        return "it is marked do-not-contact"
    if lead.status in UNENROLLABLE_LEAD_STATUSES:
        return f"its status is {lead.status}"
    if not lead.email:
        return "it has no email address"
    if lead.email_status in UNSENDABLE_EMAIL_STATUSES:
        return f"its email address is {lead.email_status}"
    if is_suppressed(lead.email):
        return "its address or domain is on the suppression list"
    if lead.merged_into_id is not None:
        return f"it was merged into lead #{lead.merged_into_id}; enroll that lead"
    return None


@transaction.atomic
def enroll(
    *,
    lead: Lead,
    campaign: Campaign,
    variables: Mapping[str, Any] | None = None,
    start_at: dt.datetime | None = None,
) -> Enrollment:
    """Put a lead into a campaign's sequence; returns the enrollment (the existing one if already enrolled).

    Refuses (EnrollmentRefused) suppressed, do-not-contact, bounced, unsubscribed, disqualified or
    merged leads, leads without a sendable address, and completed campaigns. The first step is due
    at ``start_at`` (default: now); the sender applies the campaign's window and the lead's zone.
    """
    locked_lead = Lead.objects.select_for_update().get(pk=lead.pk)
    existing = Enrollment.objects.filter(lead=locked_lead, campaign=campaign).first()
    if existing is not None:
        return existing
    why = _refusal(locked_lead)
    if why:
        raise EnrollmentRefused(f"cannot enroll {locked_lead} in {campaign.name!r}: {why}", code="refused")
    if campaign.status == Campaign.Status.COMPLETED:
        raise EnrollmentRefused(f"cannot enroll into {campaign.name!r}: the campaign is completed", code="completed")
    return Enrollment.objects.create(
        lead=locked_lead,
        campaign=campaign,
        status=Enrollment.Status.ACTIVE,
        next_send_at=start_at or clock.now(),
        variables=dict(variables or {}),
    )


def _stop(enrollment: Enrollment, status: str, reason: str) -> None:
    enrollment.next_send_at = None
    enrollment.stopped_reason = reason[:255]
    enrollment.transition_to(status, also=["next_send_at", "stopped_reason"])


@transaction.atomic
def enrollment_set_status(*, enrollment: Enrollment, status: str, reason: str = "") -> bool:
    """Move an enrollment along its status machine; leaving the running states clears next_send_at."""
    locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    locked.STATUS_MACHINE.check(locked, status)
    if locked.status == status:
        return False
    if status in Enrollment.STOPPED_STATES:
        _stop(locked, status, reason or status)
    else:
        why = _refusal(locked.lead) if status == Enrollment.Status.ACTIVE else None
        if why:
            raise EnrollmentRefused(f"cannot resume {locked}: {why}", code="refused")
        if status == Enrollment.Status.ACTIVE and locked.next_send_at is None:
            locked.next_send_at = clock.now()
        locked.transition_to(status, also=["next_send_at"])
    enrollment.status, enrollment.next_send_at = locked.status, locked.next_send_at
    enrollment.stopped_reason = locked.stopped_reason
    return True


@transaction.atomic
def variant_set_winner(*, variant: Variant) -> Variant:
    """Make one variant its step's winner, demoting any previous winner first (one winner per step)."""
    Variant.objects.select_for_update().filter(step_id=variant.step_id).exclude(pk=variant.pk).filter(
        is_winner=True
    ).update(is_winner=False)
    if not variant.is_winner:
        variant.is_winner = True
        variant.save(update_fields=["is_winner"])
    return variant
