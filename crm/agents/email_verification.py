"""email_verification: is the lead's address worth a cold email? Sets Lead.email_status with why.

The checks are crm.services.email_checks (syntax, throw-away and role lists, MX, the EmailVerifier
role's verdict), the same path ``manage.py verify_email`` uses. The paid verdict is kept per address
(``ctx.cached``): a retry does not pay twice. valid, risky and catch-all go on to lead_enrichment;
invalid and disposable disqualify the lead with the reason; a role account stays, unsent.
"""

from __future__ import annotations

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Lead
from crm.services.email_checks import EmailCheck, check_address, get_resolver
from crm.services.leads import lead_disqualify, lead_set_status
from integrations.values import Verdict

DISQUALIFYING = frozenset({"invalid", "disposable"})
# Verification is worth doing only before anyone talks to the lead.
OPEN = frozenset({Lead.Status.NEW, Lead.Status.ENRICHED, Lead.Status.VERIFIED})


class LeadRef(BaseModel):
    lead_id: int


class Checked(Facts):
    lead: Lead
    check: EmailCheck | None = None
    skip: str = ""


class VerificationOutput(BaseModel):
    email: str = ""
    status: str = ""
    reason: str = ""
    steps: list[str] = []
    disqualified: bool = False
    note: str = ""


@register
class EmailVerification(Agent[LeadRef, VerificationOutput]):
    """Syntax, MX, disposable/role checks and the provider's verdict; sets email_status."""

    name = "email_verification"
    category = "lead_generation"
    trigger = "handoff"
    queue = "crm"
    Input = LeadRef
    Facts = Checked
    Output = VerificationOutput
    next = ("lead_enrichment",)

    def load(self, ctx: RunContext, data: LeadRef) -> Checked:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        if not lead.email:
            return Checked(lead=lead, skip="no email to verify")
        if lead.status not in OPEN:
            return Checked(lead=lead, skip=f"lead is {lead.status}: verification is for new leads")
        verifier = ctx.roles.email_verifier

        def verify(address: str) -> Verdict:
            return ctx.cached(
                f"email_verifier:{verifier.name}:{address}", lambda: verifier.verify(address), model=Verdict
            )

        return Checked(lead=lead, check=check_address(lead.email, resolver=get_resolver(), verify=verify))

    def act(self, ctx: RunContext, facts: Checked) -> VerificationOutput:
        lead = ctx.lock(facts.lead)
        check = facts.check
        if facts.skip or check is None:
            return VerificationOutput(email=lead.email or "", note=facts.skip)
        if lead.email != check.email and lead.email:
            # The address changed between load and act: verify the new one in a fresh run.
            return VerificationOutput(email=lead.email, note="the address changed meanwhile; not verified")
        out = VerificationOutput(email=check.email, status=check.status, reason=check.reason, steps=list(check.steps))
        if lead.email_status != check.status:
            ctx.update(lead, action="lead.email_verified", note={"reason": check.reason}, email_status=check.status)
        if check.status in DISQUALIFYING:
            if lead.status != Lead.Status.DISQUALIFIED:
                lead_disqualify(
                    locked=True,
                    lead=lead,
                    reasons=[f"email_verification: {check.email} is {check.status}: {check.reason}"],
                )
            out.disqualified = True
            return out
        if check.passes:
            if lead.status == Lead.Status.NEW:
                lead_set_status(lead=lead, status=Lead.Status.VERIFIED, reason=check.reason, locked=True)
            ctx.handoff("lead_enrichment", {"lead_id": lead.pk})
        return out
