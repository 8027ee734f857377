"""renewal_manager: within 60 days of the contract end, renew the healthy, let the leaving go, ask when unclear."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents.models import AgentRun, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.models import Lead
from delivery.agents.retention._common import said_leaving
from delivery.services.renewals import apply_signed_renewal, draft_renewal
from sales.models import Client, Proposal
from smarter_team import clock
from smarter_team.dates import add_months
from tests.delivery.agents.retention.conftest import a_client, client_said
from tests.factories.delivery import ChurnRiskAssessmentFactory
from tests.factories.sales import ProposalFactory

pytestmark = pytest.mark.django_db


def ending_in(days: int, **fields: object) -> Client:
    fields.setdefault("health_score", 80)
    return a_client(contract_end=clock.today() + dt.timedelta(days=days), **fields)


def renew(client: Client) -> dict[str, object]:
    return {"client_id": client.pk}


def test_a_healthy_client_gets_a_renewal_draft_priced_once_per_contract_end() -> None:
    client = ending_in(50)
    basis = ProposalFactory.create(client=client, company=client.company, signed=True)

    first, second = assert_idempotent("renewal_manager", renew(client))

    assert first.output["decision"] == "renewal_proposed" and first.output["window"] == "60"
    draft = Proposal.objects.get(pk=first.output["proposal_id"])
    assert draft.status == "draft" and draft.client == client
    assert draft.requirements["kind"] == "renewal"
    assert draft.requirements["contract_end"] == str(client.contract_end)
    assert draft.requirements["renews_until"] == str(add_months(client.contract_end, 12))  # type: ignore[arg-type]
    assert draft.requirements["scope"] == [line["description"] for line in basis.line_items]
    assert second.output["decision"] == "renewal_pending"
    at_30 = run_agent("renewal_manager", renew(client))
    assert (
        at_30.output["decision"] == "renewal_pending"
        and Proposal.objects.filter(requirements__kind="renewal").count() == 1
    )


def test_the_renewal_carries_on_the_contract_at_the_fee_paid_now_not_an_upsell() -> None:
    client = ending_in(50, monthly_value=Decimal("4000.00"))
    original = ProposalFactory.create(
        client=client, company=client.company, signed=True,
        line_items=[{"description": "AI operations retainer", "quantity": "6", "unit_price": "4000.00"}],
    )  # fmt: skip
    ProposalFactory.create(
        client=client, company=client.company, signed=True, requirements={"kind": "upsell"},
        line_items=[{"description": "Workflow automation", "quantity": "1", "unit_price": "6500.00"}],
    )  # fmt: skip
    assert original.signed_at is not None

    result = run_agent("renewal_manager", renew(client))

    draft = Proposal.objects.get(pk=result.output["proposal_id"])
    # Twelve more months of what they pay now; the rate card's first-sale retainer would be three.
    assert draft.requirements["scope"] == ["AI operations retainer"]
    assert [(li["quantity"], li["unit_price"]) for li in draft.line_items] == [("12", "4000.00")]
    assert draft.total == Decimal("48000.00") and draft.title.startswith("Renewal of ")
    [handoff] = result.handoffs
    assert handoff.agent_name == "proposal_creation" and handoff.input == {"proposal_id": draft.pk}


def test_a_client_without_a_monthly_value_has_its_renewal_priced_first() -> None:
    client = ending_in(50, monthly_value=Decimal("0.00"))
    result = run_agent("renewal_manager", renew(client))
    draft = Proposal.objects.get(pk=result.output["proposal_id"])
    assert draft.line_items == [] and [h.agent_name for h in result.handoffs] == ["pricing"]


def contract_ended(client: Client, *, days_ago: int = 1) -> None:
    """The contract's end has passed (the renewal in question was for it)."""
    ended = clock.today() - dt.timedelta(days=days_ago)
    Proposal.objects.filter(requirements__kind="renewal").update(
        requirements={"kind": "renewal", "contract_end": str(ended)}
    )
    Client.objects.filter(pk=client.pk).update(contract_end=ended)


