"""upsell_detection: each week, what more a healthy client could buy from us, from what they told us.

Beat (weekly, ``{}``): one run per active client past their first month. Per client
(``{"client_id"}``), facts: the signed scope (line items, project and milestone names), the needs
their requirements state (out of scope, or not covered by what they bought), their change requests
(a rejected or long-unanswered one is demand we have not met; several approved ones are usage that
outgrows ad-hoc changes), delivered milestones and the health score. The brain names up to three
opportunities, each citing the facts it rests on (``change_request:7``, ``proposal:3:requirements.
needs[1]``, ``milestone:12``); an answer citing anything else is replaced by the heuristic's.
Writes: an UpsellOpportunity per new idea (rationale with its citations). The best one, when it is
well founded (confidence >= 0.7) and the client healthy (score >= 70), goes on: a draft Proposal
(``requirements.kind = "upsell"``) and pricing ``{"proposal_id"}``, which hands it to
proposal_creation. Never for an at-risk client. Proposed ones are closed as won or lost from
their proposal's fate on later runs. Never for a client who declined the renewal or wrote that
they will not renew: they are served to the contract end, not sold to.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead
from delivery.agents.retention import _needs
from delivery.agents.retention._common import OneOrAll, contact_of, fan_out, leaving_because, signed_proposals
from delivery.models import ChangeRequest, Milestone, UpsellOpportunity
from delivery.services.renewals import UPSELL, kind_of, renewal_for
from delivery.services.retention import change_upsell_status, identify_upsell
from sales.models import Client, Proposal
from sales.services.proposals import create_proposal_draft

PROMPT = """You look for expansion opportunities for an AI services agency's existing client.
From the facts given (what they bought, needs they stated, change requests, delivered milestones,
health), name at most three things they would plausibly buy next. Each must rest on a stated need or
a request of theirs: cite the reference of every fact you use (the [ref] shown), give a one-line
rationale, a title naming the offer, an estimated value in the client's currency and a confidence
from 0 to 1 (below 0.7 when it rests on results alone rather than on something they asked for)."""

MIN_MONTHS_DAYS = 30  # a client in their first month is still being onboarded
GOOD = 0.7
UPSELL_HEALTH = 70
MAX_IDEAS = 3
SHARE_OF_ORIGINAL = Decimal("0.25")  # an add-on is typically a quarter of the first project (judgement)
MIN_VALUE = Decimal("1500.00")
STALE_REQUEST = dt.timedelta(days=30)


class Idea(BaseModel):
    title: str
    need: str
    rationale: str
    cites: list[str]
    estimated_value: Decimal = Field(ge=0)
    confidence: float = Field(ge=0, le=1)


class Ideas(BaseModel):
    opportunities: list[Idea] = Field(default_factory=list)


class UpsellFacts(Facts):
    due: list[int] = Field(default_factory=list)
    client: Client | None = None
    contact: Lead | None = None
    health: int | None = None
    original_total: Decimal = Decimal("0.00")
    scope: list[str] = Field(default_factory=list)
    needs: list[_needs.Need] = Field(default_factory=list)
    change_requests: list[ChangeRequest] = Field(default_factory=list)
    delivered: list[Milestone] = Field(default_factory=list)
    known_titles: set[str] = Field(default_factory=set)
    proposed: list[UpsellOpportunity] = Field(default_factory=list)

    def refs(self) -> set[str]:
        found = {n.ref for n in self.needs} | {f"change_request:{c.pk}" for c in self.change_requests}
        return found | {f"milestone:{m.pk}" for m in self.delivered}


class Found(BaseModel):
    fanned_out: list[int] = Field(default_factory=list)
    client_id: int | None = None
    identified: list[int] = Field(default_factory=list)
    proposed: int | None = None
    proposal_id: int | None = None
    closed: dict[str, str] = Field(default_factory=dict)
    note: str = ""


def default_value(facts: UpsellFacts) -> Decimal:
    return max(MIN_VALUE, (facts.original_total * SHARE_OF_ORIGINAL).quantize(Decimal("0.01")))


def ideas_from(facts: UpsellFacts) -> list[Idea]:
    """The heuristic's reading: requests first (they asked), then stated needs, then results."""
    ideas: list[Idea] = []
    now_requests = [c for c in facts.change_requests if c.status != ChangeRequest.Status.APPROVED]
    for request in now_requests:
        waited = request.status != ChangeRequest.Status.REJECTED
        offer = _needs.offer_for(request.description) or f"Extension: {request.description[:60].rstrip()}"
        why = "declined as a change, still wanted" if not waited else "asked for and still unanswered"
        ideas.append(
            Idea(
                title=offer,
                need=request.description,
                rationale=f"They asked for it ({why}): {request.description[:160]}",
                cites=[f"change_request:{request.pk}"],
                estimated_value=request.price if request.price > 0 else default_value(facts),
                confidence=0.8,
            )
        )
    for need in facts.needs:
        if not need.out_of_scope and _needs.covered(need.text, facts.scope):
            continue
        offer = _needs.offer_for(need.text)
        if not offer:
            continue
        where = "left out of the signed scope" if need.out_of_scope else "stated, and not covered by what they bought"
        ideas.append(
            Idea(
                title=offer,
                need=need.text,
                rationale=f"A need they {where}: {need.text[:160]}",
                cites=[need.ref],
                estimated_value=default_value(facts),
                confidence=0.75 + (0.05 if (facts.health or 0) >= 80 else 0.0),
            )
        )
    approved = [c for c in facts.change_requests if c.status == ChangeRequest.Status.APPROVED]
    if len(approved) >= 2:
        ideas.append(
            Idea(
                title="Monthly improvement retainer",
                need="a steady stream of changes",
                rationale=f"{len(approved)} approved change requests: their use outgrows one-off changes",
                cites=[f"change_request:{c.pk}" for c in approved],
                estimated_value=sum((c.price for c in approved), Decimal("0.00")) or default_value(facts),
                confidence=0.6,
            )
        )
    if len(facts.delivered) >= 2 and (facts.health or 0) >= 75:
        ideas.append(
            Idea(
                title="Phase 2: extend what was delivered",
                need="results so far",
                rationale=f"{len(facts.delivered)} milestones delivered and a healthy account",
                cites=[f"milestone:{m.pk}" for m in facts.delivered],
                estimated_value=default_value(facts),
                confidence=0.5,
            )
        )
    fresh: dict[str, Idea] = {}
    for idea in sorted(ideas, key=lambda i: -i.confidence):
        if idea.title.lower() not in facts.known_titles and idea.title.lower() not in fresh:
            fresh[idea.title.lower()] = idea
    return list(fresh.values())[:MAX_IDEAS]


