"""deduplication: merge duplicate leads (same email, or same name at the same domain) and companies
(same domain), keeping history: the duplicate stays, marked ``merged_into`` the survivor, everything
pointing at it moves over, and every merge is in the AuditLog with before and after.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Company, Lead
from crm.services.leads import lead_set_status
from crm.services.reference_data import FREE_MAIL_DOMAINS

M = TypeVar("M", Lead, Company)  # what is merged: a lead or a company

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


class DedupInput(BaseModel):
    lead_id: int | None = None
    company_id: int | None = None
    email: str | None = Field(default=None, description="a normalised address another lead already holds")
    domain: str | None = Field(default=None, description="a normalised domain another company already holds")


class DedupOutput(BaseModel):
    merged_leads: list[tuple[int, int]] = Field(default_factory=list, description="(duplicate, survivor)")
    merged_companies: list[tuple[int, int]] = Field(default_factory=list, description="(duplicate, survivor)")
    skipped_relations: list[str] = Field(default_factory=list)


class Targets(Facts):
    """The lead and/or company to deduplicate (the lead as its live survivor); neither: the nightly sweep."""

    lead: Lead | None = None
    company: Company | None = None
    email: str | None = None
    domain: str | None = None


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
    Facts = Targets
    Output = DedupOutput
    next = ("email_finder",)

    def load(self, ctx: RunContext, data: DedupInput) -> Targets:
        lead = None
        if data.lead_id is not None:
            lead = Lead.objects.select_related("company").get(pk=data.lead_id)
            while lead.merged_into_id is not None:
                lead = Lead.objects.select_related("company").get(pk=lead.merged_into_id)
        company = Company.objects.get(pk=data.company_id) if data.company_id is not None else None
        return Targets(lead=lead, company=company, email=data.email, domain=data.domain)

    def act(self, ctx: RunContext, facts: Targets) -> DedupOutput:
        out = DedupOutput()
        if facts.company is not None:
            self._dedupe_company(ctx, ctx.lock(facts.company), facts.domain, out)
        if facts.lead is not None:
            survivor = self._dedupe_lead(ctx, ctx.lock(facts.lead), facts.email, out)
            ctx.handoff("email_finder", {"lead_id": survivor.pk})
        if facts.lead is None and facts.company is None:
            self._scan(ctx, out)
        return out

    # --- leads -----------------------------------------------------------------------------------

    def _dedupe_lead(self, ctx: RunContext, lead: Lead, email: str | None, out: DedupOutput) -> Lead:
        match = Q(email=email or lead.email) if (email or lead.email) else Q(pk__in=[])
        domain = self._domain_of(lead)
        if domain and lead.first_name and lead.last_name:
            # The lowered last name is what lead_name_company indexes: the name is looked up among its
            # namesakes, not among every lead (last_name__iexact compiles to UPPER(), which no index
            # has, and made each new lead read all the others).
            match |= Q(last_lower=lead.last_name.lower(), first_name__iexact=lead.first_name) & (
                Q(company__domain=domain) | Q(email__endswith=f"@{domain}")
            )
        others = list(
            Lead.objects.select_for_update(of=("self",))
            .annotate(last_lower=Lower("last_name"))
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
        before_drop = _absorb(ctx, drop, keep, fill=LEAD_FILL, unique="email", out=out)
        # An opt-out on either row binds the person: never contact the survivor either.
        if drop.status == Lead.Status.UNSUBSCRIBED:
            lead_set_status(
                lead=keep, status=Lead.Status.UNSUBSCRIBED, reason=f"merged with unsubscribed lead {drop.pk}"
            )
        elif drop.do_not_contact:
            ctx.update(keep, action="lead.do_not_contact", do_not_contact=True)
        ctx.update(
            drop, action="lead.merged", note={"was": _jsonable(before_drop)}, merged_into=keep, do_not_contact=True
        )
        out.merged_leads.append((drop.pk, keep.pk))

    # --- companies -------------------------------------------------------------------------------

    def _dedupe_company(self, ctx: RunContext, company: Company, domain: str | None, out: DedupOutput) -> None:
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
        before_drop = _absorb(ctx, drop, keep, fill=COMPANY_FILL, unique="domain", out=out)
        ctx.update(drop, action="company.merged", note={"was": _jsonable(before_drop)}, merged_into=keep)
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
                self._dedupe_lead(ctx, ctx.lock(lead), None, out)


def _absorb(
    ctx: RunContext, drop: M, keep: M, *, fill: tuple[str, ...], unique: str, out: DedupOutput
) -> dict[str, Any]:
    """The survivor takes what only the duplicate knows (the ``fill`` fields it lacks) and every row
    pointing at the duplicate; returns the duplicate's ``fill`` fields as they were, for its audit.
    The ``unique`` field (a lead's address, a company's domain) is released on the duplicate first,
    so the survivor can take it without breaking the constraint."""
    before = _snapshot(drop, fill)
    filled = {f: getattr(drop, f) for f in fill if not getattr(keep, f) and getattr(drop, f)}
    if unique in filled:
        type(drop)._default_manager.filter(pk=drop.pk).update(**{unique: None})
        setattr(drop, unique, None)
    label = type(drop)._meta.model_name
    ctx.update(keep, action=f"{label}.merge_survivor", note={"absorbed": drop.pk}, **filled)
    out.skipped_relations += _repoint(type(drop), drop, keep)
    return before


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in values.items()}


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
