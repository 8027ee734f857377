"""lead_list_builder: search the lead source for each active ICP, then import what the search found.

Two halves, one agent:
- a daily tick (or a handoff from persona_research with ``icp_id``) starts one search per ICP and
  business day, asking for no more than what is left of the ICP's daily quota. Starting a search
  is an external act (an Apify actor run costs money): it goes through the outbox, keyed by ICP and
  day, so two ticks never start two searches;
- the lead source's "run succeeded" webhook (``LeadSearchEvent``) imports the dataset: each item
  becomes a Company and a Lead through ``create_or_update_lead``; a junk or partial row is rejected
  with its reason and never fails the run; each new lead goes to data_validation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import Action
from agents.outbox import register_performer
from agents.registry import register
from crm.models import IdealCustomerProfile, Lead
from crm.services import normalize
from crm.services.leads import LeadDataError, create_or_update_lead
from integrations.values import LeadItem, LeadSearch
from integrations.webhooks.inputs import WebhookRef

SEARCH_ACT = "lead_source.search"


class BuildInput(BaseModel):
    """Empty: the daily tick. ``icp_id``: a handoff. ``search_id`` + ``status``: the webhook."""

    icp_id: int | None = None
    persona_id: int | None = None
    niche_id: int | None = Field(default=None, description="persona_research's handoff: the niche's ICP")
    # LeadSearchEvent's fields (integrations/webhooks/inputs.py), accepted as they come.
    webhook: WebhookRef | None = None
    search_id: str = ""
    status: str = ""
    actor_id: str = ""
    dataset_id: str = ""
    occurred_at: dt.datetime | None = None


class SearchPayload(BaseModel):
    icp_id: int
    persona_id: int | None = None
    query: str
    location: str = ""
    max_items: int = Field(ge=1, le=1000)


class Items(BaseModel):
    items: list[LeadItem] = Field(default_factory=list)


class Plan(Facts):
    """The tick: searches to start. The webhook: the search's ICP and the dataset items."""

    searches: list[SearchPayload] = Field(default_factory=list)
    day: str = ""
    search_id: str = ""
    search_status: str = ""
    icp: IdealCustomerProfile | None = None
    persona_id: int | None = None
    items: list[LeadItem] = Field(default_factory=list)
    provider: str = ""
    note: str = ""


class BuildOutput(BaseModel):
    searches_started: list[int] = Field(default_factory=list, description="ICP ids")
    created: list[int] = Field(default_factory=list)
    existing: int = 0
    rejected: list[str] = Field(default_factory=list, description="row n: reason")
    over_quota: int = 0
    note: str = ""


def daily_quota() -> int:
    return max(0, int(settings.LEAD_LIST_DAILY_QUOTA))


def imported_today(icp: IdealCustomerProfile, day: dt.date) -> int:
    return Lead.objects.filter(icp=icp, source__startswith="lead_source", created_at__date=day).count()


def search_for(icp: IdealCustomerProfile, *, persona_id: int | None, max_items: int) -> SearchPayload:
    """The ICP's search: its first industry (titles narrow it when there is no industry), its first country."""
    query = (icp.industries or icp.titles or [icp.name])[0]
    location = normalize.country_name(icp.countries[0]) if icp.countries else ""
    return SearchPayload(icp_id=icp.pk, persona_id=persona_id, query=str(query), location=location, max_items=max_items)


