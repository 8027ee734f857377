"""proposal_creation: the proposal written from what the buyer said, sent once as a PandaDoc document."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from agents import outbox
from agents.models import Action, Escalation
from agents.services.escalations import decide
from agents.testing import assert_idempotent, crash_and_finish, rerun, run_agent
from crm.models import Lead
from crm.services.suppression import record_opt_out
from delivery.services.renewals import draft_renewal
from integrations.models import SandboxEvent, SandboxRecord
from sales.models import Proposal
from smarter_team import clock
from tests.factories.crm import LeadFactory
from tests.factories.sales import ClientFactory, ProposalFactory
from tests.sales.agents.proposal.conftest import buyer_lead, draft, market_people

pytestmark = pytest.mark.django_db


def priced(**reqs: Any) -> Proposal:
    """A draft of what a sandbox buyer asked for, priced by the pricing agent."""
    lead = buyer_lead(market_people(3)[0])
    proposal = draft(lead, **reqs)
    assert run_agent("pricing", {"proposal_id": proposal.pk}).status in ("succeeded", "escalated")
    proposal.refresh_from_db()
    return proposal


def documents() -> list[dict[str, Any]]:
    return [r.data for r in SandboxRecord.objects.filter(kind="document")]


def test_the_proposal_is_written_from_the_requirements_and_sent_as_one_document(frozen_clock: Any) -> None:
    proposal = priced(low=10000, high=12500)
    result = run_agent("proposal_creation", {"proposal_id": proposal.pk})
    assert result.status == "succeeded", result.error
    proposal.refresh_from_db()
    text = proposal.content
    # The buyer's own words, the priced lines and the total, the timeline and the validity.
    assert '("Two things really: our team spends hours every week chasing leads by hand.")' in text
    assert "$11,960.00" in text and "8% discount" in text
    assert "live within 6 weeks" in text and "Dana Smith (CEO) and Sam Lee (COO)" in text
    valid_until = clock.today() + dt.timedelta(days=30)
    assert f"valid until {valid_until:%d %B %Y}" in text and proposal.valid_until == valid_until
    # Sent: the document exists once, with the figures the buyer will weigh.
    assert proposal.status == Proposal.Status.SENT and proposal.sent_at == frozen_clock.now
    [document] = documents()
    assert proposal.document_id == document["document_id"]
    assert document["fields"]["Proposal.Total"] == "11960.00" and document["fields"]["Proposal.Currency"] == "USD"
    assert document["fields"]["Proposal.ValidUntil"] == valid_until.isoformat()
    assert document["metadata"]["st_key"] == f"document.send:proposal:{proposal.pk}:document"
    assert document["buyer"] == proposal.lead.email  # type: ignore[union-attr]
    assert SandboxEvent.objects.filter(subject=document["document_id"], kind="doc_sent").count() == 1
    assert proposal.lead.status == Lead.Status.PROPOSAL_SENT  # type: ignore[union-attr]
    [act] = result.acts_of("document.send")
    assert act.status == Action.Status.DONE and act.idempotency_key == f"document.send:proposal:{proposal.pk}:document"


def test_a_second_run_makes_no_second_document() -> None:
    proposal = priced(low=10000, high=12500)
    _first, second = assert_idempotent("proposal_creation", {"proposal_id": proposal.pk})
    assert second.status == "skipped" and len(documents()) == 1


def test_a_worker_lost_after_the_call_neither_creates_nor_sends_twice() -> None:
    proposal = priced(low=10000, high=12500)
    result = crash_and_finish("proposal_creation", {"proposal_id": proposal.pk}, at="after_call")
    assert result.status == "succeeded"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SENT and len(documents()) == 1
    assert SandboxEvent.objects.filter(kind="doc_sent").count() == 1


def test_above_the_threshold_it_waits_for_an_operator_and_sends_what_they_read(admin_user: Any) -> None:
    proposal = priced(low=30000, high=40000, needs=("customers ask the same questions on our website all day",
                                                   "we chase every lead by hand"))  # fmt: skip
    assert proposal.total == Decimal("24500.00")  # chatbot and one automation, over the 20,000 threshold
    result = run_agent("proposal_creation", {"proposal_id": proposal.pk})
    assert result.status == "escalated" and not result.acts
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING_APPROVAL and proposal.content
    escalation = Escalation.objects.get(kind="approval", status="open")
    assert escalation.dedupe_key == f"approval:proposal:{proposal.pk}:send"
    assert escalation.payload["content"] == proposal.content and "$24,500.00" in escalation.reason
    approved_text = proposal.content
    decide(escalation=escalation, approve=True, user=admin_user)
    again = rerun(result.run)
    assert again.status == "succeeded", again.error
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SENT and proposal.content == approved_text
    assert len(documents()) == 1


def test_a_rejected_proposal_goes_back_to_draft_unsent(admin_user: Any) -> None:
    proposal = priced(low=30000, high=40000, needs=("customers ask the same questions on our website all day",
                                                   "we chase every lead by hand"))  # fmt: skip
    run_agent("proposal_creation", {"proposal_id": proposal.pk})
    decide(escalation=Escalation.objects.get(kind="approval"), approve=False, user=admin_user, note="too big")
    result = run_agent("proposal_creation", {"proposal_id": proposal.pk})
    assert result.status == "succeeded" and "rejected" in result.output["note"]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DRAFT and not documents()


def test_a_quote_the_buyer_never_said_is_replaced_by_the_heuristics_text() -> None:
    proposal = priced(low=10000, high=12500)
    invented = {
        "title": "Rocket science for you",
        "summary": "You need a rocket.",
        "needs": [{"text": "a rocket", "quote": "We need a rocket by Friday"}],
        "approach": "Build it.",
        "timeline": "Soon.",
        "closing": "Sign here.",
    }
    result = run_agent("proposal_creation", {"proposal_id": proposal.pk}, answers=[invented])
    assert result.status == "succeeded"
    proposal.refresh_from_db()
    assert "rocket" not in proposal.content.lower() and "chasing leads by hand" in proposal.content


def test_the_brains_words_go_in_but_never_its_figures() -> None:
    proposal = priced(low=10000, high=12500)
    written = {
        "title": "Lead follow-up automation",
        "summary": "You lose hours chasing leads; we automate the follow-up.",
        "needs": [{"text": "Stop chasing leads by hand", "quote": "chasing leads by hand"}],
        "approach": "A pilot first.",
        "timeline": "Six weeks.",
        "closing": "Looking forward to it.",
    }
    run_agent("proposal_creation", {"proposal_id": proposal.pk}, answers=[written])
    proposal.refresh_from_db()
    assert proposal.title == "Lead follow-up automation" and "A pilot first." in proposal.content
    assert "Total: $11,960.00, excluding taxes." in proposal.content


def test_it_waits_for_pricing_and_for_someone_to_send_to() -> None:
    unpriced = ProposalFactory.create(line_items=[], total=Decimal("0"))
    assert "not priced" in run_agent("proposal_creation", {"proposal_id": unpriced.pk}).error
    nobody = ProposalFactory.create(lead=LeadFactory.create(email=None))
    assert "nobody" in run_agent("proposal_creation", {"proposal_id": nobody.pk}).error
    sent = ProposalFactory.create(sent=True)
    assert run_agent("proposal_creation", {"proposal_id": sent.pk}).status == "skipped"


def test_a_buyer_who_opted_out_meanwhile_gets_no_document_and_an_operator_hears_of_it() -> None:
    proposal = priced(low=10000, high=12500)
    result = run_agent("proposal_creation", {"proposal_id": proposal.pk}, perform_acts=False)
    assert proposal.lead is not None and proposal.lead.email
    record_opt_out(email=proposal.lead.email, reason="unsubscribe", source="test")
    [act] = result.acts_of("document.send")
    assert outbox.perform(act.pk) == Action.Status.BLOCKED
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DRAFT and not documents()
    escalation = Escalation.objects.get(dedupe_key=f"proposal:{proposal.pk}:not-sent")
    assert "was not sent" in escalation.reason


def renewal_draft(monthly: str) -> Proposal:
    """A current client's renewal, as renewal_manager drafts it: twelve months at what they pay now."""
    client = ClientFactory.create(monthly_value=Decimal(monthly), contract_end=clock.today() + dt.timedelta(days=40))
    basis = ProposalFactory.create(client=client, company=client.company, signed=True)
    return draft_renewal(client=client, contact=client.primary_contact, basis=basis)


def test_a_renewal_is_written_and_titled_as_a_renewal_whatever_the_brain_calls_it() -> None:
    renewal = renewal_draft("1500.00")
    brain = {"title": "Workflow automation for you", "summary": "More of the same.", "needs": [],
             "approach": "", "timeline": "", "closing": "Sign."}  # fmt: skip

    result = run_agent("proposal_creation", {"proposal_id": renewal.pk}, answers=[brain])

    assert result.status == "succeeded", result.error
    renewal.refresh_from_db()
    # The client reads a renewal: retitled like a new sale, the market took it for an upsell.
    assert renewal.title.startswith("Renewal of ") and "Total: $18,000.00" in renewal.content
    [document] = documents()
    assert document["name"] == renewal.title


def test_offline_a_renewal_says_what_carries_on_and_until_when() -> None:
    renewal = renewal_draft("1000.00")
    assert run_agent("proposal_creation", {"proposal_id": renewal.pk}).status == "succeeded"
    renewal.refresh_from_db()
    until = renewal.requirements["renews_until"]
    assert "We propose to renew it for 12 months" in renewal.content and f"until {until}" in renewal.content
    assert "as now." in renewal.content and renewal.title.startswith("Renewal of ")