def check(facts: UpsellFacts, ideas: Ideas) -> str | None:
    """What is wrong with the brain's answer (None: nothing): every idea cites known facts only."""
    known = facts.refs()
    for idea in ideas.opportunities:
        if not idea.cites:
            return f"{idea.title!r} cites nothing"
        unknown = set(idea.cites) - known
        if unknown:
            return f"{idea.title!r} cites facts that are not in the record: {sorted(unknown)}"
        if not idea.title.strip():
            return "an opportunity without a title"
    return None


@register
class UpsellDetection(LLMAgent[OneOrAll, Found, Ideas]):
    name, category, trigger = "upsell_detection", "retention", ("schedule", "handoff")
    Input, Facts, Output, Decision = OneOrAll, UpsellFacts, Found, Ideas
    system_prompt = PROMPT
    schedule = "0 9 * * 2"  # weekly, Tuesday morning
    next = ("pricing", "upsell_detection")

    def load(self, ctx: RunContext, data: OneOrAll) -> UpsellFacts:
        today = ctx.now().date()
        if data.client_id is None:
            due = Client.objects.filter(
                status=Client.Status.ACTIVE, started_on__lte=today - dt.timedelta(days=MIN_MONTHS_DAYS)
            ).order_by("pk")
            return UpsellFacts(due=list(due.values_list("pk", flat=True)))
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        if client.status == Client.Status.AT_RISK:
            raise SkipRun(f"{client} is at risk: no upsell until they are well again")
        if client.status != Client.Status.ACTIVE:
            raise SkipRun(f"{client} is {client.status}: no upsell")
        # A client who declined the renewal is served to the contract end, not sold to meanwhile.
        renewal = renewal_for(client=client, contract_end=client.contract_end) if client.contract_end else None
        leaving = leaving_because(client, renewal=renewal, now=ctx.now())
        if leaving:
            raise SkipRun(f"{client} leaves when the contract ends ({leaving}): no upsell")
        signed = [p for p in signed_proposals(client) if kind_of(p) != UPSELL]
        scope = [p.title for p in signed] + [str(li.get("description", "")) for p in signed for li in p.line_items]
        milestones = list(Milestone.objects.filter(project__client=client).select_related("project"))
        scope += [m.project.name for m in milestones] + [m.name for m in milestones]
        requests = list(ChangeRequest.objects.filter(project__client=client).order_by("pk"))
        stale = ctx.now() - STALE_REQUEST
        opportunities = list(UpsellOpportunity.objects.filter(client=client).select_related("proposal"))
        return UpsellFacts(
            client=client,
            contact=contact_of(client),
            health=client.health_score,
            original_total=signed[0].total if signed else Decimal("0.00"),
            scope=[s for s in scope if s],
            needs=[n for p in signed for n in _needs.stated_needs(p.pk, p.requirements)],
            change_requests=[
                c
                for c in requests
                if c.status in (ChangeRequest.Status.APPROVED, ChangeRequest.Status.REJECTED) or c.created_at < stale
            ],
            delivered=[m for m in milestones if m.status in (Milestone.Status.DONE, Milestone.Status.ACCEPTED)],
            known_titles={o.title.lower() for o in opportunities},
            proposed=[o for o in opportunities if o.status == UpsellOpportunity.Status.PROPOSED],
        )

    def decide(self, ctx: RunContext, facts: UpsellFacts) -> Ideas:
        if facts.client is None:
            return Ideas()  # the beat run only fans out
        return ctx.brain.decide_checked(facts, check=lambda ideas: check(facts, ideas))

    def prompt(self, ctx: RunContext, facts: UpsellFacts) -> str:
        assert facts.client is not None
        lines = [f"Client: {facts.client} (health {facts.health}, currency {facts.client.currency})"]
        lines.append("Bought: " + ("; ".join(facts.scope) or "-"))
        lines += [f"[{n.ref}] stated need{' (out of scope)' if n.out_of_scope else ''}: {n.text}" for n in facts.needs]
        lines += [
            f"[change_request:{c.pk}] {c.status}, {c.price} {c.currency}: {c.description}"
            for c in facts.change_requests
        ]
        lines += [f"[milestone:{m.pk}] delivered: {m.project.name} / {m.name}" for m in facts.delivered]
        lines.append("Already considered: " + (", ".join(sorted(facts.known_titles)) or "-"))
        return "\n".join(lines)

    def heuristic(self, ctx: RunContext, facts: UpsellFacts) -> Ideas:
        return Ideas(opportunities=ideas_from(facts)) if facts.client is not None else Ideas()

    def act(self, ctx: RunContext, facts: UpsellFacts, ideas: Ideas) -> Found:
        if facts.client is None:
            return Found(fanned_out=fan_out(ctx, self.name, facts.due))
        client = ctx.lock(facts.client)
        out = Found(client_id=client.pk, closed=self._close(facts.proposed))
        new = [i for i in ideas.opportunities if i.title.lower() not in facts.known_titles][:MAX_IDEAS]
        created = []
        for idea in new:
            rationale = f"{idea.rationale} [cites: {', '.join(idea.cites)}]"
            upsell = identify_upsell(
                client=client,
                title=idea.title[:255],
                estimated_value=idea.estimated_value.quantize(Decimal("0.01")),
                currency=client.currency,
                rationale=rationale,
            )
            created.append((idea, upsell))
            out.identified.append(upsell.pk)
        best = max(created, key=lambda pair: pair[0].confidence, default=None)
        if best is None:
            out.note = "no new opportunity"
            return out
        idea, upsell = best
        still_out = [u for u in facts.proposed if str(u.pk) not in out.closed]
        if idea.confidence < GOOD or (client.health_score or 0) < UPSELL_HEALTH or still_out:
            out.note = "identified for the account owner: not founded or healthy enough to propose, or one is out"
            return out
        proposal = create_proposal_draft(
            title=f"{idea.title} for {client.company.name}",
            client=client,
            company=client.company,
            lead=facts.contact,
            currency=client.currency,
            requirements={
                "kind": UPSELL,
                "upsell_id": upsell.pk,
                "needs": [idea.need],
                "rationale": idea.rationale,
                "cites": idea.cites,
                "estimated_value": str(idea.estimated_value),
            },
        )
        change_upsell_status(upsell=upsell, status=UpsellOpportunity.Status.PROPOSED, proposal=proposal)
        ctx.handoff("pricing", {"proposal_id": proposal.pk})
        out.proposed, out.proposal_id = upsell.pk, proposal.pk
        return out

    @staticmethod
    def _close(proposed: list[UpsellOpportunity]) -> dict[str, str]:
        """Proposed opportunities whose proposal was decided: won when signed, lost when declined or expired."""
        closed: dict[str, str] = {}
        for upsell in proposed:
            fate = upsell.proposal.status if upsell.proposal else ""
            status: dict[str, str] = {
                Proposal.Status.SIGNED: "won",
                Proposal.Status.DECLINED: "lost",
                Proposal.Status.EXPIRED: "lost",
            }
            if fate in status:
                change_upsell_status(upsell=upsell, status=status[fate])
                closed[str(upsell.pk)] = status[fate]
        return closed