def test_a_declined_renewal_serves_the_client_to_the_contract_end_then_offboards_with_the_reason() -> None:
    client = ending_in(25)
    draft = draft_renewal(client=client, contact=client.primary_contact)
    Proposal.objects.filter(pk=draft.pk).update(status="declined", decline_reason="Budget was cut this quarter")

    running = run_agent("renewal_manager", renew(client))

    # Seven weeks of paid contract left: no offboarding (final invoice, accesses revoked) yet.
    assert running.output["decision"] == "leaving" and running.output["window"] == "30"
    assert "Budget was cut" in running.output["reason"] and running.handoffs == []
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE
    contract_ended(client)
    ended = run_agent("renewal_manager", renew(client))
    assert ended.output["decision"] == "offboarding" and "Budget was cut" in ended.output["reason"]
    assert [h.agent_name for h in ended.handoffs] == ["offboarding_orchestrator"]


def test_a_client_who_wrote_that_they_will_not_renew_is_not_offered_a_renewal_and_leaves_at_the_end() -> None:
    client = ending_in(40)
    client_said(client, "Thanks for everything, but we will not be renewing the contract.", days_ago=3)
    running = run_agent("renewal_manager", renew(client))
    assert running.output["decision"] == "leaving" and "will not be renewing" in running.output["reason"]
    assert running.handoffs == [] and not Proposal.objects.exists()
    contract_ended(client)
    ended = run_agent("renewal_manager", renew(client))
    assert ended.output["decision"] == "offboarding" and "will not be renewing" in ended.output["reason"]
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("text", "leaving"),
    [
        ("We have decided not to renew.", True),
        ("Please cancel our retainer at the end of the term.", True),
        ("We won't renew, thanks for everything.", True),
        ("Could you terminate the old workflow and renew the API key?", False),
        ("Not interested in the voice add-on, thanks.", False),
    ],
)
def test_only_their_own_words_about_the_contract_mean_leaving(text: str, leaving: bool) -> None:
    client = ending_in(40)
    client_said(client, text, intent="not_interested")
    assert bool(said_leaving(client, clock.now() - dt.timedelta(days=30))) is leaving


def test_a_renewal_nobody_may_be_emailed_about_goes_to_the_account_owner_not_to_a_draft() -> None:
    # A draft for a contact who may not be emailed never went out (proposal_creation skips it): in the
    # lifecycle test a contented client whose welcome bounced left at health 76 with its renewal a
    # draft, and nobody had been told.
    client = ending_in(50)
    ProposalFactory.create(client=client, company=client.company, signed=True)
    assert client.primary_contact is not None
    contact = Lead.objects.filter(pk=client.primary_contact.pk)
    contact.update(do_not_contact=True, status="unsubscribed")

    first = run_agent("renewal_manager", renew(client))
    again = run_agent("renewal_manager", renew(client))

    assert first.status == "succeeded", first.error
    assert first.output["decision"] == again.output["decision"] == "contact_unreachable"
    assert "may not be contacted" in first.output["reason"]
    assert not Proposal.objects.filter(requirements__kind="renewal").exists()
    told = Escalation.objects.get(dedupe_key__endswith=f"renewal:client:{client.pk}:{client.contract_end}:unreachable")
    assert told.assigned_group == "manager" and "call the client" in told.reason
    # Reachable again (a new contact, a corrected address): the renewal goes out as for anyone healthy.
    contact.update(do_not_contact=False, status="won")
    assert run_agent("renewal_manager", renew(client)).output["decision"] == "renewal_proposed"


