"""upsell_detection: opportunities grounded in what the client asked for; the good one goes to pricing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agents.testing import assert_idempotent, run_agent
from delivery.agents.retention import _needs
from delivery.models import ChangeRequest, UpsellOpportunity
from delivery.services.renewals import draft_renewal
from sales.models import Client, Proposal
from smarter_team import clock
from tests.delivery.agents.retention.conftest import a_client
from tests.factories.delivery import ChangeRequestFactory, MilestoneFactory, ProjectFactory, UpsellOpportunityFactory
from tests.factories.sales import ProposalFactory

pytestmark = pytest.mark.django_db


def bought(client: Client, **requirements: object) -> Proposal:
    return ProposalFactory.create(
        client=client,
        company=client.company,
        lead=client.primary_contact,
        signed=True,
        title="AI support assistant",
        requirements={"goal": "deflect 40% of tickets", **requirements},
    )


def test_a_request_they_made_becomes_a_proposal_draft_for_pricing() -> None:
    client = a_client(health_score=82)
    bought(client)
    request = ChangeRequestFactory.create(
        project__client=client, description="Send our clients an automated weekly report", status="rejected"
    )

    result = run_agent("upsell_detection", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    upsell = UpsellOpportunity.objects.get(pk=result.output["proposed"])
    assert upsell.title == "Automated client reporting"
    assert f"change_request:{request.pk}" in upsell.rationale and "weekly report" in upsell.rationale
    assert upsell.estimated_value == request.price and upsell.status == "proposed"
    draft = Proposal.objects.get(pk=result.output["proposal_id"])
    assert upsell.proposal == draft and draft.status == "draft" and draft.client == client
    assert draft.requirements["kind"] == "upsell" and draft.requirements["cites"] == [f"change_request:{request.pk}"]
    assert "Automated client reporting" in draft.title


def test_a_need_left_out_of_the_signed_scope_is_an_opportunity_citing_where_it_was_said() -> None:
    client = a_client(health_score=85)
    proposal = bought(client, out_of_scope=["Onboarding new clients takes three weeks of back and forth"])

    result = run_agent("upsell_detection", {"client_id": client.pk})

    upsell = UpsellOpportunity.objects.get()
    assert upsell.title == "Client onboarding automation"
    assert f"proposal:{proposal.pk}:requirements.out_of_scope[0]" in upsell.rationale
    assert upsell.estimated_value == Decimal("2250.00")  # a quarter of the 9,000 first project
    assert result.output["proposal_id"] is not None


def test_results_alone_are_noted_for_the_account_owner_but_not_proposed() -> None:
    client = a_client(health_score=90)
    bought(client)
    project = ProjectFactory.create(client=client)
    MilestoneFactory.create_batch(2, project=project, status="done")

    result = run_agent("upsell_detection", {"client_id": client.pk})

    upsell = UpsellOpportunity.objects.get()
    assert upsell.title.startswith("Phase 2") and upsell.status == "identified"
    assert result.output["proposal_id"] is None and not Proposal.objects.filter(requirements__kind="upsell").exists()


def test_never_for_a_client_at_risk_or_not_healthy_enough_to_propose() -> None:
    at_risk = a_client(status=Client.Status.AT_RISK, health_score=40)
    ChangeRequestFactory.create(project__client=at_risk, description="Weekly report automation", status="rejected")
    skipped = run_agent("upsell_detection", {"client_id": at_risk.pk})
    assert skipped.status == "skipped" and "at risk" in skipped.error
    assert not UpsellOpportunity.objects.exists()

    shaky = a_client(health_score=60)
    ChangeRequestFactory.create(project__client=shaky, description="Weekly report automation", status="rejected")
    noted = run_agent("upsell_detection", {"client_id": shaky.pk})
    assert noted.output["identified"] and noted.output["proposal_id"] is None


def test_nothing_is_sold_to_a_client_who_declined_the_renewal_while_they_are_served_to_the_end() -> None:
    leaving = a_client(health_score=82, contract_end=clock.today() + dt.timedelta(days=40))
    bought(leaving)
    ChangeRequestFactory.create(project__client=leaving, description="Weekly report automation", status="rejected")
    renewal = draft_renewal(client=leaving, contact=leaving.primary_contact)
    Proposal.objects.filter(pk=renewal.pk).update(status="declined", decline_reason="Budget was cut")

    skipped = run_agent("upsell_detection", {"client_id": leaving.pk})

    assert skipped.status == "skipped" and "declined the renewal" in skipped.error
    assert not UpsellOpportunity.objects.exists()
    Proposal.objects.filter(pk=renewal.pk).update(status="sent")  # the renewal still open: no one is leaving
    assert run_agent("upsell_detection", {"client_id": leaving.pk}).output["identified"]


def test_an_answer_citing_facts_not_on_record_is_replaced_by_the_heuristics() -> None:
    client = a_client(health_score=82)
    request = ChangeRequestFactory.create(
        project__client=client, description="Add a booking calendar", status="rejected"
    )
    invented = {
        "opportunities": [
            {"title": "Voice agent", "need": "they love phones", "rationale": "heard it somewhere",
             "cites": ["meeting:999"], "estimated_value": "50000", "confidence": 0.95}
        ]
    }  # fmt: skip

    result = run_agent("upsell_detection", {"client_id": client.pk}, answers=[invented])

    titles = list(UpsellOpportunity.objects.values_list("title", flat=True))
    assert titles == ["Scheduling automation"]
    assert f"change_request:{request.pk}" in UpsellOpportunity.objects.get().rationale
    assert result.status == "succeeded"


def test_a_grounded_model_answer_is_used() -> None:
    client = a_client(health_score=82)
    request = ChangeRequestFactory.create(
        project__client=client, description="Add a booking calendar", status="rejected"
    )
    answer = {
        "opportunities": [
            {"title": "Appointment booking assistant", "need": "booking", "rationale": "asked for a calendar",
             "cites": [f"change_request:{request.pk}"], "estimated_value": "3200", "confidence": 0.8}
        ]
    }  # fmt: skip
    run_agent("upsell_detection", {"client_id": client.pk}, answers=[answer])
    assert UpsellOpportunity.objects.get().title == "Appointment booking assistant"


def test_an_idea_is_identified_once() -> None:
    client = a_client(health_score=82)
    ChangeRequestFactory.create(project__client=client, description="Weekly report automation", status="rejected")
    first, second = assert_idempotent("upsell_detection", {"client_id": client.pk})
    assert first.output["identified"] and second.output["identified"] == []
    assert UpsellOpportunity.objects.count() == 1


def test_proposed_opportunities_close_with_their_proposals_fate() -> None:
    client = a_client(health_score=82)
    signed = ProposalFactory.create(client=client, company=client.company, signed=True, requirements={"kind": "upsell"})
    declined = ProposalFactory.create(client=client, company=client.company, sent=True, requirements={"kind": "upsell"})
    Proposal.objects.filter(pk=declined.pk).update(status="declined")
    won = UpsellOpportunityFactory.create(client=client, title="A", status="proposed", proposal=signed)
    lost = UpsellOpportunityFactory.create(client=client, title="B", status="proposed", proposal=declined)

    result = run_agent("upsell_detection", {"client_id": client.pk})

    assert result.output["closed"] == {str(won.pk): "won", str(lost.pk): "lost"}
    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.status, lost.status) == ("won", "lost")


def test_the_weekly_run_looks_at_each_active_client_past_their_first_month() -> None:
    settled = a_client()
    a_client(started_on=clock.today() - dt.timedelta(days=5))
    a_client(status=Client.Status.AT_RISK)
    a_client(status=Client.Status.ONBOARDING)
    result = run_agent("upsell_detection")
    assert result.output["fanned_out"] == [settled.pk]
    assert [(r.agent_name, r.input) for r in result.handoffs] == [("upsell_detection", {"client_id": settled.pk})]


def test_needs_are_read_from_any_shape_of_requirements() -> None:
    needs = _needs.stated_needs(
        7,
        {
            "goal": "deflect tickets",
            "needs": [{"text": "Reporting is a manual spreadsheet job", "quote": "every Friday"}, "Leads fall through"],
            "budget": {"low": 5000},
            "out_of_scope": ["Voice channel"],
        },
    )
    assert [(n.ref, n.out_of_scope) for n in needs] == [
        ("proposal:7:requirements.needs[0].text", False),
        ("proposal:7:requirements.needs[1]", False),
        ("proposal:7:requirements.out_of_scope[0]", True),
    ]
    assert _needs.covered("Reporting is a manual spreadsheet job", ["Automated reporting dashboard"])
    assert not _needs.covered("Reporting is a manual spreadsheet job", ["AI chatbot build"])
    assert ChangeRequest.objects.count() == 0
