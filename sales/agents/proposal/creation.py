"""proposal_creation: write the proposal and send it as a PandaDoc document; big ones after approval.

Facts: the priced draft Proposal (line items, total, the pricing breakdown: what was left for a
later phase, a pilot), its requirements (needs and what the buyer said, each with its quote; the
timeline; the decision makers), the buyer (the lead), the agency (sender, approval threshold:
AutopilotPolicy.proposal_approval_above) and the operator's answer so far.
Decides (the brain, checked): the words: a title, a summary of their needs, each need with the
buyer's own words quoted from the requirements (a quote that is not there sends the heuristic's
text instead), the approach, the timeline and a closing. Prices, lines and the validity date are
never the brain's: they are rendered from the priced proposal.
Does: stores the text, the validity date (VALID_DAYS from today) and the title; above the threshold
(or in another currency than the threshold's) it waits for an operator with the text committed, and
sends exactly that text once approved (rejected: back to draft, with the note). Then one outbox act
creates and sends the document (sales.agents.proposal.document), once per proposal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.numbers import format_currency
from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import AgencyProfile, Lead
from crm.services.agency import profile
from delivery.services.renewals import is_renewal
from sales.agents.proposal._common import (
    CURRENCY_FIELD,
    DOCUMENT_KIND,
    TOTAL_FIELD,
    VALID_UNTIL_FIELD,
    approval_state,
    ask_approval,
    document_key,
    in_your_words,
    local_today,
    move,
    valid_days,
)
from sales.agents.proposal.document import ProposalDocument, as_html
from sales.models import Proposal
from sales.services.proposals import EDITABLE
from sales.services.requirements import Requirements, read_requirements

PROMPT = """You write proposals for a small AI services agency, in plain, warm business English.
From the buyer's requirements, write: a short title; a two or three sentence summary of what they
need and why it matters to them; each need in a few words with the buyer's own words as the quote
(copied exactly from the requirements given, never invented); how we will approach the work (phases,
a pilot first when the pricing says so); the timeline; a one or two sentence closing with the next
step. Never state prices, discounts or dates: they are added from the priced proposal."""


class ProposalRef(BaseModel):
    proposal_id: int


class Need(BaseModel):
    text: str = Field(max_length=300)
    quote: str = Field(default="", max_length=600)


class Written(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(max_length=1500)
    needs: list[Need] = Field(default_factory=list)
    approach: str = Field(default="", max_length=2000)
    timeline: str = Field(default="", max_length=800)
    closing: str = Field(default="", max_length=800)


class Draft(BaseModel):
    """What act sends: a new text, or the stored one an operator approved."""

    written: Written | None = None
    reuse_stored: bool = False


class CreationFacts(Facts):
    proposal: Proposal
    lead: Lead
    agency: AgencyProfile
    requirements: Requirements
    today: dt.date
    valid_until: dt.date
    threshold: Decimal
    needs_approval: bool
    approval: str | None = None


class Created(BaseModel):
    proposal_id: int
    total: str = ""
    currency: str = ""
    valid_until: str = ""
    document_key: str = ""
    waiting_for_approval: bool = False
    note: str = ""


def send_key(proposal_id: int) -> str:
    return f"proposal:{proposal_id}:send"


@register
class ProposalCreation(LLMAgent[ProposalRef, Created, Written]):
    name, category, trigger, queue = "proposal_creation", "proposal", "handoff", "llm"
    Input, Facts, Output, Decision = ProposalRef, CreationFacts, Created, Written
    system_prompt = PROMPT

    def load(self, ctx: RunContext, data: ProposalRef) -> CreationFacts:
        proposal = Proposal.objects.select_related("lead__company", "company").get(pk=data.proposal_id)
        if proposal.status not in EDITABLE:
            raise SkipRun(f"proposal {proposal.pk} is {proposal.status} already")
        if not proposal.line_items or proposal.total <= 0:
            raise SkipRun(f"proposal {proposal.pk} is not priced yet: pricing comes first")
        lead = proposal.lead or (proposal.client.primary_contact if proposal.client else None)
        if lead is None or not lead.email:
            raise SkipRun(f"proposal {proposal.pk} has nobody with an email address to send it to")
        if lead.do_not_contact:
            raise SkipRun(f"proposal {proposal.pk}: its buyer may not be contacted")
        agency = profile()
        threshold = agency.policy().proposal_approval_above
        today = local_today(ctx.now(), lead)
        facts = CreationFacts(
            proposal=proposal,
            lead=lead,
            agency=agency,
            requirements=read_requirements(proposal.requirements),
            today=today,
            valid_until=max(proposal.valid_until or today, today + dt.timedelta(days=valid_days())),
            threshold=threshold,
            # A total in another currency than the agency's cannot be weighed against the threshold.
            needs_approval=proposal.total > threshold or proposal.currency != agency.currency.upper(),
        )
        if facts.needs_approval:
            facts.approval = approval_state(send_key(proposal.pk))
            if facts.approval == Escalation.Status.OPEN:
                ctx.require_approval(send_key(proposal.pk), "a proposal above the threshold waits for an operator")
        return facts

    def decide(self, ctx: RunContext, facts: CreationFacts) -> Draft:
        if facts.approval == Escalation.Status.APPROVED and facts.proposal.content:
            return Draft(reuse_stored=True)  # what the operator read is what goes out
        known = facts.requirements.quotes()

        def check(written: Written) -> str | None:
            invented = [n.quote for n in written.needs if n.quote and not _quoted(n.quote, known)]
            return f"quotes not in the requirements: {invented}" if invented else None

        return Draft(written=ctx.brain.decide_checked(facts, check=check))

    def prompt(self, ctx: RunContext, facts: CreationFacts) -> str:
        req, proposal = facts.requirements, facts.proposal
        parts = [f"Buyer: {facts.lead.full_name}, {getattr(proposal.company, 'name', '')}"]
        parts.append("Needs:\n" + "\n".join(f'- {s.text} (said: "{s.quote}")' for s in req.needs + req.scope))
        if req.timeline is not None:
            parts.append(f'Timeline: {req.timeline.text} (said: "{req.timeline.quote}")')
        if req.decision_makers:
            parts.append("Decision makers: " + "; ".join(s.text for s in req.decision_makers))
        parts.append("Priced scope:\n" + "\n".join(f"- {li['description']}" for li in proposal.line_items))
        pricing = proposal.pricing or {}
        if pricing.get("pilot"):
            parts.append("The price is for a pilot of the core need; the full build is a second phase.")
        if pricing.get("left_out"):
            parts.append("Left for a later phase: " + "; ".join(pricing["left_out"]))
        parts.append(f"Sender: {facts.agency.sender_name}, {facts.agency.name}")
        if is_renewal(proposal):
            raw = proposal.requirements
            parts.insert(
                0,
                f"This is the renewal of a current client's contract, which ends on {raw.get('contract_end')}: "
                f"the same services for {raw.get('term_months')} more months, until {raw.get('renews_until')}, "
                "at the fee they pay now. Write it as a renewal (what carries on), not as a new project.",
            )
        return "\n\n".join(parts)

    def heuristic(self, ctx: RunContext, facts: CreationFacts) -> Written:
        req, proposal = facts.requirements, facts.proposal
        if is_renewal(proposal):
            return _renewal_words(proposal, facts.agency)
        company = getattr(proposal.company, "name", "") or "your team"
        asked = req.needs + req.scope
        pricing = proposal.pricing or {}
        services = list(dict.fromkeys(li.get("service", "") for li in pricing.get("lines", []) if li.get("service")))
        what = " and ".join(s.lower() for s in services[:2]) or "AI automation"
        said = [in_your_words(s.text) for s in asked[:2]]
        summary = f"You told us that {' and that '.join(said)}." if said else f"{company} asked us for {what}."
        summary += f" We propose {what} to take that work off your team"
        summary += ", starting with a pilot that proves it on one use case." if pricing.get("pilot") else "."
        approach = _approach(services, pricing)
        timeline = _timeline(req)
        who = [s.text for s in req.decision_makers]
        closing = "If this matches what you have in mind, sign the document and we will schedule the kickoff."
        if len(who) > 1:
            closing = f"Happy to walk {', '.join(who[:-1])} and {who[-1]} through it before you sign. " + closing
        title = f"{services[0] if services else 'AI automation'} for {company}"
        if pricing.get("pilot"):
            title = f"Pilot: {title}"
        return Written(
            title=title[:200],
            summary=summary[:1500],
            needs=[Need(text=s.text[:300], quote=s.quote[:600]) for s in asked],
            approach=approach,
            timeline=timeline,
            closing=closing,
        )

    def act(self, ctx: RunContext, facts: CreationFacts, draft: Draft) -> Created:
        proposal = ctx.lock(facts.proposal)
        out = Created(
            proposal_id=proposal.pk,
            total=str(proposal.total),
            currency=proposal.currency,
            valid_until=facts.valid_until.isoformat(),
        )
        if proposal.status not in EDITABLE:
            out.note = f"the proposal is {proposal.status} already"
            return out
        if not draft.reuse_stored and draft.written is not None:
            content = render(draft.written, proposal, facts)
            # A renewal's title says what it is ("Renewal of ..."): the client reads it, and a renewal
            # retitled like a new sale reads as a new sale (an upsell they did not ask for).
            title = proposal.title if is_renewal(proposal) else draft.written.title
            ctx.update(
                proposal,
                action="proposal.written",
                title=title,
                content=content,
                valid_until=facts.valid_until,
            )
        if facts.needs_approval and facts.approval != Escalation.Status.APPROVED:
            return self._approval(ctx, facts, proposal, out)
        ctx.act(DOCUMENT_KIND, document_key(proposal.pk), _document(proposal, facts))
        out.document_key = document_key(proposal.pk)
        return out

    def _approval(self, ctx: RunContext, facts: CreationFacts, proposal: Proposal, out: Created) -> Created:
        if facts.approval == Escalation.Status.REJECTED:
            move(ctx, proposal, Proposal.Status.DRAFT, action="proposal.rejected")
            out.note = "an operator rejected sending it: back to draft"
            return out
        move(ctx, proposal, Proposal.Status.AWAITING_APPROVAL, action="proposal.awaiting_approval")
        total = _money(proposal.total, proposal.currency)
        ask_approval(
            ctx,
            send_key(proposal.pk),
            f"{proposal.title}: {total} is above the {_money(facts.threshold, facts.agency.currency)} "
            "that may go out without approval",
            {
                "proposal_id": proposal.pk,
                "total": str(proposal.total),
                "currency": proposal.currency,
                "content": proposal.content,
            },
            subject=proposal,
        )
        out.waiting_for_approval = True
        return out


def render(written: Written, proposal: Proposal, facts: CreationFacts) -> str:
    """The proposal's text: the brain's words around the figures, which come from the priced lines."""
    company = getattr(proposal.company, "name", "")
    blocks = [f"Prepared for {facts.lead.full_name}{', ' + company if company else ''}, {facts.today:%d %B %Y}"]
    blocks.append(f"Summary\n{written.summary}")
    if written.needs:
        blocks.append(
            "What you told us\n"
            + "\n".join(f"- {n.text}" + (f' ("{n.quote}")' if n.quote else "") for n in written.needs)
        )
    if written.approach:
        blocks.append(f"Our approach\n{written.approach}")
    lines = [
        f"- {li['description']}: {li['quantity']} x {_money(li['unit_price'], proposal.currency)} = "
        f"{_money(li['amount'], proposal.currency)}"
        for li in proposal.line_items
    ]
    blocks.append("Scope and price\n" + "\n".join(lines))
    price = f"Total: {_money(proposal.total, proposal.currency)}, excluding taxes."
    pricing = proposal.pricing or {}
    if pricing.get("discount_percent") not in (None, "0", "0.00"):
        price += f" Includes a {pricing['discount_percent']}% discount on our rate card."
    blocks.append(price)
    if pricing.get("left_out"):
        blocks.append("Not in this price (a later phase)\n" + "\n".join(f"- {item}" for item in pricing["left_out"]))
    if written.timeline:
        blocks.append(f"Timeline\n{written.timeline}")
    blocks.append(f"Validity\nThis proposal is valid until {facts.valid_until:%d %B %Y}.")
    agency = facts.agency
    signature = ", ".join(p for p in (agency.sender_name, agency.sender_title, agency.name) if p)
    blocks.append(f"{written.closing}\n\n{signature}".strip())
    return "\n\n".join(blocks)


def _document(proposal: Proposal, facts: CreationFacts) -> ProposalDocument:
    lead = facts.lead
    assert lead.email  # load refuses a buyer without one
    return ProposalDocument(
        proposal_pk=proposal.pk,
        name=proposal.title[:200],
        recipient_email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        html=as_html(proposal.title, proposal.content),
        fields={
            TOTAL_FIELD: str(proposal.total),
            CURRENCY_FIELD: proposal.currency,
            VALID_UNTIL_FIELD: (proposal.valid_until or facts.valid_until).isoformat(),
            "Client.FirstName": lead.first_name,
            "Client.Company": getattr(proposal.company, "name", ""),
        },
        subject=f"Proposal: {proposal.title}"[:200],
        message=f"Hi {lead.first_name or 'there'}, here is our proposal as discussed. {facts.agency.sender_name}",
    )


def _renewal_words(proposal: Proposal, agency: AgencyProfile) -> Written:
    """A renewal in plain words: the contract carries on, what it covers, from when to when."""
    raw = proposal.requirements
    scope = [str(s) for s in raw.get("scope", []) if s]
    ends, until, months = raw.get("contract_end", ""), raw.get("renews_until", ""), raw.get("term_months", "")
    company = getattr(proposal.company, "name", "") or "your team"
    summary = (
        f"Your contract with {agency.name} ends on {ends}. We propose to renew it for {months} months, until "
        f"{until}, on the terms you have now, so the work for {company} carries on without a gap."
    )
    approach = "\n".join(f"- {item}, as now." for item in scope) or "- The services you have now, as now."
    return Written(
        title=proposal.title[:200],
        summary=summary[:1500],
        approach=f"What carries on\n{approach}"[:2000],
        timeline=f"The renewed term runs from {ends} to {until}."[:800],
        closing="If you would like to carry on, sign the document: nothing else changes on your side.",
    )


def _quoted(quote: str, known: list[str]) -> bool:
    folded = " ".join(quote.lower().split()).strip(" .\"'")
    return any(folded in " ".join(k.lower().split()) for k in known)


def _money(amount: object, currency: str) -> str:
    return format_currency(Decimal(str(amount)), currency, locale="en_US")


def _approach(services: list[str], pricing: dict[str, object]) -> str:
    steps = ["Week one: a working session to map the process, the data and the people involved."]
    if pricing.get("pilot"):
        steps.append(f"Then a pilot of the {services[0].lower() if services else 'core'} on one use case, measured.")
        steps.append("Once the pilot shows results, the full build as a second phase, priced separately.")
    else:
        steps += [f"Build: {s.lower()}, tested with your team on real cases." for s in services]
    steps.append("Launch with a handover and a check-in two weeks later to tune what needs it.")
    return "\n".join(f"- {s}" for s in steps)


def _timeline(req: Requirements) -> str:
    if req.timeline_weeks:
        weeks = req.timeline_weeks
        text = f"You asked for something live within {weeks} weeks: we plan the launch in week {max(weeks - 1, 2)}"
        return text + ", with the working session in week one."
    if req.timeline is not None:
        return f"On timing you said: {req.timeline.text}. We plan the working session in the first week."
    return "We start with the working session in the first week after signature and agree dates there."