def test_an_unclear_renewal_waits_for_the_account_owner_and_goes_on_when_approved(django_user_model: Any) -> None:
    client = ending_in(45, health_score=55)

    asked = run_agent("renewal_manager", renew(client))

    assert asked.status == "escalated"
    escalation = Escalation.objects.get(dedupe_key=f"approval:renewal:client:{client.pk}:{client.contract_end}")
    assert escalation.assigned_group == "manager" and "health 55 is below 65" in escalation.reason
    assert not Proposal.objects.exists()
    assert run_agent("renewal_manager").output["fanned_out"] == []  # no second ask while one waits

    decide(escalation=escalation, approve=True, user=django_user_model.objects.create_user("owner"))
    resumed = rerun(asked.run)

    assert resumed.status == "succeeded", resumed.error
    assert resumed.output["decision"] == "renewal_proposed" and "approved" in resumed.output["reason"]


def test_a_rejected_renewal_lets_the_contract_end_then_offboards(django_user_model: Any) -> None:
    client = ending_in(45)
    ChurnRiskAssessmentFactory.create(client=client, level="high")
    asked = run_agent("renewal_manager", renew(client))
    assert "high churn risk" in Escalation.objects.get().reason
    decide(escalation=Escalation.objects.get(), approve=False, user=django_user_model.objects.create_user("owner"))
    assert rerun(asked.run).status in ("skipped", "canceled")
    assert run_agent("renewal_manager", renew(client)).status == "skipped"

    Client.objects.filter(pk=client.pk).update(contract_end=clock.today() - dt.timedelta(days=1))
    ended = run_agent("renewal_manager", renew(client))

    assert ended.output["decision"] == "offboarding" and "without a signed renewal" in ended.output["reason"]


def test_a_renewal_still_out_when_the_contract_ends_gets_a_grace_period() -> None:
    client = ending_in(-3)
    ProposalFactory.create(
        client=client, company=client.company, sent=True,
        requirements={"kind": "renewal", "contract_end": str(client.contract_end), "renews_until": "2027-03-01"},
    )  # fmt: skip
    assert run_agent("renewal_manager", renew(client)).output["decision"] == "waiting"
    Client.objects.filter(pk=client.pk).update(contract_end=clock.today() - dt.timedelta(days=20))
    Proposal.objects.update(
        requirements={"kind": "renewal", "contract_end": str(clock.today() - dt.timedelta(days=20))}
    )
    assert run_agent("renewal_manager", renew(client)).output["decision"] == "offboarding"


def test_a_signed_renewal_extends_the_contract() -> None:
    client = ending_in(20, monthly_value=Decimal("4000.00"))
    draft = draft_renewal(client=client, contact=client.primary_contact, term_months=6)
    Proposal.objects.filter(pk=draft.pk).update(status="signed", signed_at=clock.now(), total=Decimal("27000.00"))
    draft.refresh_from_db()

    result = run_agent("renewal_manager", renew(client))

    client.refresh_from_db()
    assert result.output["decision"] == "renewed"
    assert client.contract_end == add_months(clock.today() + dt.timedelta(days=20), 6)
    assert client.monthly_value == Decimal("4500.00")
    assert apply_signed_renewal(proposal=draft) == client  # contract_signature may call it again: no change
    client.refresh_from_db()
    assert client.contract_end == add_months(clock.today() + dt.timedelta(days=20), 6)
    assert apply_signed_renewal(proposal=ProposalFactory.create(signed=True)) is None  # not a renewal


def test_the_daily_run_looks_only_at_contracts_ending_within_60_days() -> None:
    soon, ended = ending_in(59), ending_in(-2)
    ending_in(61)
    ending_in(20, status=Client.Status.CHURNED)
    result = run_agent("renewal_manager")
    assert result.output["fanned_out"] == [ended.pk, soon.pk]
    assert {r.input["client_id"] for r in result.handoffs} == {soon.pk, ended.pk}
    assert run_agent("renewal_manager", renew(ending_in(90))).status == "skipped"


def test_months_are_added_to_the_calendar() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 12) == dt.date(2027, 11, 15)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert AgentRun.objects.count() == 0
