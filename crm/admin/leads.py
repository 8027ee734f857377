"""Console pages for companies and leads, with the CSV import."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from crm import forms as crm_forms
from crm.models import Company, Enrollment, Lead
from crm.services import imports, lead_flow, leads, suppression
from smarter_team.admin import BaseAdmin, ReadOnlyInline, pretty_json, run_service_action

# --- companies and leads ------------------------------------------------------------------------


class CompanyLeadInline(ReadOnlyInline):
    model = Lead
    fk_name = "company"
    fields = ("first_name", "last_name", "email", "title", "status", "score")
    verbose_name_plural = "leads at this company"


@admin.register(Company)
class CompanyAdmin(BaseAdmin):
    form = crm_forms.CompanyAdminForm
    list_display = ("name", "domain", "industry", "employee_range", "country", "lead_count", "source", "created_at")
    list_filter = ("employee_range", "source")
    search_fields = ("name", "domain")
    date_hierarchy = "created_at"
    autocomplete_fields = ("merged_into",)
    system_fields = ("enrichment_pretty",)
    exclude = ("enrichment",)
    inlines = (CompanyLeadInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return super().get_queryset(request).annotate(lead_total=Count("leads"))

    @admin.display(description="leads", ordering="lead_total")
    def lead_count(self, obj: Any) -> int:
        return int(obj.lead_total)

    @admin.display(description="enrichment")
    def enrichment_pretty(self, obj: Company) -> str:
        return pretty_json(obj.enrichment)


class LeadEnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fields = ("campaign", "status", "current_step", "next_send_at", "stopped_reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        return super().get_queryset(request).select_related("campaign", "lead")  # both in __str__


@admin.register(Lead)
class LeadAdmin(BaseAdmin):
    form = crm_forms.LeadAdminForm
    change_list_template = "admin/crm/lead/change_list.html"
    list_display = (
        "__str__",
        "email",
        "company",
        "title",
        "status",
        "email_status",
        "score",
        "do_not_contact",
        "country",
        "source",
        "created_at",
    )
    list_select_related = ("company",)
    list_filter = ("status", "email_status", "do_not_contact", "source")
    search_fields = ("email", "first_name", "last_name", "company__name", "company__domain", "linkedin_url")
    date_hierarchy = "created_at"
    autocomplete_fields = ("company", "icp", "persona", "merged_into")
    system_fields = ("status", "score", "score_reasons_pretty", "research_pretty")
    exclude = ("score_reasons", "research")
    inlines = (LeadEnrollmentInline,)
    actions = ("suppress_leads", "disqualify_leads")

    @admin.display(description="score reasons")
    def score_reasons_pretty(self, obj: Lead) -> str:
        return pretty_json(obj.score_reasons)

    @admin.display(description="research")
    def research_pretty(self, obj: Lead) -> str:
        return pretty_json(obj.research)

    @admin.action(description="Suppress the chosen leads (never contact again)")
    def suppress_leads(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        source = f"admin:{request.user}"[:64]
        run_service_action(self, request, queryset, lambda lead: self._suppress_one(lead, source))

    @staticmethod
    def _suppress_one(lead: Lead, source: str) -> None:
        if lead.email:
            suppression.suppress(email_or_domain=lead.email, reason="manual", source=source)
        else:
            leads.lead_set_status(lead=lead, status=Lead.Status.UNSUBSCRIBED, reason=source)

    @admin.action(description="Disqualify the chosen leads")
    def disqualify_leads(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        why = f"disqualified by {request.user} in the console"
        run_service_action(self, request, queryset, lambda lead: leads.lead_disqualify(lead=lead, reasons=[why]))

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # A lead typed in by hand enters the same chain as a sourced one.
            lead_flow.lead_entered(lead=obj, source="admin")

    def get_urls(self) -> list[URLPattern]:
        own = [path("import-csv/", self.admin_site.admin_view(self.import_csv_view), name="crm_lead_import_csv")]
        return own + super().get_urls()

    def import_csv_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied("adding leads is not allowed for this user")
        report = None
        form = crm_forms.LeadImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = imports.import_leads_csv(
                file=form.cleaned_data["file"],
                source=form.cleaned_data["source"],
                overwrite=form.cleaned_data["overwrite"],
                user=request.user,  # type: ignore[arg-type]
            )
            # Rejected rows, or a file that changed nothing, are not a green success.
            level = messages.SUCCESS if (report.created or report.updated) and not report.errors else messages.WARNING
            self.message_user(request, f"Import: {report.summary()}", level=level)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "report": report}
        context["title"] = "Import leads from CSV"
        return TemplateResponse(request, "admin/crm/lead/import_csv.html", context)
