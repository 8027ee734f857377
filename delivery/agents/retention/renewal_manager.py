"""renewal_manager: contracts ending within 60 days: renew a healthy client, let a leaving one go, ask when unclear.

Beat (daily, ``{}``): one run per client whose contract ends within 60 days (or ended lately), unless
one already waits for the account owner. Per client (``{"client_id"}``):
- a signed renewal for the current contract: the contract end moves (delivery/services/renewals.py
  ``apply_signed_renewal``, which contract_signature also calls when it records the signature);
- leaving (the renewal was declined, or the client wrote that they will not renew): nothing is
  offered, and the client is served to the end of the contract they paid for (reports, milestones,
  answers); the day after it ends, offboarding_orchestrator ``{"client_id", "reason"}``, once, with
  the reason they gave. Offboarding at the decline revoked their accesses and billed the final
  invoice about seven weeks before the contract ended;
- the contract ended without a signed renewal: offboarding_orchestrator, the same way;
- healthy (score >= 65, active, no high churn risk in 30 days): a renewal draft, once per contract
  end, priced at the client's monthly value for the new term, and proposal_creation
  ``{"proposal_id"}`` (pricing first when no monthly value is on record);
- nobody at the client may be emailed (no address, or do-not-contact): the renewal could never go
  out, so the account owner is told once per contract end, to call them (nothing is drafted);
- otherwise the account owner decides (an approval under ``renewal:client:{id}:{contract end}``):
  approved, the renewal draft goes out the same way; rejected, the client leaves at the contract end.
A renewal already out for signature is proposal_follow_up's to chase: nothing is drafted twice.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import AgentRun
from agents.registry import register
from crm.models import Lead
from delivery.agents.retention._common import (
    ACCOUNT_OWNER,
    CURRENT,
    POLICY,
    SAID_WINDOW,
    OneOrAll,
    contact_of,
    fan_out,
    leaving_because,
    signed_proposals,
)
from delivery.models import ChurnRiskAssessment, Offboarding
from delivery.services.renewals import RENEWAL, apply_signed_renewal, draft_renewal, kind_of, renewal_for
from sales.models import Client, Proposal

AHEAD = 60  # days before the contract end the renewal is prepared
SECOND_LOOK = 30
GRACE = 14  # days after the end a renewal still out for signature may come back signed
HEALTHY = 65
RISK_MEMORY = dt.timedelta(days=30)
PENDING = (Proposal.Status.DRAFT, Proposal.Status.AWAITING_APPROVAL, Proposal.Status.SENT, Proposal.Status.VIEWED)


class RenewalFacts(Facts):
    today: dt.date
    due: list[int] = Field(default_factory=list)  # a beat run's clients
    client: Client | None = None
    contact: Lead | None = None
    renewal: Proposal | None = None
    basis: Proposal | None = None
    leaving: str = ""
    offboarding_asked: bool = False
    high_risk_lately: bool = False


class Renewal(BaseModel):
    fanned_out: list[int] = Field(default_factory=list)
    client_id: int | None = None
    window: str = ""
    decision: str = ""
    reason: str = ""
    proposal_id: int | None = None
    contract_end: dt.date | None = None


def unreachable_because(contact: Lead | None) -> str:
    """Why a renewal could not be emailed to the client ("" when it can)."""
    if contact is None or not contact.email:
        return "nobody at the client has an email address on record"
    if contact.do_not_contact:
        return f"{contact.email} may not be contacted ({contact.status})"
    return ""


def window_of(days_left: int) -> str:
    if days_left < 0:
        return "ended"
    return "30" if days_left <= SECOND_LOOK else "60"


def approval_key(client: Client) -> str:
    return f"renewal:client:{client.pk}:{client.contract_end}"


@register
class RenewalManager(Agent[OneOrAll, Renewal]):
    name, category, trigger, queue = "renewal_manager", "retention", ("schedule", "handoff"), "delivery"
    Input, Facts, Output = OneOrAll, RenewalFacts, Renewal
    schedule = "0 8 * * *"  # daily, at the start of the business day
    next = ("proposal_creation", "pricing", "offboarding_orchestrator", "renewal_manager")

    def load(self, ctx: RunContext, data: OneOrAll) -> RenewalFacts:
        now = ctx.now()
        today = now.date()
        if data.client_id is None:
            waiting = AgentRun.objects.filter(agent_name=self.name, status=AgentRun.Status.ESCALATED).values_list(
                "input__client_id", flat=True
            )
            due = (
                Client.objects.filter(
                    status__in=CURRENT,
                    contract_end__lte=today + dt.timedelta(days=AHEAD),
                    contract_end__gte=today - dt.timedelta(days=AHEAD),
                )
                .exclude(offboardings__status=Offboarding.Status.IN_PROGRESS)
                .exclude(pk__in=[pk for pk in waiting if pk is not None])
                .order_by("contract_end", "pk")
                .values_list("pk", flat=True)
            )
            return RenewalFacts(today=today, due=list(due))
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        if client.status not in CURRENT or client.contract_end is None:
            raise SkipRun(f"client {client.pk} is {client.status} with contract end {client.contract_end}: not ours")
        renewal = renewal_for(client=client, contract_end=client.contract_end)
        leaving = leaving_because(client, renewal=renewal, now=now)
        # The contract being renewed: the latest renewal, else the original deal. An upsell is a
        # one-off piece of work with its own price, not the contract that comes due.
        earlier = [
            p
            for p in signed_proposals(client)
            if p.pk != (renewal.pk if renewal else None) and kind_of(p) in ("", RENEWAL)
        ]
        return RenewalFacts(
            today=today,
            client=client,
            contact=contact_of(client),
            renewal=renewal,
            basis=earlier[-1] if earlier else None,
            leaving=leaving,
            offboarding_asked=AgentRun.objects.filter(
                agent_name="offboarding_orchestrator", input__client_id=client.pk, created_at__gte=now - SAID_WINDOW
            ).exists(),
            high_risk_lately=ChurnRiskAssessment.objects.filter(
                client=client, level=ChurnRiskAssessment.Level.HIGH, created_at__gte=now - RISK_MEMORY
            ).exists(),
        )

    def act(self, ctx: RunContext, facts: RenewalFacts) -> Renewal:
        if facts.client is None:
            return Renewal(fanned_out=fan_out(ctx, self.name, facts.due))
        client = ctx.lock(facts.client)
        assert client.contract_end is not None
        days_left = (client.contract_end - facts.today).days
        out = Renewal(client_id=client.pk, window=window_of(days_left), contract_end=client.contract_end)
        renewal = facts.renewal
        if renewal is not None and renewal.status == Proposal.Status.SIGNED:
            apply_signed_renewal(proposal=renewal)
            client.refresh_from_db(fields=["contract_end"])
            out.decision, out.reason = (
                "renewed",
                f"signed renewal {renewal.pk}: the contract now ends {client.contract_end}",
            )
            return out
        if days_left > AHEAD:
            raise SkipRun(f"the contract ends in {days_left} days: not due yet")
        if facts.leaving:
            if days_left >= 0:
                out.decision = "leaving"
                out.reason = f"{facts.leaving}; served until the contract ends on {client.contract_end}"
                return out
            return self._offboard(ctx, facts, client, facts.leaving, out)
        if days_left < 0:
            if renewal is not None and renewal.status in PENDING and days_left >= -GRACE:
                out.decision, out.reason = "waiting", f"renewal {renewal.pk} is {renewal.status}; the contract ended"
                return out
            return self._offboard(
                ctx, facts, client, f"the contract ended on {client.contract_end} without a signed renewal", out
            )
        if renewal is not None:
            out.decision, out.proposal_id = "renewal_pending", renewal.pk
            out.reason = f"renewal {renewal.pk} is {renewal.status}"
            return out
        unreachable = unreachable_because(facts.contact)
        if unreachable:
            return self._unreachable(ctx, client, unreachable, out)
        healthy, why = self._healthy(client, facts)
        if not healthy:
            ctx.require_approval(
                approval_key(client),
                f"{client}'s contract ends on {client.contract_end} and the renewal is unclear ({why}): "
                "approve to send a renewal proposal, reject to let the contract end",
                {"client_id": client.pk, "contract_end": str(client.contract_end), "health": client.health_score,
                 "status": client.status, "why": why},
                group=ACCOUNT_OWNER,
            )  # fmt: skip
            why = f"the account owner approved a renewal ({why})"
        return self._propose(ctx, facts, client, why, out)

    @staticmethod
    def _unreachable(ctx: RunContext, client: Client, why: str, out: Renewal) -> Renewal:
        """A renewal nobody may be emailed about never goes out (proposal_creation skips it), and the
        contract ends unrenewed without anyone having been told: the account owner hears it in time,
        once per contract end, to call the client."""
        ctx.escalate(
            POLICY,
            f"{client}'s contract ends on {client.contract_end} and the renewal cannot be sent ({why}): "
            "call the client about renewing, or let the contract end",
            {"client_id": client.pk, "contract_end": str(client.contract_end), "health": client.health_score},
            group=ACCOUNT_OWNER,
            wait=False,
            dedupe_key=f"renewal:client:{client.pk}:{client.contract_end}:unreachable",
            subject=client,
        )
        out.decision, out.reason = "contact_unreachable", f"the renewal cannot be sent: {why}"
        return out

    @staticmethod
    def _healthy(client: Client, facts: RenewalFacts) -> tuple[bool, str]:
        if client.health_score is None:
            return False, "no health score yet"
        if client.status != Client.Status.ACTIVE:
            return False, f"the client is {client.status}"
        if facts.high_risk_lately:
            return False, "a high churn risk in the last 30 days"
        if client.health_score < HEALTHY:
            return False, f"health {client.health_score} is below {HEALTHY}"
        return True, f"health {client.health_score}, active, no recent churn risk"

    @staticmethod
    def _propose(ctx: RunContext, facts: RenewalFacts, client: Client, why: str, out: Renewal) -> Renewal:
        proposal = draft_renewal(client=client, contact=facts.contact, basis=facts.basis)
        # Priced from what the client pays now, it goes to be written and sent; without a monthly
        # value on record, pricing quotes its scope first.
        ctx.handoff("proposal_creation" if proposal.line_items else "pricing", {"proposal_id": proposal.pk})
        out.decision, out.reason, out.proposal_id = "renewal_proposed", why, proposal.pk
        return out

    @staticmethod
    def _offboard(ctx: RunContext, facts: RenewalFacts, client: Client, reason: str, out: Renewal) -> Renewal:
        out.decision, out.reason = "offboarding", reason
        if facts.offboarding_asked:
            out.decision = "offboarding_started"
            return out
        ctx.handoff("offboarding_orchestrator", {"client_id": client.pk, "reason": reason})
        return out
