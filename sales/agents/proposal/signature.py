"""contract_signature: what the buyer did with the PandaDoc document, onto the proposal (and beyond).

Started by the PandaDoc webhook (a DocumentEvent per document state). Facts: the proposal the
document belongs to: by its document id, or, when the webhook outran our own record of the send,
by our key in the document's metadata (``st_key``).
Decides (rules), from the proposal's state when the event is processed, so a replay or an event out
of order changes nothing twice:
- sent: only fills in a send we had not recorded yet;
- viewed: sent -> viewed (a late "viewed" after a decision changes nothing);
- completed (signed): -> signed, the Client created or reused (one per company), the lead won, and
  onboarding_orchestrator {"client_id"} and invoice_generation {"client_id", "proposal_id"} started,
  once: an already signed proposal hands off to nobody again; a signed renewal instead moves the
  client's contract_end (delivery.services.renewals.apply_signed_renewal) and its months go to
  project_management {"client_id", "proposal_id"}, as does a signed upsell: neither is onboarded;
- declined: -> declined with the buyer's reason, the lead lost, and ``reactivate_after`` set (the
  cool-off after which reactivation may write again);
- voided / expired (PandaDoc's expiry voids the document): -> expired, with the same cool-off.
A signature on a proposal we had already expired or declined is not undone silently: a human
decides (escalation). A document no proposal knows: escalated with the reason, nothing written.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import EscalateRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Lead
from delivery.services.renewals import UPSELL, apply_signed_renewal, kind_of
from integrations.webhooks.inputs import DocumentEvent
from sales.agents.proposal._common import LIVE, advance_lead, local_today, move, proposal_of_key, reactivation_date
from sales.models import Proposal
from sales.services.clients import create_client_from_proposal

S = Proposal.Status
UNSENT = (S.DRAFT, S.AWAITING_APPROVAL)
CLOSED = (S.DECLINED, S.EXPIRED)


class SignatureFacts(Facts):
    event: DocumentEvent
    proposal: Proposal


class Signed(BaseModel):
    proposal_id: int
    state: str
    status: str = ""
    client_id: int | None = None
    handed_off: list[str] = []
    note: str = ""


def find_proposal(event: DocumentEvent) -> Proposal | None:
    found = Proposal.objects.select_related("lead").filter(document_id=event.document_id).first()
    if found is not None:
        return found
    proposal_id = proposal_of_key(str(event.metadata.get("st_key", "")))
    if proposal_id is None:
        return None
    # Our key, but only for a proposal with no other document: a stale key never re-links one.
    return Proposal.objects.select_related("lead").filter(pk=proposal_id).filter(document_id__isnull=True).first()


@register
class ContractSignature(Agent[DocumentEvent, Signed]):
    name, category, trigger, queue = "contract_signature", "proposal", "event", "sales"
    Input, Facts, Output = DocumentEvent, SignatureFacts, Signed
    next = ("onboarding_orchestrator", "project_management", "invoice_generation")

    def load(self, ctx: RunContext, data: DocumentEvent) -> SignatureFacts:
        proposal = find_proposal(data)
        if proposal is None:
            raise EscalateRun(
                Escalation.Kind.ERROR,
                f"PandaDoc document {data.document_id!r} ({data.state}) belongs to no proposal of ours: a "
                "document made outside the agency, or one whose proposal was deleted",
                payload={
                    "document_id": data.document_id,
                    "state": data.state,
                    "name": data.name,
                    "recipients": data.recipient_emails,
                },
                dedupe_key=f"pandadoc:unknown-document:{data.document_id}"[:200],
            )
        return SignatureFacts(event=data, proposal=proposal)

    def act(self, ctx: RunContext, facts: SignatureFacts) -> Signed:
        event, proposal = facts.event, ctx.lock(facts.proposal)
        out = Signed(proposal_id=proposal.pk, state=event.state)
        when = event.occurred_at or ctx.now()
        if proposal.status in UNSENT:
            # The buyer acted before our record of the send committed: the send happened.
            move(
                ctx,
                proposal,
                S.SENT,
                action="proposal.sent",
                document_id=event.document_id,
                sent_at=proposal.sent_at or when,
            )
            advance_lead(proposal.lead, Lead.Status.PROPOSAL_SENT, f"proposal {proposal.pk} sent")
        if event.state == "viewed" and proposal.status == S.SENT:
            move(ctx, proposal, S.VIEWED, action="proposal.viewed")
        elif event.state == "completed":
            self._signed(ctx, proposal, when, out)
        elif event.state == "declined" and proposal.status in LIVE:
            reason = event.decline_reason.strip() or "declined without giving a reason"
            self._lost(ctx, proposal, S.DECLINED, action="proposal.declined", decline_reason=reason[:2000])
        elif event.state in ("voided", "expired") and proposal.status in LIVE:
            self._lost(ctx, proposal, S.EXPIRED, action="proposal.expired")
        elif event.state not in ("sent", "viewed"):
            out.note = f"a {event.state} event for a {proposal.status} proposal changes nothing"
        out.status = proposal.status
        return out

    def _signed(self, ctx: RunContext, proposal: Proposal, when: dt.datetime, out: Signed) -> None:
        if proposal.status == S.SIGNED:
            out.client_id, out.note = proposal.client_id, "signed already: nothing done twice"
            return
        if proposal.status in CLOSED:
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"{proposal.title}: the buyer signed a proposal we had marked {proposal.status}; decide whether "
                "to honour it (reopen it as a new draft) or tell them",
                payload={
                    "proposal_id": proposal.pk,
                    "document_id": proposal.document_id,
                    "signed_at": when.isoformat(),
                },
                dedupe_key=f"proposal:{proposal.pk}:signed-after-{proposal.status}",
                subject=proposal,
            )
            out.note = f"signed after it was {proposal.status}: escalated"
            return
        move(ctx, proposal, S.SIGNED, action="proposal.signed", signed_at=when)
        client = create_client_from_proposal(proposal=proposal)
        advance_lead(proposal.lead, Lead.Status.WON, f"proposal {proposal.pk} signed")
        if apply_signed_renewal(proposal=proposal) is not None:
            # The client stays the client it was: a second onboarding would redo the workspace and
            # the welcome, and the retainer beat already bills the renewed months (no deposit). The
            # renewed months are work to plan, like the first term's.
            ctx.handoff("project_management", {"client_id": client.pk, "proposal_id": proposal.pk})
            out.client_id, out.handed_off = client.pk, ["project_management"]
            out.note = "renewal: contract extended, its months planned, no onboarding"
            return
        if kind_of(proposal) == UPSELL:
            # More work for a client we already serve: it is planned on their board like the first
            # project (onboarding them again would redo the welcome and the workspace).
            ctx.handoff("project_management", {"client_id": client.pk, "proposal_id": proposal.pk})
            first = "project_management"
        else:
            ctx.handoff("onboarding_orchestrator", {"client_id": client.pk})
            first = "onboarding_orchestrator"
        ctx.handoff("invoice_generation", {"client_id": client.pk, "proposal_id": proposal.pk})
        out.client_id, out.handed_off = client.pk, [first, "invoice_generation"]

    def _lost(self, ctx: RunContext, proposal: Proposal, status: str, *, action: str, **fields: str) -> None:
        today = local_today(ctx.now(), proposal.lead)
        move(ctx, proposal, status, action=action, reactivate_after=reactivation_date(today), **fields)
        advance_lead(proposal.lead, Lead.Status.LOST, f"proposal {proposal.pk} {status}")
