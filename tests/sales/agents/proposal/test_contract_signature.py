"""contract_signature: PandaDoc's document states onto the proposal, the client and what comes next."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from pydantic import ValidationError

from agents.models import AgentRun, Escalation
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Lead
from integrations.models import WebhookEvent
from integrations.sandbox import payloads
from integrations.webhooks.services import process_event
from integrations.webhooks.signatures import hmac_hex
from sales.agents.proposal._common import local_today
from sales.models import Client, Proposal
from smarter_team import clock
from tests.factories.crm import LeadFactory
from tests.factories.sales import ClientFactory, ProposalFactory

pytestmark = pytest.mark.django_db


def sent(**extra: Any) -> Proposal:
    extra.setdefault("lead", LeadFactory.create(status=Lead.Status.PROPOSAL_SENT))
    return ProposalFactory.create(sent=True, **extra)


def event(proposal: Proposal, state: str, **extra: Any) -> dict[str, Any]:
    return {"document_id": proposal.document_id, "state": state, **extra}


def test_a_viewed_document_marks_the_proposal_viewed_once() -> None:
    proposal = sent()
    first, _second = assert_idempotent("contract_signature", event(proposal, "viewed"))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.VIEWED and first.output["status"] == "viewed"


def test_a_signature_makes_the_client_and_starts_onboarding_and_invoicing() -> None:
    proposal = sent()
    when = clock.now() - dt.timedelta(minutes=5)
    result = run_agent("contract_signature", event(proposal, "completed", occurred_at=when.isoformat()))
    assert result.status == "succeeded", result.error
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SIGNED and proposal.signed_at == when
    client = Client.objects.get()
    assert proposal.client == client and client.company == proposal.company
    assert client.primary_contact == proposal.lead and client.status == Client.Status.ONBOARDING
    assert proposal.lead.status == Lead.Status.WON  # type: ignore[union-attr]
    assert {(r.agent_name, json.dumps(r.input, sort_keys=True)) for r in result.handoffs} == {
        ("onboarding_orchestrator", json.dumps({"client_id": client.pk})),
        (
            "invoice_generation",
            json.dumps(
                {"client_id": client.pk, "proposal_id": proposal.pk, "kind": None, "milestone_id": None},
                sort_keys=True,
            ),
        ),
    }


def test_a_replayed_signature_makes_no_second_client_and_starts_nothing_again() -> None:
    proposal = sent()
    first, second = assert_idempotent("contract_signature", event(proposal, "completed"))
    assert Client.objects.count() == 1 and len(first.handoffs) == 2 and not second.handoffs
    assert "nothing done twice" in second.output["note"]


def test_a_signature_from_a_company_that_is_already_a_client_reuses_it() -> None:
    existing = ClientFactory.create()
    proposal = sent(lead=existing.primary_contact, company=existing.company)
    run_agent("contract_signature", event(proposal, "completed"))
    assert Client.objects.get() == existing


def test_events_out_of_order_change_nothing_twice() -> None:
    proposal = sent()
    run_agent("contract_signature", event(proposal, "completed"))
    late = run_agent("contract_signature", event(proposal, "viewed"))
    assert late.status == "succeeded" and not late.writes
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SIGNED


def test_a_decline_records_the_reason_and_rests_the_deal() -> None:
    proposal = sent(status=Proposal.Status.VIEWED)
    result = run_agent("contract_signature", event(proposal, "declined", decline_reason="Budget was cut"))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DECLINED and proposal.decline_reason == "Budget was cut"
    # The day it rests from is the buyer's (near midnight UTC their date may already be tomorrow).
    assert proposal.reactivate_after == local_today(clock.now(), proposal.lead) + dt.timedelta(days=90)
    assert proposal.lead.status == Lead.Status.LOST and not result.handoffs  # type: ignore[union-attr]
    silent = sent()
    run_agent("contract_signature", event(silent, "declined"))
    silent.refresh_from_db()
    assert silent.decline_reason == "declined without giving a reason"


def test_pandadoc_voiding_it_at_expiry_expires_the_proposal() -> None:
    proposal = sent()
    run_agent("contract_signature", event(proposal, "voided"))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.EXPIRED and proposal.reactivate_after is not None


def test_a_signature_after_we_closed_it_goes_to_a_human(settings: Any) -> None:
    proposal = sent(status=Proposal.Status.EXPIRED)
    result = run_agent("contract_signature", event(proposal, "completed"))
    assert result.status == "succeeded" and "escalated" in result.output["note"]
    assert result.escalations[0].dedupe_key == f"proposal:{proposal.pk}:signed-after-expired"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.EXPIRED and not Client.objects.exists()


def test_an_unknown_document_is_escalated_and_nothing_is_written() -> None:
    result = run_agent("contract_signature", {"document_id": "doc_nobody_knows", "state": "completed"})
    assert result.status == "escalated" and not result.writes and result.created == {"agents.Escalation": 1}
    [escalation] = result.escalations
    assert escalation.kind == Escalation.Kind.ERROR and "belongs to no proposal" in escalation.reason
    assert escalation.payload["document_id"] == "doc_nobody_knows"


def test_a_malformed_event_is_refused_before_any_run() -> None:
    with pytest.raises(ValidationError):
        run_agent("contract_signature", {"document_id": "x", "state": "shredded"})
    assert not AgentRun.objects.exists()


def test_a_buyer_faster_than_our_record_of_the_send_is_matched_by_our_key() -> None:
    proposal = ProposalFactory.create(lead=LeadFactory.create(status=Lead.Status.MEETING_BOOKED))
    key = f"document.send:proposal:{proposal.pk}:document"
    result = run_agent(
        "contract_signature", {"document_id": "doc_fast", "state": "viewed", "metadata": {"st_key": key}}
    )
    assert result.status == "succeeded", result.error
    proposal.refresh_from_db()
    assert (proposal.status, proposal.document_id) == (Proposal.Status.VIEWED, "doc_fast")
    assert proposal.sent_at is not None and proposal.lead.status == Lead.Status.PROPOSAL_SENT  # type: ignore[union-attr]


def test_the_signed_pandadoc_webhook_reaches_the_agent(settings: Any) -> None:
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, "PANDADOC_WEBHOOK_SECRET": "pd-shared-key"}
    settings.SANDBOX_WEBHOOKS = False
    proposal = sent()
    document: dict[str, Any] = {
        "document_id": proposal.document_id,
        "name": proposal.title,
        "recipients": [],
        "metadata": {},
    }
    body = json.dumps(payloads.pandadoc_state(document=document, state="completed", at=clock.now())).encode()
    response = HttpClient().post(
        "/api/webhooks/pandadoc",
        data=body,
        content_type="application/json",
        query_params={"signature": hmac_hex(body=body, secret="pd-shared-key")},
    )
    assert response.status_code in (200, 202)
    process_event(event_pk=WebhookEvent.objects.get().pk)
    drain()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SIGNED and Client.objects.count() == 1
    bad = HttpClient().post(
        "/api/webhooks/pandadoc",
        data=b'[{"event": "document_state_changed"}]',
        content_type="application/json",
        query_params={"signature": hmac_hex(body=b'[{"event": "document_state_changed"}]', secret="pd-shared-key")},
    )
    assert bad.status_code == 400 and AgentRun.objects.filter(agent_name="contract_signature").count() == 1


def test_a_signed_renewal_extends_the_contract_and_onboards_nobody_again() -> None:
    from delivery.services.renewals import draft_renewal
    from sales.services.proposals import mark_proposal_sent

    end = clock.today() + dt.timedelta(days=30)
    client = ClientFactory.create(status=Client.Status.ACTIVE, contract_end=end)
    renewal = draft_renewal(client=client, contact=client.primary_contact, term_months=6)
    lines = [{"description": "AI operations retainer", "quantity": 6, "unit_price": "4000.00"}]
    Proposal.objects.filter(pk=renewal.pk).update(line_items=lines, total=24000)
    mark_proposal_sent(proposal=renewal, document_id="doc-renewal-1")
    renewal.refresh_from_db()
    first, second = assert_idempotent("contract_signature", event(renewal, "completed"))
    client.refresh_from_db()
    assert client.contract_end == dt.date.fromisoformat(renewal.requirements["renews_until"]) > end
    assert client.status == Client.Status.ACTIVE and str(client.monthly_value) == "4000.00"
    # No second onboarding, no deposit invoice: the renewed months are planned, once.
    assert [(r.agent_name, r.input) for r in first.handoffs] == [
        ("project_management", {"client_id": client.pk, "proposal_id": renewal.pk})
    ]
    assert not second.handoffs and "renewal" in first.output["note"]


def test_a_signed_upsell_is_planned_for_the_client_we_serve_not_onboarded_again() -> None:
    client = ClientFactory.create(status=Client.Status.ACTIVE)
    upsell = sent(lead=client.primary_contact, client=client, company=client.company,
                  requirements={"kind": "upsell", "needs": ["a WhatsApp channel"]})  # fmt: skip

    result = run_agent("contract_signature", event(upsell, "completed"))

    assert result.status == "succeeded", result.error
    assert result.output["handed_off"] == ["project_management", "invoice_generation"]
    [plan] = result.handed_to("project_management")
    # The sold work reaches the board: before, only onboarding was started, and it skipped an active client.
    assert plan.input == {"client_id": client.pk, "proposal_id": upsell.pk}
    assert not result.handed_to("onboarding_orchestrator")
