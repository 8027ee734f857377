"""pricing: a draft's requirements priced into lines, shaped to the budget, within the agency's limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from agents.models import AgentRun, AuditLog, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, rerun, run_agent
from crm.services.agency import profile, update_profile
from delivery.models import ChangeRequest
from sales.models import Proposal
from tests.factories.crm import LeadFactory
from tests.factories.delivery import ChangeRequestFactory
from tests.factories.sales import ProposalFactory
from tests.sales.agents.proposal.conftest import draft

pytestmark = pytest.mark.django_db

THIN_CARD = {
    "items": [
        {"service": "Workflow automation", "unit": "workflow", "unit_price": "6500.00", "unit_cost": "4000.00"},
        {"service": "Change request work", "unit": "hour", "unit_price": "150.00", "unit_cost": "70.00"},
    ]
}


def test_a_draft_is_priced_to_its_budget_and_handed_to_proposal_creation() -> None:
    proposal = draft(LeadFactory.create(), low=10000, high=12500)
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    assert result.status == "succeeded", result.error
    proposal.refresh_from_db()
    # Two automations at 6,500 are 13,000; aiming at 12,000 in the 10,000-12,500 range: 8% off.
    assert proposal.total == Decimal("11960.00") and proposal.currency == "USD"
    assert proposal.line_items == [
        {
            "description": proposal.line_items[0]["description"],
            "quantity": "2",
            "unit_price": "5980.00",
            "amount": "11960.00",
        }
    ]
    assert proposal.pricing["discount_percent"] == "8" and proposal.pricing["fits_budget"] is True
    assert proposal.pricing["margin_percent"] == "46.49" and proposal.pricing["list_total"] == "13000.00"
    assert result.output["total"] == "11960.00"
    assert [r.agent_name for r in result.handoffs] == ["proposal_creation"]
    assert result.handoffs[0].input == {"proposal_id": proposal.pk}
    assert AuditLog.objects.filter(action="proposal.priced", run=result.run).exists()


def test_pricing_twice_writes_nothing_new() -> None:
    proposal = draft(LeadFactory.create(), low=20000, high=30000)
    first, _second = assert_idempotent("pricing", {"proposal_id": proposal.pk})
    assert first.output["total"] == "13000.00" and first.output["fits_budget"] is True


def test_a_discount_over_the_limit_is_refused_and_the_limit_applied() -> None:
    lead = LeadFactory.create()
    proposal = draft(lead, low=None, high=None)
    proposal.requirements = {**proposal.requirements, "discount": {"percent": 30}}
    proposal.save(update_fields=["requirements"])
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    proposal.refresh_from_db()
    assert proposal.pricing["discount_percent"] == "15" and proposal.pricing["discount_refused_percent"] == "30"
    assert proposal.total == Decimal("11050.00")  # 13,000 less the 15% limit, not the 30% asked
    assert any("limit is 15" in note for note in result.output["notes"])


def test_a_price_under_the_margin_floor_waits_for_an_operator_then_goes_on(admin_user: Any) -> None:
    update_profile(rate_card=THIN_CARD)
    proposal = draft(LeadFactory.create(), low=None, high=3000, needs=("we chase every lead by hand",))
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    assert result.status == "escalated" and not result.handoffs
    proposal.refresh_from_db()
    # The priced draft is committed with the question, so the operator sees what they approve.
    assert proposal.status == Proposal.Status.AWAITING_APPROVAL and proposal.total == Decimal("2827.50")
    assert proposal.pricing["below_floor"] is True and proposal.pricing["margin_percent"] == "29.27"
    escalation = Escalation.objects.get(kind="approval", status="open")
    assert escalation.dedupe_key == f"approval:proposal:{proposal.pk}:below-floor:2827.50"
    assert escalation.payload["total"] == "2827.50" and "under the 35" in escalation.reason
    decide(escalation=escalation, approve=True, user=admin_user)
    again = rerun(result.run)
    assert again.status == "succeeded"
    assert [r.agent_name for r in AgentRun.objects.filter(parent=result.run)] == ["proposal_creation"]
    proposal.refresh_from_db()
    assert proposal.total == Decimal("2827.50")


def test_a_rejected_low_price_is_priced_at_the_floor_instead(admin_user: Any) -> None:
    update_profile(rate_card=THIN_CARD)
    proposal = draft(LeadFactory.create(), low=None, high=3000, needs=("we chase every lead by hand",))
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    escalation = Escalation.objects.get(kind="approval", status="open")
    decide(escalation=escalation, approve=False, user=admin_user, note="not at that margin")
    again = run_agent("pricing", {"proposal_id": proposal.pk})
    assert again.status == "succeeded", again.error
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DRAFT and proposal.total == Decimal("3087.50")
    assert proposal.pricing["below_floor"] is False and proposal.pricing["fits_budget"] is False
    assert [r.agent_name for r in again.handoffs] == ["proposal_creation"]
    assert result.run.pk != again.run.pk


def test_a_draft_with_nothing_to_price_is_escalated_and_left_as_it_was() -> None:
    proposal = ProposalFactory.create(requirements={"notes": "call went badly"}, line_items=[], total=Decimal("0"))
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    assert result.status == "escalated" and "nothing to price" in result.run.error
    assert result.escalations[0].kind == "error" and result.escalations[0].payload["proposal_id"] == proposal.pk
    proposal.refresh_from_db()
    assert proposal.line_items == [] and proposal.pricing == {} and not result.writes


def test_a_draft_of_known_lines_is_priced_from_them() -> None:
    proposal = ProposalFactory.create(
        requirements={},
        line_items=[{"description": "AI operations retainer, monthly", "quantity": "1", "unit_price": "1"}],
    )
    run_agent("pricing", {"proposal_id": proposal.pk})
    proposal.refresh_from_db()
    assert proposal.line_items[0]["quantity"] == "3" and proposal.total == Decimal("12000.00")


def test_a_sent_proposal_is_not_repriced() -> None:
    proposal = ProposalFactory.create(sent=True)
    result = run_agent("pricing", {"proposal_id": proposal.pk})
    assert result.status == "skipped" and "not repriced" in result.error


def test_the_input_names_exactly_one_thing_to_price() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        run_agent("pricing", {"proposal_id": 1, "change_request_id": 2})
    assert run_agent("pricing", {"proposal_id": 987654}).status == "skipped"  # gone: nothing to do


def test_a_change_request_gets_an_estimate_and_a_price_and_no_handoff() -> None:
    profile()
    change = ChangeRequestFactory.create(
        description="Please add a WhatsApp channel to the assistant", price=Decimal("0"),
        status=ChangeRequest.Status.DETECTED,
    )  # fmt: skip
    result = run_agent("pricing", {"change_request_id": change.pk})
    assert result.status == "succeeded" and not result.handoffs
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PRICED and change.price == Decimal("6000.00")
    assert change.estimate["size"] == "large" and change.estimate["lines"][0]["quantity"] == "40"
    assert change.estimate["margin_percent"] == "53.33"
    assert_idempotent("pricing", {"change_request_id": change.pk})


def test_a_decided_change_request_is_left_alone() -> None:
    change = ChangeRequestFactory.create(status=ChangeRequest.Status.APPROVED)
    result = run_agent("pricing", {"change_request_id": change.pk})
    assert result.status == "skipped" and "settled" in result.error


def test_a_change_the_card_cannot_price_is_escalated() -> None:
    update_profile(rate_card={"items": THIN_CARD["items"][:1]})
    change = ChangeRequestFactory.create(description="Fix the typo in the greeting", status="detected")
    result = run_agent("pricing", {"change_request_id": change.pk})
    assert result.status == "escalated" and "hourly rate" in result.run.error
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.DETECTED and change.estimate == {}
