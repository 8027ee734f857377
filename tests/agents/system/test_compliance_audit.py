"""compliance_audit: the daily proof, and an escalation with the evidence for each broken rule."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.models import Escalation
from agents.testing import run_agent
from crm.agents.campaign._compose import with_footer
from crm.models import Enrollment, Message
from crm.services.agency import profile
from crm.services.suppression import suppress
from crm.services.unsubscribe import headers_for, link_for
from smarter_team import clock
from tests.factories.crm import ConversationFactory, EnrollmentFactory, LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _cold(lead, *, when, **overrides):
    enrollment = EnrollmentFactory.create(lead=lead)
    fields = {
        "conversation": ConversationFactory.create(lead=lead),
        "enrollment": enrollment,
        "headers": headers_for(lead),
        "body": with_footer("Hi there, a short note.", profile(), link_for(lead)),
        "sent_at": when,
        **overrides,
    }
    return MessageFactory.create(**fields)


def _breaches(result):
    return {c["name"]: c["breaches"] for c in result.output["checks"]}


def test_a_clean_day_is_a_proof_with_counts_and_no_escalation(frozen_clock):
    lead = LeadFactory.create(email="dana@harbordental.com")
    _cold(lead, when=clock.now() - dt.timedelta(hours=3))
    asked = MessageFactory.create(
        conversation=ConversationFactory.create(lead=LeadFactory.create(email="sam@cedarlaw.com")),
        direction=Message.Direction.IN,
        intent="unsubscribe",
        status=Message.Status.DELIVERED,
    )
    frozen_clock.tick(dt.timedelta(minutes=2))
    suppress(email_or_domain="sam@cedarlaw.com", reason="unsubscribe", source="reply")
    frozen_clock.tick(dt.timedelta(hours=1))
    result = run_agent("compliance_audit", {})
    assert result.status == "succeeded", result.error
    assert result.output["passed"] is True
    checked = {c["name"]: c["checked"] for c in result.output["checks"]}
    assert (
        checked["suppressed address contacted"] >= 1
        and checked["cold email without unsubscribe headers or postal address"] == 1
    )
    assert checked["opt-out not honoured in time"] >= 1 and asked.pk
    assert not result.escalations


@pytest.mark.parametrize("chunk", [None, 1])  # 1: each address's hashes looked up in IN lists of one
def test_a_send_after_the_suppression_is_a_breach_with_its_message_id(frozen_clock, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr("smarter_team.db.IN_LIST_CHUNK", chunk)
    lead = LeadFactory.create(email="pat@summitdental.com")
    suppress(email_or_domain="summitdental.com", reason="manual", source="operator")
    frozen_clock.tick(dt.timedelta(minutes=5))
    late = _cold(lead, when=clock.now())
    before = _cold(LeadFactory.create(email="kim@atlasdental.com"), when=clock.now())
    frozen_clock.tick(dt.timedelta(minutes=1))
    result = run_agent("compliance_audit", {})
    assert _breaches(result)["suppressed address contacted"] == 1
    [check] = [c for c in result.output["checks"] if c["name"] == "suppressed address contacted"]
    assert check["evidence"] == [late.pk] and before.pk not in check["evidence"]
    [escalation] = Escalation.objects.filter(reason__startswith="compliance breach: suppressed")
    assert escalation.assigned_group == "admin" and "pat@" not in str(escalation.payload)
    run_agent("compliance_audit", {})  # the same day again: still one escalation
    assert Escalation.objects.filter(reason__startswith="compliance breach: suppressed").count() == 1


def test_a_cold_email_without_one_click_headers_or_postal_address_is_a_breach(frozen_clock):
    lead = LeadFactory.create(email="ana@northlaw.com")
    no_post = _cold(lead, when=clock.now(), headers={"List-Unsubscribe": f"<{link_for(lead)}>"})
    no_footer = _cold(LeadFactory.create(email="li@northlaw.com"), when=clock.now(), body="Hi, no footer here.")
    frozen_clock.tick(dt.timedelta(minutes=1))
    result = run_agent("compliance_audit", {})
    [check] = [c for c in result.output["checks"] if c["name"].startswith("cold email")]
    assert sorted(check["evidence"]) == sorted([no_post.pk, no_footer.pk])


def test_an_opt_out_suppressed_late_or_still_enrolled_is_a_breach(frozen_clock, settings):
    settings.COMPLIANCE_OPT_OUT_DELAY_MINUTES = 15
    lead = LeadFactory.create(email="joe@keystoneco.com")
    asked = MessageFactory.create(
        conversation=ConversationFactory.create(lead=lead), direction=Message.Direction.IN, intent="unsubscribe"
    )
    frozen_clock.tick(dt.timedelta(hours=2))  # honoured two hours later: too late
    suppress(email_or_domain="joe@keystoneco.com", reason="unsubscribe", source="reply")
    still = EnrollmentFactory.create(
        lead=LeadFactory.create(email="ivy@keystoneco.com"), status=Enrollment.Status.ACTIVE
    )
    entry_for_ivy = suppress(email_or_domain="ivy@keystoneco.com", reason="unsubscribe", source="link")
    Enrollment.objects.filter(pk=still.pk).update(status=Enrollment.Status.ACTIVE)  # a bug left it running
    frozen_clock.tick(dt.timedelta(hours=1))
    result = run_agent("compliance_audit", {})
    [check] = [c for c in result.output["checks"] if c["name"] == "opt-out not honoured in time"]
    assert asked.pk in check["evidence"] and still.pk in check["evidence"] and entry_for_ivy.pk


def test_personal_data_past_retention_and_grace_is_a_breach(frozen_clock, settings):
    settings.RETENTION_PROSPECT_DAYS = 30
    settings.COMPLIANCE_RETENTION_GRACE_DAYS = 3
    stale = LeadFactory.create(email="old@formerprospect.com", status="lost")
    fresh_due = LeadFactory.create(email="new@formerprospect.com", status="lost")
    from crm.models import Lead

    Lead.objects.filter(pk=stale.pk).update(updated_at=clock.now() - dt.timedelta(days=40))
    Lead.objects.filter(pk=fresh_due.pk).update(updated_at=clock.now() - dt.timedelta(days=31))
    result = run_agent("compliance_audit", {})
    [check] = [c for c in result.output["checks"] if c["name"] == "personal data kept past retention"]
    assert check["evidence"] == [stale.pk]  # the other is due, within database_manager's grace