@register
class LeadListBuilder(Agent[BuildInput, BuildOutput]):
    """Runs the lead source's search per ICP within a daily quota and imports the results as leads."""

    name = "lead_list_builder"
    category = "lead_generation"
    trigger = ("schedule", "handoff", "event")
    queue = "crm"
    schedule = "0 6 * * *"
    Input = BuildInput
    Facts = Plan
    Output = BuildOutput
    next = ("data_validation",)

    def load(self, ctx: RunContext, data: BuildInput) -> Plan:
        if data.search_id:
            return self._load_results(ctx, data)
        day = ctx.now().date()
        icps = IdealCustomerProfile.objects.filter(active=True).order_by("pk")
        if data.icp_id is not None:
            icps = icps.filter(pk=data.icp_id)
        if data.niche_id is not None:
            # A researched niche searches through its ICP (a niche without one has nothing to search for).
            icps = icps.filter(niches__pk=data.niche_id)
        searches = []
        for icp in icps:
            left = daily_quota() - imported_today(icp, day)
            if left > 0:
                searches.append(search_for(icp, persona_id=data.persona_id, max_items=left))
        return Plan(searches=searches, day=day.isoformat())

    def _load_results(self, ctx: RunContext, data: BuildInput) -> Plan:
        started = Action.objects.filter(kind=SEARCH_ACT, result__search_id=data.search_id).first()
        if started is None:
            return Plan(search_id=data.search_id, note=f"search {data.search_id} was not started by us: ignored")
        payload = SearchPayload.model_validate(started.payload)
        icp = IdealCustomerProfile.objects.get(pk=payload.icp_id)
        plan = Plan(search_id=data.search_id, search_status=data.status, icp=icp, persona_id=payload.persona_id)
        if data.status != "succeeded":
            plan.note = f"search {data.search_id} ended {data.status}: nothing to import"
            return plan
        source = ctx.roles.lead_source
        search = LeadSearch(search_id=data.search_id, status="succeeded", dataset_id=data.dataset_id)
        # A retry (or a duplicated webhook) reads the stored dataset instead of paging it again.
        items = ctx.cached(
            f"lead_source:{source.name}:{data.search_id}:items",
            lambda: Items(items=source.fetch_items(search=search, offset=0, limit=payload.max_items)),
            model=Items,
        )
        plan.items, plan.provider = items.items, source.name
        return plan

    def act(self, ctx: RunContext, facts: Plan) -> BuildOutput:
        out = BuildOutput(note=facts.note)
        for search in facts.searches:
            ctx.act(SEARCH_ACT, f"lead_search:icp:{search.icp_id}:{facts.day}", search)
            out.searches_started.append(search.icp_id)
        if facts.icp is not None and facts.items:
            self._import(ctx, facts, out)
        return out

    def _import(self, ctx: RunContext, facts: Plan, out: BuildOutput) -> None:
        assert facts.icp is not None
        icp = facts.icp
        left = daily_quota() - imported_today(icp, ctx.now().date())
        excluded = [str(e).lower() for e in icp.exclusions or [] if str(e).strip()]
        for n, item in enumerate(facts.items, start=1):
            reason = row_problem(item, excluded)
            if reason:
                out.rejected.append(f"row {n}: {reason}")
                continue
            try:
                with transaction.atomic():
                    result = create_or_update_lead(data=lead_data(item, facts.provider), overwrite=False)
                    if result.created and left <= 0:
                        raise _OverQuota  # rolls the new row back: the quota holds for the day
            except _OverQuota:
                out.over_quota += 1
                continue
            except LeadDataError as exc:
                out.rejected.append(f"row {n}: {exc}")
                continue
            except DatabaseError as exc:
                out.rejected.append(f"row {n}: not stored ({exc.__class__.__name__})")
                continue
            lead = result.lead
            if not result.created:
                out.existing += 1
                continue
            left -= 1
            ctx.update(lead, action="lead.sourced", icp=icp, persona_id=facts.persona_id)
            if lead.company is not None:
                keep_dataset_fields(ctx, lead.company, item, facts.provider)
            ctx.handoff("data_validation", {"lead_id": lead.pk})
            out.created.append(lead.pk)


class _OverQuota(Exception):
    pass


def row_problem(item: LeadItem, excluded: list[str]) -> str:
    """Why a dataset row cannot become a lead ("" when it can)."""
    name = f"{item.first_name} {item.last_name}".strip()
    if not name and not item.email and not item.linkedin_url:
        return "no name, email or LinkedIn profile: nobody to contact"
    if not (item.domain or item.website or item.email):
        return "no company domain, website or email: the company cannot be identified"
    haystack = " ".join((item.domain, item.website, item.company_name, item.industry)).lower()
    hit = next((e for e in excluded if e in haystack), None)
    if hit:
        return f"excluded by the ICP ({hit!r})"
    return ""


def _employee_range(raw: Any) -> str:
    try:
        count = int(raw)
    except (TypeError, ValueError):
        return ""
    for low, high in ((1, 10), (11, 50), (51, 200), (201, 500), (501, 1000), (1001, 5000)):
        if count <= high:
            return f"{low}-{high}"
    return "5001+"


def _revenue_band(raw: Any) -> str:
    try:
        revenue = int(raw)
    except (TypeError, ValueError):
        return ""
    for limit, band in ((1_000_000, "<1M"), (10_000_000, "1M-10M"), (50_000_000, "10M-50M")):
        if revenue < limit:
            return band
    return "50M+"


def lead_data(item: LeadItem, provider: str) -> dict[str, Any]:
    """A dataset item as ``create_or_update_lead`` data."""
    raw = item.raw or {}
    country = item.location.rpartition(",")[2].strip() if item.location else ""
    domain = item.domain or item.website
    ref = item.linkedin_url or f"{domain}:{item.first_name}:{item.last_name}".lower()
    return {
        "first_name": item.first_name,
        "last_name": item.last_name,
        "title": item.title,
        "seniority": str(raw.get("seniority") or ""),
        "email": item.email,
        "phone": item.phone,
        "linkedin_url": item.linkedin_url,
        "country": country,
        "time_zone": str(raw.get("timezone") or ""),
        "company_name": item.company_name,
        "domain": domain,
        "industry": item.industry,
        "employee_range": _employee_range(raw.get("employees")),
        "revenue_band": _revenue_band(raw.get("annual_revenue")),
        "source": f"lead_source:{provider}"[:64],
        "source_ref": ref[:255],
    }


def keep_dataset_fields(ctx: RunContext, company: Any, item: LeadItem, provider: str) -> None:
    """The dataset's firmographics on the company, with their source and when they were read
    (lead_enrichment fills gaps from them)."""
    if company.enrichment.get("lead_source"):
        return
    entry = {
        "source": f"lead_source:{provider}",
        "fetched_at": ctx.now().isoformat(),
        "data": {"industry": item.industry, "location": item.location, **(item.raw or {})},
    }
    ctx.update(company, action="company.dataset_kept", enrichment={**company.enrichment, "lead_source": entry})


@register_performer(SEARCH_ACT, payload=SearchPayload, contacts=())
class StartSearch:
    """Start the lead source's search; its "succeeded" webhook brings the run back to import."""

    def perform(self, payload: SearchPayload, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        search = get_role("lead_source").run_search(
            query=payload.query, location=payload.location, max_items=payload.max_items
        )
        return {"search_id": search.search_id, "dataset_id": search.dataset_id, "status": search.status}
