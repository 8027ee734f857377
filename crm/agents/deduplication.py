"""deduplication: merge duplicate leads (same email, or same name at the same domain) and companies
(same domain), keeping history: the duplicate stays, marked ``merged_into`` the survivor, everything
pointing at it moves over, and every merge is in the AuditLog with before and after.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from pydantic import BaseModel, Field

from agents import registry
from agents.base import Agent
from agents.context import RunContext
from agents.registry import register
from agents.services.audit import record_change
from crm.models import Company, Lead
from crm.services.leads import lead_set_status
from crm.services.reference_data import FREE_MAIL_DOMAINS

# The surviving row: the live one furthest along the funnel (its id is what people and integrations
# know). Dead ends rank last; their history moves over anyway, and an opt-out always carries over.
_FUNNEL = ("new", "enriched", "verified", "qualified", "contacted", "replied", "interested", "meeting_booked",
           "proposal_sent", "won")  # fmt: skip
STATUS_RANK = {status: _FUNNEL.index(status) if status in _FUNNEL else -1 for status in Lead.Status.values}
LEAD_FILL = (
    "email",
    "first_name",
    "last_name",
    "title",
    "seniority",
    "linkedin_url",
    "phone",
    "country",
    "time_zone",
    "company_id",
    "source",
    "source_ref",
)
COMPANY_FILL = ("domain", "industry", "employee_range", "revenue_band", "country", "description")
SCAN_LIMIT = 500
NEXT_AGENT = "email_finder"


class DedupInput(BaseModel):
    lead_id: int | None = None
    company_id: int | None = None
    email: str | None = Field(default=None, description="a normalised address another lead already holds")
    domain: str | None = Field(default=None, description="a normalised domain another company already holds")


class DedupOutput(BaseModel):
    merged_leads: list[tuple[int, int]] = Field(default_factory=list, description="(duplicate, survivor)")
    merged_companies: list[tuple[int, int]] = Field(default_factory=list, description="(duplicate, survivor)")
    skipped_relations: list[str] = Field(default_factory=list)


def _snapshot(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


@register
class Deduplication(Agent[DedupInput, DedupOutput]):
    """Merges duplicate leads and companies, keeping history."""

    name = "deduplication"
    category = "lead_generation"
    trigger = ("handoff", "schedule")
    queue = "crm"
    schedule = "30 3 * * *"  # nightly sweep for duplicates that arrived by other paths
    Input = DedupInput
    Output = DedupOutput

    def run(self, ctx: RunContext, data: DedupInput) -> DedupOutput:
        out = DedupOutput()
        if data.company_id is not None:
            self._dedupe_company(ctx, data.company_id, data.domain, out)
        if data.lead_id is not None:
            survivor = self._dedupe_lead(ctx, data.lead_id, data.email, out)
            if survivor is not None and registry.is_registered(NEXT_AGENT):
                ctx.handoff(NEXT_AGENT, {"lead_id": survivor.pk})
        if data.lead_id is None and data.company_id is None:
            self._scan(ctx, out)
        return out

    # --- leads -----------------------------------------------------------------------------------

    def _dedupe_lead(self, ctx: RunContext, lead_id: int, email: str | None, out: DedupOutput) -> Lead | None:
        lead = Lead.objects.select_for_update(of=("self",)).select_related("company").get(pk=lead_id)
        while lead.merged_into_id is not None:
            lead = Lead.objects.select_for_update(of=("self",)).select_related("company").get(pk=lead.merged_into_id)
        match = Q(email=email or lead.email) if (email or lead.email) else Q(pk__in=[])
        domain = self._domain_of(lead)
        if domain and lead.first_name and lead.last_name:
            match |= Q(first_name__iexact=lead.first_name, last_name__iexact=lead.last_name) & (
                Q(company__domain=domain) | Q(email__endswith=f"@{domain}")
            )
        others = list(
            Lead.objects.select_for_update(of=("self",))
            .filter(match, merged_into__isnull=True)
            .exclude(pk=lead.pk)
            .order_by("pk")
        )
        survivor = lead
        for other in others:
            keep, drop = self._pick(survivor, other)
            self._merge_lead(ctx, drop, keep, out)
            survivor = keep
        return survivor

    @staticmethod
    def _domain_of(lead: Lead) -> str | None:
        if lead.company is not None and lead.company.domain:
            return lead.company.domain
        if lead.email:
            domain = lead.email.rpartition("@")[2]
            return None if domain in FREE_MAIL_DOMAINS else domain
        return None

    @staticmethod
    def _pick(a: Lead, b: Lead) -> tuple[Lead, Lead]:
        """(survivor, duplicate): the further along in the funnel, then the one with an email, then the older."""
        key_a = (STATUS_RANK[a.status], bool(a.email), -a.pk)
        key_b = (STATUS_RANK[b.status], bool(b.email), -b.pk)
        return (a, b) if key_a >= key_b else (b, a)

    def _merge_lead(self, ctx: RunContext, drop: Lead, keep: Lead, out: DedupOutput) -> None:
        before_drop, before_keep = _snapshot(drop, LEAD_FILL), _snapshot(keep, LEAD_FILL)
        filled = [f for f in LEAD_FILL if not getattr(keep, f) and getattr(drop, f)]
        if "email" in filled:
            # The address is unique: release it on the duplicate before the survivor takes it.
            Lead.objects.filter(pk=drop.pk).update(email=None)
        for f in filled:
            setattr(keep, f, getattr(drop, f))
        if filled:
            keep.save(update_fields=[f.removesuffix("_id") for f in filled])
        out.skipped_relations += _repoint(Lead, drop, keep)
        # An opt-out on either row binds the person: never contact the survivor either.
        if drop.status == Lead.Status.UNSUBSCRIBED:
            lead_set_status(
                lead=keep, status=Lead.Status.UNSUBSCRIBED, reason=f"merged with unsubscribed lead {drop.pk}"
            )
        elif drop.do_not_contact and not keep.do_not_contact:
            keep.do_not_contact = True
            keep.save(update_fields=["do_not_contact"])
        drop.email = None if "email" in filled else drop.email
        drop.merged_into = keep
        drop.do_not_contact = True
        drop.save(update_fields=["merged_into", "do_not_contact"])
        record_change(
            action="lead.merged", target=drop, before=before_drop, after={"merged_into": keep.pk}, run=ctx.run
        )
        record_change(
            action="lead.merge_survivor",
            target=keep,
            before={f: before_keep[f] for f in filled} | {"absorbed": None},
            after={f: getattr(keep, f) for f in filled} | {"absorbed": drop.pk},
            run=ctx.run,
        )
        out.merged_leads.append((drop.pk, keep.pk))

    # --- companies -------------------------------------------------------------------------------

    def _dedupe_company(self, ctx: RunContext, company_id: int, domain: str | None, out: DedupOutput) -> None:
        company = Company.objects.select_for_update().get(pk=company_id)
        domain = domain or company.domain
        if company.merged_into_id is not None or not domain:
            return
        owner = (
            Company.objects.select_for_update().filter(domain=domain, merged_into__isnull=True).exclude(pk=company.pk)
        )
        other = owner.first()
        if other is not None:
            # The row holding the domain survives: the domain is what identifies a company.
            self._merge_company(ctx, company, other, out)

    def _merge_company(self, ctx: RunContext, drop: Company, keep: Company, out: DedupOutput) -> None:
        before_drop, before_keep = _snapshot(drop, COMPANY_FILL), _snapshot(keep, COMPANY_FILL)
        filled = [f for f in COMPANY_FILL if not getattr(keep, f) and getattr(drop, f)]
        if "domain" in filled:
            Company.objects.filter(pk=drop.pk).update(domain=None)
        for f in filled:
            setattr(keep, f, getattr(drop, f))
        if filled:
            keep.save(update_fields=filled)
        out.skipped_relations += _repoint(Company, drop, keep)
        drop.merged_into = keep
        drop.save(update_fields=["merged_into"])
        record_change(
            action="company.merged", target=drop, before=before_drop, after={"merged_into": keep.pk}, run=ctx.run
        )
        record_change(
            action="company.merge_survivor",
            target=keep,
            before={f: before_keep[f] for f in filled} | {"absorbed": None},
            after={f: getattr(keep, f) for f in filled} | {"absorbed": drop.pk},
            run=ctx.run,
        )
        out.merged_companies.append((drop.pk, keep.pk))

    # --- the nightly sweep -----------------------------------------------------------------------

    def _scan(self, ctx: RunContext, out: DedupOutput) -> None:
        groups = (
            Lead.objects.filter(merged_into__isnull=True, company__domain__isnull=False)
            .exclude(first_name="")
            .exclude(last_name="")
            .annotate(first=Lower("first_name"), last=Lower("last_name"))
            .values("first", "last", "company_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("company_id")[:SCAN_LIMIT]
        )
        for group in groups:
            lead = (
                Lead.objects.filter(
                    company_id=group["company_id"],
                    first_name__iexact=group["first"],
                    last_name__iexact=group["last"],
                    merged_into__isnull=True,
                )
                .order_by("pk")
                .first()
            )
            if lead is not None:
                self._dedupe_lead(ctx, lead.pk, None, out)


def _repoint(model: type[models.Model], drop: models.Model, keep: models.Model) -> list[str]:
    """Move every row pointing at ``drop`` to ``keep``. A row that cannot move without breaking a
    unique constraint (the survivor already has its own) stays on the duplicate, which is kept."""
    skipped: list[str] = []
    for rel in model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        field_name = rel.field.name
        manager = rel.related_model._base_manager
        rows = manager.filter(**{field_name: drop.pk})
        try:
            with transaction.atomic():
                rows.update(**{field_name: keep.pk})
        except IntegrityError:
            for pk in list(rows.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        manager.filter(pk=pk).update(**{field_name: keep.pk})
                except IntegrityError:
                    skipped.append(f"{rel.related_model._meta.label}#{pk}")
    return skipped
