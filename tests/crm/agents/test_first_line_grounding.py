"""The share of sent first lines that cite a fact: counted from what left, shown by analytics and the console."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.urls import reverse

from agents.brains import scripted
from agents.testing import drain, run_agent
from crm.models import Campaign, CampaignStats, Enrollment, Lead, Message, ResearchReport
from crm.services.grounding_stats import first_lines, first_lines_by_campaign, verdict
from smarter_team import clock
from tests.crm.agents.test_campaign_agents import (
    CLAIM,
    MONDAY_10_BERLIN,
    active_campaign,
    approve_first_batch,
    finding,
)
from tests.factories.crm import CompanyFactory, EnrollmentFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _world() -> Iterator[None]:
    scripted.reset()
    with clock.frozen(MONDAY_10_BERLIN):
        yield
    scripted.reset()


def enrolled(campaign: Campaign, **lead_kw: Any) -> Enrollment:
    lead = LeadFactory.create(status=Lead.Status.QUALIFIED, **lead_kw)
    return EnrollmentFactory.create(lead=lead, campaign=campaign, variables={}, next_send_at=clock.now())


def personalise_and_send(campaign: Campaign, enrollments: list[Enrollment], answers: Any = None) -> None:
    for enrollment in enrollments:
        run_agent("personalization", {"enrollment_id": enrollment.pk}, answers=answers)
    drain()
    run_agent("sequence_scheduler")


def test_only_lines_citing_a_stored_finding_count(django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    own = enrolled(campaign, research={"findings": [finding()]})
    company = CompanyFactory.create()
    ResearchReport.objects.create(
        kind=ResearchReport.Kind.COMPANY, subject=company.name, company=company, findings={"findings": [finding()]}
    )
    via_report = enrolled(campaign, company=company)  # the company's research report backs it
    bare = enrolled(campaign, research={"notes": ["unsourced: they raised $5M"]})  # no finding: no line
    personalise_and_send(campaign, [own, via_report, bare])

    assert Message.objects.filter(enrollment__campaign=campaign, status="sent").count() == 3
    tally = first_lines(campaign_id=campaign.pk)
    assert (tally.sent, tally.cited) == (3, 2)
    assert tally.describe() == "2 of 3 sent first lines cite a fact (67%)"


def test_the_verdict_is_what_left_at_the_send_not_what_the_line_became(django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    enrollment = enrolled(campaign, research={"findings": [finding()]})
    personalise_and_send(campaign, [enrollment])
    [message] = Message.objects.filter(enrollment=enrollment)
    assert message.first_line_cited is True
    assert first_lines().cited == 1
    # A line rewritten (or a finding deleted) after the send does not change what was sent.
    enrollment.variables = {**enrollment.variables, "first_line": "I read that you like sailing."}
    enrollment.save(update_fields=["variables"])
    Lead.objects.filter(pk=enrollment.lead_id).update(research={})
    assert (first_lines().sent, first_lines().cited) == (1, 1)


def test_the_verdict_counts_only_copy_with_the_slot_and_a_line_that_left() -> None:
    line = "Saw your new clinic in Austin."
    variables = {"first_line": line}
    assert verdict(copy="Hi {{ first_name }}, quick follow-up.", variables=variables, body="Hi Ann") is None
    assert verdict(copy="{{first_line}} We help.", variables=variables, body=f"{line} We help.") is True
    assert verdict(copy="{{ first_line }} We help.", variables={"first_line": " "}, body=" We help.") is False
    assert verdict(copy="{{ first_line }} We help.", variables=variables, body="Other text. We help.") is False


def test_emails_sent_before_the_verdict_was_recorded_are_backfilled(django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    cited, uncited = enrolled(campaign, research={"findings": [finding()]}), enrolled(campaign)
    personalise_and_send(campaign, [cited, uncited])
    Message.objects.update(first_line_cited=None)  # as they stood before migration 0009
    assert first_lines().sent == 0

    importlib.import_module("crm.migrations.0009_message_first_line_cited").backfill(django_apps, None)

    assert (first_lines().sent, first_lines().cited) == (2, 1)


def test_analytics_keeps_the_share_per_campaign_and_overall_and_the_console_shows_it(
    django_user_model: Any, staff_client: Any
) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    cited = enrolled(campaign, research={"findings": [finding()]})
    uncited = enrolled(campaign)
    personalise_and_send(campaign, [cited, uncited])

    result = run_agent("campaign_analytics")

    assert result.status == "succeeded", result.error
    assert result.output["first_lines"] == {"first_lines": 2, "first_lines_cited": 1, "first_lines_cited_share": 0.5}
    totals = CampaignStats.objects.get(campaign=campaign).totals
    assert (totals["first_lines"], totals["first_lines_cited"], totals["first_lines_cited_share"]) == (2, 1, 0.5)
    assert totals["sent"] == 2  # the send tallies are still there
    listing = staff_client.get(reverse("admin:crm_campaign_changelist")).content.decode()
    assert "first lines citing a fact" in listing.lower() and "50%" in listing
    page = staff_client.get(reverse("admin:crm_campaign_change", args=[campaign.pk])).content.decode()
    assert "1 of 2 sent first lines cite a fact (50%)" in page
    out = StringIO()
    call_command("grounding_report", stdout=out)
    assert f"campaign #{campaign.pk}" in out.getvalue() and "all: 1 of 2 sent first lines cite a fact" in out.getvalue()


def test_an_invented_claim_never_counts_as_cited(django_user_model: Any) -> None:
    campaign = active_campaign()
    approve_first_batch(campaign, django_user_model)
    enrollment = enrolled(campaign, research={"findings": [finding()]})
    personalise_and_send(campaign, [enrollment], answers=[{"line": "Congrats on the $20M Series B.", "cites": []}])
    [message] = Message.objects.filter(enrollment=enrollment)
    assert "Series B" not in message.body
    by_campaign = first_lines_by_campaign()
    # The model's line was refused and the heuristic's cited line went out instead.
    assert by_campaign[campaign.pk].cited == 1 and CLAIM in message.body
