"""email_finder: a work email from a name and the company's domain, through a provider waterfall.

Providers are asked in the registry's preference order (Icypeas, then Findymail) among those whose
keys are set, or the one ``PROVIDER_EMAIL_FINDER`` names, else the sandbox; the first hit stops the
waterfall. Every lookup (hit or miss: both are billed) is kept by domain identity through
``ctx.cached``, so a retry or a second run about the same person never pays twice, and its price
is in the run's output (the HTTP client's ApiUsage rows carry the run id).

A search that ends without an address of the person's own ends the lead, disqualified with the
reason, instead of leaving it "new" forever: no provider found one, the lead lacks what a search
needs (a domain, a first and a last name), or the address found is a colleague's (two people with
one first name at a ``first@domain`` company: the guess names the other). An operator who finds the
address by hand sets it on the lead, which re-enters verification.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Lead
from crm.services import normalize
from crm.services.leads import lead_disqualify
from integrations.registry import SANDBOX, _ordered_real, is_configured, registrations


class LeadRef(BaseModel):
    lead_id: int


class Lookup(BaseModel):
    provider: str
    email: str = ""
    confidence: float = 0.0
    cost: Decimal = Decimal("0")
    cached: bool = False


# Where a lead is before anyone talks to it: the only statuses a failed search may end.
EARLY = frozenset({Lead.Status.NEW, Lead.Status.ENRICHED, Lead.Status.VERIFIED})


class Found(Facts):
    lead: Lead
    lookups: list[Lookup] = Field(default_factory=list)
    skip: str = ""
    dead_end: bool = False  # the skip means no search can ever find this lead an address


class FinderOutput(BaseModel):
    email: str = ""
    provider: str = ""
    lookups: list[Lookup] = Field(default_factory=list)
    cost: Decimal = Decimal("0")
    note: str = ""


def waterfall() -> list[str]:
    """The email-finder providers to ask, in order."""
    override = settings.PROVIDER_OVERRIDES.get("email_finder", "")
    if override:
        return [override]
    real = [r.name for r in _ordered_real("email_finder") if is_configured(r)]
    return real or [SANDBOX]


def lookup_cost(provider: str) -> Decimal:
    return Decimal(str(settings.EMAIL_FINDER_COSTS.get(provider, "0")))


@register
class EmailFinder(Agent[LeadRef, FinderOutput]):
    """Finds a work email through the provider waterfall, stopping at the first hit."""

    name = "email_finder"
    category = "lead_generation"
    trigger = "handoff"
    queue = "crm"
    Input = LeadRef
    Facts = Found
    Output = FinderOutput
    next = ("email_verification",)

    def load(self, ctx: RunContext, data: LeadRef) -> Found:
        lead = Lead.objects.select_related("company").get(pk=data.lead_id)
        if lead.email:
            return Found(lead=lead, skip="the lead has an email already: nothing to find")
        if lead.status == Lead.Status.DISQUALIFIED or lead.do_not_contact or lead.merged_into_id:
            return Found(lead=lead, skip=f"lead is {lead.status}: not worth a paid lookup")
        domain = lead.company.domain if lead.company is not None else None
        if not domain:
            return Found(lead=lead, skip="no company domain to search at", dead_end=True)
        if not (lead.first_name and lead.last_name):
            return Found(lead=lead, skip="a first and a last name are needed to find an address", dead_end=True)
        return Found(lead=lead)

    def fetch(self, ctx: RunContext, found: Found) -> Found:
        """The paid lookups, after the learned guards: a rule learned from a provider's rejections
        (a kind of company it refuses) stops the next lookup before it is billed."""
        lead = found.lead
        if found.skip or lead.company is None or not lead.company.domain:
            return found
        domain = normalize.registrable_domain(lead.company.domain)
        for name in waterfall():
            provider = registrations("email_finder")[name].cls()
            key = f"email_finder:{name}:{domain}:{lead.first_name.lower()}:{lead.last_name.lower()}"
            fresh: list[bool] = []

            def ask(provider: object = provider, name: str = name, fresh: list[bool] = fresh) -> Lookup:
                fresh.append(True)
                hit = provider.find_email(  # type: ignore[attr-defined]
                    first_name=lead.first_name, last_name=lead.last_name, domain=domain
                )
                return Lookup(
                    provider=name,
                    email=hit.email if hit else "",
                    confidence=hit.confidence if hit else 0.0,
                    cost=lookup_cost(name),
                )

            lookup = ctx.cached(key, ask, model=Lookup)
            found.lookups.append(
                lookup.model_copy(update={"cached": not fresh, "cost": lookup.cost if fresh else Decimal("0")})
            )
            if lookup.email:
                break
        return found

    def act(self, ctx: RunContext, facts: Found) -> FinderOutput:
        lead = ctx.lock(facts.lead)
        out = FinderOutput(lookups=facts.lookups, cost=sum((x.cost for x in facts.lookups), Decimal("0")))
        if facts.skip or lead.email:
            out.note = facts.skip or "the lead got an email meanwhile"
            if lead.email and lead.email_status == Lead.EmailStatus.UNKNOWN:
                ctx.handoff("email_verification", {"lead_id": lead.pk})
            elif facts.dead_end:
                self._end(lead, out.note)
            return out
        hit = next((x for x in facts.lookups if x.email), None)
        if hit is None:
            out.note = f"no address found ({', '.join(x.provider for x in facts.lookups)} asked)"
            self._end(lead, out.note)
            return out
        try:
            email = normalize.normalize_email(hit.email)
        except ValueError as exc:
            out.note = f"{hit.provider} answered an unusable address: {exc}"
            self._end(lead, out.note)
            return out
        holder = Lead.objects.filter(email=email).exclude(pk=lead.pk).select_related("company").first()
        if holder is not None:
            if _same_person(lead, holder):
                out.note = f"{email} belongs to lead {holder.pk} already (deduplication's nightly sweep merges them)"
            else:
                out.note = (
                    f"{hit.provider} answered {email}, which is lead {holder.pk}'s ({holder.first_name} "
                    f"{holder.last_name}): a colleague's address, not one of this person's own"
                )
                self._end(lead, out.note)
            return out
        ctx.update(lead, action="lead.email_found", note={"provider": hit.provider}, email=email)
        out.email, out.provider = email, hit.provider
        ctx.handoff("email_verification", {"lead_id": lead.pk})
        return out

    @staticmethod
    def _end(lead: Lead, why: str) -> None:
        """No address of their own: the lead ends here, disqualified with the reason (not left "new")."""
        if lead.status in EARLY:
            lead_disqualify(locked=True, lead=lead, reasons=[f"email_finder: {why}"])


def _same_person(lead: Lead, other: Lead) -> bool:
    """The same name at the same company: one person listed twice (deduplication merges them)."""
    domain = lead.company.domain if lead.company is not None else None
    other_domain = other.company.domain if other.company is not None else (other.email or "").rpartition("@")[2]
    return (
        lead.first_name.lower(),
        lead.last_name.lower(),
        domain,
    ) == (other.first_name.lower(), other.last_name.lower(), other_domain)
