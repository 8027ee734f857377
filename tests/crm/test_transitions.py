"""Each crm state machine allows exactly the moves the business allows."""

from __future__ import annotations

import pytest

from crm.models import Campaign, Enrollment, Lead, Message, Niche
from smarter_team.models import InvalidTransition
from tests.factories.crm import CampaignFactory, EnrollmentFactory, LeadFactory, MessageFactory, NicheFactory

pytestmark = pytest.mark.django_db

L, C, E, M = Lead.Status, Campaign.Status, Enrollment.Status, Message.Status


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (L.NEW, L.ENRICHED),
        (L.VERIFIED, L.QUALIFIED),
        (L.QUALIFIED, L.CONTACTED),
        (L.CONTACTED, L.REPLIED),
        (L.REPLIED, L.MEETING_BOOKED),
        (L.MEETING_BOOKED, L.PROPOSAL_SENT),
        (L.PROPOSAL_SENT, L.WON),
        (L.LOST, L.QUALIFIED),
        (L.BOUNCED, L.NEW),
        (L.WON, L.UNSUBSCRIBED),
    ],
)
def test_lead_allowed_transitions(start: str, end: str) -> None:
    lead = LeadFactory.create(status=start, do_not_contact=end == L.UNSUBSCRIBED)
    assert lead.transition_to(end) is True
    lead.refresh_from_db()
    assert lead.status == end


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (L.NEW, L.CONTACTED),  # never contact an unqualified lead
        (L.NEW, L.WON),
        (L.QUALIFIED, L.PROPOSAL_SENT),
        (L.WON, L.LOST),
        (L.DISQUALIFIED, L.CONTACTED),
    ],
)
def test_lead_refused_transitions(start: str, end: str) -> None:
    lead = LeadFactory.create(status=start)
    with pytest.raises(InvalidTransition):
        lead.transition_to(end)
    lead.refresh_from_db()
    assert lead.status == start


def test_an_unsubscribed_lead_never_leaves_unsubscribed() -> None:
    lead = LeadFactory.create(status=L.UNSUBSCRIBED, do_not_contact=True)
    for status in L.values:
        if status != L.UNSUBSCRIBED:
            with pytest.raises(InvalidTransition):
                lead.transition_to(status)


def test_every_lead_status_can_unsubscribe() -> None:
    for status in L.values:
        assert Lead.STATUS_MACHINE.allowed(status, L.UNSUBSCRIBED), status


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        (C.DRAFT, C.REVIEW, True),
        (C.REVIEW, C.ACTIVE, True),
        (C.ACTIVE, C.PAUSED, True),
        (C.PAUSED, C.ACTIVE, True),
        (C.DRAFT, C.ACTIVE, False),
        (C.COMPLETED, C.ACTIVE, False),
        (C.ACTIVE, C.DRAFT, False),
    ],
)
def test_campaign_transitions(start: str, end: str, allowed: bool) -> None:
    campaign = CampaignFactory.create(status=start)
    if allowed:
        campaign.transition_to(end)
    else:
        with pytest.raises(InvalidTransition):
            campaign.transition_to(end)


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        (E.ACTIVE, E.PAUSED, True),
        (E.PAUSED, E.ACTIVE, True),
        (E.ACTIVE, E.REPLIED, True),
        (E.COMPLETED, E.REPLIED, True),
        (E.UNSUBSCRIBED, E.ACTIVE, False),
        (E.STOPPED, E.ACTIVE, False),
        (E.REPLIED, E.ACTIVE, False),
        (E.BOUNCED, E.ACTIVE, False),
    ],
)
def test_enrollment_transitions(start: str, end: str, allowed: bool) -> None:
    enrollment = EnrollmentFactory.create(status=start)
    if allowed:
        enrollment.transition_to(end)
    else:
        with pytest.raises(InvalidTransition):
            enrollment.transition_to(end)


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        (M.DRAFT, M.AWAITING_APPROVAL, True),
        (M.AWAITING_APPROVAL, M.QUEUED, True),
        (M.SENT, M.DELIVERED, True),
        (M.FAILED, M.QUEUED, True),
        (M.SENT, M.QUEUED, False),  # a sent message is never queued again: no double send
        (M.DELIVERED, M.SENT, False),
        (M.REPLIED, M.DRAFT, False),
    ],
)
def test_message_transitions(start: str, end: str, allowed: bool) -> None:
    message = MessageFactory.create(status=start)
    if allowed:
        message.transition_to(end)
    else:
        with pytest.raises(InvalidTransition):
            message.transition_to(end)


def test_niche_transitions() -> None:
    niche = NicheFactory.create()
    niche.transition_to(Niche.Status.SELECTED)
    with pytest.raises(InvalidTransition):
        niche.transition_to(Niche.Status.CANDIDATE)
