"""Console pages for companies and leads, with the CSV import."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from crm import forms as crm_forms
from crm.models import Company, Enrollment, Lead
from crm.services import imports, lead_flow, leads, suppression
from smarter_team.admin import BaseAdmin, ReadOnlyInline, pretty_json, run_service_action
from smarter_team.admin_scale import DateFilter, LargeTableMixin, RecentValuesFilter, related_count, truncated

# --- companies and leads ------------------------------------------------------------------------


class CompanyLeadInline(ReadOnlyInline):
    model = Lead
    fk_name = "company"
    fields = ("first_name", "last_name", "email", "title", "status", "score")
    verbose_name_plural = "leads at this company"


@admin.register(Company)
class CompanyAdmin(LargeTableMixin, BaseAdmin):
    form = crm_forms.CompanyAdminForm
    list_display = ("short_name", "domain", "industry", "employee_range", "country", "lead_count", "created_at")
    list_filter = (("created_at", DateFilter), ("employee_range", RecentValuesFilter), ("source", RecentValuesFilter))
    search_fields = ("name", "domain")  # trigram-indexed on PostgreSQL (crm 0007)
    autocomplete_fields = ("merged_into",)
    system_fields = ("enrichment_pretty",)
    exclude = ("enrichment",)
    inlines = (CompanyLeadInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return super().get_queryset(request).annotate(lead_total=related_count(Lead, "company"))

    @admin.display(description="name", ordering="name")
    def short_name(self, obj: Company) -> str:
        return truncated(obj.name, 36)

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
class LeadAdmin(LargeTableMixin, BaseAdmin):
    form = crm_forms.LeadAdminForm
    change_list_template = "admin/crm/lead/change_list.html"
    # Fits a 1400 px screen; the title sits under the name, and what only filters need (source,
    # do-not-contact, country, email status) is in the filters.
    list_display = ("person", "short_email", "company_name", "status", "score", "created_at")
    list_select_related = ("company",)
    list_filter = (
        "status",
        ("created_at", DateFilter),
        "email_status",
        "do_not_contact",
        ("source", RecentValuesFilter),
    )
    # Trigram-indexed on PostgreSQL (crm 0007); the company's fields are matched on companies first.
    search_fields = ("email", "first_name", "last_name", "company__name", "company__domain")
    autocomplete_fields = ("company", "icp", "persona", "merged_into")
    system_fields = ("status", "score", "score_reasons_pretty", "research_pretty")
    exclude = ("score_reasons", "research")
    inlines = (LeadEnrollmentInline,)
    actions = ("suppress_leads", "disqualify_leads")

    @admin.display(description="name", ordering="last_name")
    def person(self, obj: Lead) -> str:
        return format_html("{}<div class='quiet'>{}</div>", str(obj), truncated(obj.title, 32))

    @admin.display(description="email", ordering="email")
    def short_email(self, obj: Lead) -> str:
        return truncated(obj.email, 30)

    @admin.display(description="company")
    def company_name(self, obj: Lead) -> str:
        return truncated(str(obj.company) if obj.company_id else "", 24)

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
