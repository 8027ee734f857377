"""icp_refinement: compares won, lost and unresponsive leads and proposes ICP changes; applies one
only once an operator approved it (the approval key: the ICP and a hash of the proposal)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.registry import register
from crm.models import IdealCustomerProfile
from crm.services import icp as icp_service
from crm.services.icp import Outcome, Proposal


class IcpInput(BaseModel):
    icp_id: int | None = None


class IcpFacts(Facts):
    icps: list[IdealCustomerProfile] = Field(default_factory=list)  # several: one run each
    icp: IdealCustomerProfile | None = None
    outcomes: list[Outcome] = Field(default_factory=list)
    proposal: Proposal = Field(default_factory=Proposal)  # the rules' proposal
    why: str = ""


class IcpOut(BaseModel):
    icp_id: int | None = None
    proposed: bool = False
    applied: dict[str, list[str]] = Field(default_factory=dict)
    note: str = ""


@register
class IcpRefinement(LLMAgent[IcpInput, IcpOut, Proposal]):
    name = "icp_refinement"
    category = "research"
    trigger = ("schedule", "handoff")
    schedule = "0 5 2 * *"  # monthly
    Input, Facts, Output, Decision = IcpInput, IcpFacts, IcpOut, Proposal
    next = ("icp_refinement",)  # the monthly tick starts one run per active ICP
    system_prompt = (
        "You refine an ideal customer profile from sales outcomes. Given per-value win counts and the rules' "
        "proposal, propose values to add or remove (only values that appear in the outcomes) and one line of "
        "rationale each. Propose nothing the numbers do not support."
    )

    def load(self, ctx: RunContext, data: IcpInput) -> IcpFacts:
        if data.icp_id is None:
            icps = list(IdealCustomerProfile.objects.filter(active=True).order_by("pk"))
            if len(icps) != 1:
                return IcpFacts(icps=icps)
            icp = icps[0]
        else:
            icp = IdealCustomerProfile.objects.get(pk=data.icp_id)
        # With one active ICP, every ended lead is its evidence, linked or not.
        alone = IdealCustomerProfile.objects.filter(active=True).count() == 1
        seen = icp_service.outcomes(icp=icp, now=ctx.now(), only_icp=not alone)
        proposal, why = icp_service.propose(icp=icp, seen=seen)
        return IcpFacts(icp=icp, outcomes=seen, proposal=proposal, why=why)

    def prompt(self, ctx: RunContext, facts: IcpFacts) -> str:
        assert facts.icp is not None
        icp = facts.icp
        current = {name: getattr(icp, name) for name in icp_service.FIELDS}
        return f"ICP {icp.name}: {current}\nOutcomes: {facts.why}\nRules' proposal: {facts.proposal.model_dump()}"

    def heuristic(self, ctx: RunContext, facts: IcpFacts) -> Proposal:
        return facts.proposal

    def decide(self, ctx: RunContext, facts: IcpFacts) -> Proposal:
        if facts.icp is None or facts.proposal.empty:
            return Proposal()  # below the minimum sample, or nothing stands out: no question to ask
        return ctx.brain.decide_checked(facts, fallback=lambda: facts.proposal, check=lambda d: _unseen(d, facts))

    def act(self, ctx: RunContext, facts: IcpFacts, decision: Proposal) -> IcpOut:
        if facts.icp is None:
            for icp in facts.icps:
                ctx.handoff("icp_refinement", {"icp_id": icp.pk})
            return IcpOut(note=f"{len(facts.icps)} active ICPs: one run each")
        out = IcpOut(icp_id=facts.icp.pk)
        if decision.empty:
            out.note = f"no change proposed: {facts.why}"
            return out
        icp = ctx.lock(facts.icp)
        changes = icp_service.applied(icp, decision)
        if not changes:
            out.note = "the ICP already has these values"
            return out
        out.proposed = True
        ctx.require_approval(
            f"icp:{icp.pk}:change:{decision.digest()}",
            f"ICP {icp.name}: " + "; ".join(decision.rationale or [facts.why]),
            {"icp_id": icp.pk, "add": decision.add, "remove": decision.remove, "result": changes, "why": facts.why},
        )
        ctx.update(icp, action="icp.refined", note={"rationale": decision.rationale}, **changes)
        out.applied = changes
        return out


def _unseen(decision: Proposal, facts: IcpFacts) -> str | None:
    """The brain may not invent values: each must appear in the outcomes under that field."""
    for part in (decision.add, decision.remove):
        for name, values in part.items():
            if name not in icp_service.FIELDS:
                return f"unknown field {name!r}"
            seen = {str(getattr(o, name)).lower() for o in facts.outcomes}
            strange = [v for v in values if v.lower() not in seen]
            if strange:
                return f"{name} values not in the outcomes: {strange}"
    return None
