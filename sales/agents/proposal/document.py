"""The proposal's PandaDoc document: written as HTML, created once and sent once, through the outbox.

One act (``document.send``, keyed ``proposal:<id>:document``) creates the document and sends it:
the Documents role deduplicates the create by that key (PandaDoc: our key in the document's
metadata, looked up before a create; the sandbox: an id derived from it) and a send of a document
that is no longer a draft returns without sending again, so a retried act neither makes a second
document nor emails the buyer twice. The recipient is checked against the suppression list before
every attempt (``contacts``). When done, the proposal is sent: the document id, sent_at, and the
lead moved to proposal_sent.
"""

from __future__ import annotations

import html
from typing import Any

from django.db import transaction
from pydantic import BaseModel, Field

from agents.models import Action, Escalation
from agents.outbox import register_performer
from agents.services.escalations import raise_escalation
from crm.models import Lead
from integrations.values import Recipient
from sales.agents.proposal._common import DOCUMENT_KIND, advance_lead
from sales.models import Proposal
from smarter_team import clock


class ProposalDocument(BaseModel):
    proposal_pk: int
    name: str
    recipient_email: str
    first_name: str = ""
    last_name: str = ""
    html: str
    fields: dict[str, str] = Field(default_factory=dict)
    subject: str = ""
    message: str = ""


@register_performer(DOCUMENT_KIND, payload=ProposalDocument, contacts=("recipient_email",))
class SendProposalDocument:
    def perform(self, payload: ProposalDocument, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        documents = get_role("documents")
        created = documents.create_document(
            idempotency_key=key,
            name=payload.name,
            recipients=[
                Recipient(
                    email=payload.recipient_email,
                    first_name=payload.first_name,
                    last_name=payload.last_name,
                    role="Client",
                )
            ],
            fields=payload.fields,
            content=payload.html,
        )
        sent = documents.send_document(
            document_id=created.document_id, subject=payload.subject, message=payload.message
        )
        return {"document_id": created.document_id, "status": sent.status, "url": sent.url}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        document_id = str(result.get("document_id") or "")
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(of=("self",))
                .select_related("lead")
                .filter(pk=action.payload.get("proposal_pk"))
                .first()
            )
            if proposal is None or not document_id:
                return
            record_sent(proposal, document_id=document_id)

    def on_failed(self, action: Action, reason: str, *, blocked: bool) -> None:
        """Not sent. A failure fails the run (the kit's ErrorLog); a refusal by the suppression list
        does not, so an operator hears of the proposal that will never reach its buyer."""
        if not blocked:
            return
        proposal = Proposal.objects.filter(pk=action.payload.get("proposal_pk")).first()
        raise_escalation(
            kind=Escalation.Kind.ERROR,
            reason=f"proposal {action.payload.get('proposal_pk')} was not sent: {reason}",
            payload={"proposal_id": action.payload.get("proposal_pk")},
            run=action.run,
            dedupe_key=f"proposal:{action.payload.get('proposal_pk')}:not-sent",
            subject=proposal,
        )


def record_sent(proposal: Proposal, *, document_id: str) -> bool:
    """The document went out (call holding the proposal's row lock): sent, with its id and time.
    A webhook that got here first (sent, viewed, signed) already moved it; only the id is kept then."""
    if proposal.status in (Proposal.Status.DRAFT, Proposal.Status.AWAITING_APPROVAL):
        proposal.document_id, proposal.sent_at = document_id, clock.now()
        proposal.transition_to(Proposal.Status.SENT, also=["document_id", "sent_at"])
        advance_lead(proposal.lead, Lead.Status.PROPOSAL_SENT, f"proposal {proposal.pk} sent")
        return True
    if not proposal.document_id:
        proposal.document_id = document_id
        proposal.save(update_fields=["document_id"])
    return False


def as_html(title: str, text: str) -> str:
    """The written proposal as the HTML PandaDoc imports: headings, paragraphs and bullet lists."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith("- ") for line in lines[1:]) and len(lines) > 1:
            items = "".join(f"<li>{html.escape(line.lstrip()[2:])}</li>" for line in lines[1:])
            parts.append(f"<h2>{html.escape(lines[0])}</h2><ul>{items}</ul>")
        elif len(lines) > 1 and len(lines[0]) < 60 and not lines[0].endswith("."):
            body = "<br>".join(html.escape(line) for line in lines[1:])
            parts.append(f"<h2>{html.escape(lines[0])}</h2><p>{body}</p>")
        else:
            parts.append(f"<p>{'<br>'.join(html.escape(line) for line in lines)}</p>")
    return "\n".join(parts)
