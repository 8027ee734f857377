"""Console pages for ideal customer profiles, niches, personas and research reports."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from crm.models import IdealCustomerProfile, Niche, Persona, ResearchReport
from crm.services import research
from smarter_team.admin import BaseAdmin, pretty_json, run_service_action

# --- research -----------------------------------------------------------------------------------


@admin.register(IdealCustomerProfile)
class IdealCustomerProfileAdmin(BaseAdmin):
    list_display = ("name", "active", "niche_count", "lead_count", "created_at")
    list_filter = ("active",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdealCustomerProfile]:
        return (
            super()
            .get_queryset(request)
            .annotate(niche_total=Count("niches", distinct=True), lead_total=Count("leads", distinct=True))
        )

    @admin.display(description="niches", ordering="niche_total")
    def niche_count(self, obj: Any) -> int:
        return int(obj.niche_total)

    @admin.display(description="leads", ordering="lead_total")
    def lead_count(self, obj: Any) -> int:
        return int(obj.lead_total)


@admin.register(Niche)
class NicheAdmin(BaseAdmin):
    list_display = (
        "name",
        "icp",
        "status",
        "demand_score",
        "budget_score",
        "competition_score",
        "reachability_score",
        "total",
        "persona_count",
    )
    list_select_related = ("icp",)
    list_filter = ("status",)
    search_fields = ("name", "description")
    autocomplete_fields = ("icp",)
    system_fields = ("status",)
    actions = ("select_niches", "drop_niches")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Niche]:
        return super().get_queryset(request).annotate(persona_total=Count("personas"))

    @admin.display(description="total score")
    def total(self, obj: Niche) -> int:
        return obj.total_score

    @admin.display(description="personas", ordering="persona_total")
    def persona_count(self, obj: Any) -> int:
        return int(obj.persona_total)

    @admin.action(description="Select the chosen niches")
    def select_niches(self, request: HttpRequest, queryset: QuerySet[Niche]) -> None:
        run_service_action(
            self, request, queryset, lambda n: research.niche_set_status(niche=n, status=Niche.Status.SELECTED)
        )

    @admin.action(description="Drop the chosen niches")
    def drop_niches(self, request: HttpRequest, queryset: QuerySet[Niche]) -> None:
        run_service_action(
            self, request, queryset, lambda n: research.niche_set_status(niche=n, status=Niche.Status.DROPPED)
        )


@admin.register(Persona)
class PersonaAdmin(BaseAdmin):
    list_display = ("name", "niche", "created_at")
    list_select_related = ("niche",)
    search_fields = ("name", "niche__name")
    autocomplete_fields = ("niche",)


@admin.register(ResearchReport)
class ResearchReportAdmin(BaseAdmin):
    list_display = ("subject", "kind", "niche", "company", "lead", "created_at")
    list_select_related = ("niche", "company", "lead")
    list_filter = ("kind",)
    search_fields = ("subject", "summary")
    date_hierarchy = "created_at"
    autocomplete_fields = ("niche", "company", "lead")
    system_fields = ("run", "findings_pretty", "sources_pretty")
    exclude = ("findings", "sources")

    @admin.display(description="findings")
    def findings_pretty(self, obj: ResearchReport) -> str:
        return pretty_json(obj.findings)

    @admin.display(description="sources")
    def sources_pretty(self, obj: ResearchReport) -> str:
        return pretty_json(obj.sources)
