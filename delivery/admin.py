"""Operations console for onboarding, projects, quality, retention and offboarding.

Statuses are read-only: the actions move them through the services. Rows that agents compute
(health snapshots, QA verdicts) are created through their services too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from delivery.models import (
    ChangeRequest,
    ChurnRiskAssessment,
    ClientAccess,
    ClientReport,
    Deliverable,
    HealthSnapshot,
    Milestone,
    Offboarding,
    Onboarding,
    OnboardingTask,
    Project,
    ProjectTask,
    QAReview,
    SurveyResponse,
    UpsellOpportunity,
)
from delivery.services import accesses, offboarding, onboarding, projects, retention
from smarter_team.admin import (
    AppendOnlyAdmin,
    BaseAdmin,
    CreateThroughServiceMixin,
    ReadOnlyInline,
    TabularInline,
    console_formfield,
    currency_code,
    run_service_action,
)


def _status_action(service: Callable[..., object], keyword: str, status: str, description: str) -> Any:
    """An admin action that moves the selected rows to ``status`` through ``service``."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        run_service_action(
            modeladmin, request, queryset, lambda obj: service(**{keyword: obj, "status": status}), description
        )

    action.__name__ = f"to_{status}"
    return admin.action(description=f"Mark {status.replace('_', ' ')}")(action)


# --- onboarding -------------------------------------------------------------------------------


class OnboardingTaskInline(TabularInline):
    model = OnboardingTask
    extra = 0
    fields = ("order", "item", "external_id", "done_at")
    readonly_fields = ("done_at",)


@admin.register(Onboarding)
class OnboardingAdmin(BaseAdmin):
    list_display = ("client", "status", "progress", "started_at", "last_progress_at", "nudges_sent", "completed_at")
    list_select_related = ("client__company",)
    list_filter = ("status",)
    search_fields = ("client__company__name", "client__company__domain")
    date_hierarchy = "started_at"
    autocomplete_fields = ("client",)
    system_fields = ("status", "started_at", "completed_at", "last_progress_at", "nudges_sent")
    inlines = (OnboardingTaskInline,)
    actions = ("mark_stuck", "cancel")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Onboarding]:
        return (
            super()
            .get_queryset(request)
            .annotate(tasks_total=Count("tasks"), tasks_done=Count("tasks", filter=Q(tasks__done_at__isnull=False)))
        )

    @admin.display(description="tasks done")
    def progress(self, obj: Any) -> str:
        return f"{obj.tasks_done}/{obj.tasks_total}"

    @admin.action(description="Mark stuck")
    def mark_stuck(self, request: HttpRequest, queryset: QuerySet[Onboarding]) -> None:
        run_service_action(
            self, request, queryset, lambda o: onboarding.mark_onboarding_stuck(onboarding=o), "Marked stuck"
        )

    @admin.action(description="Cancel")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Onboarding]) -> None:
        run_service_action(self, request, queryset, lambda o: onboarding.cancel_onboarding(onboarding=o), "Canceled")


@admin.register(OnboardingTask)
class OnboardingTaskAdmin(BaseAdmin):
    list_display = ("item", "onboarding", "order", "done_at")
    list_select_related = ("onboarding__client__company",)
    search_fields = ("item", "onboarding__client__company__name")
    autocomplete_fields = ("onboarding",)
    system_fields = ("done_at",)
    actions = ("complete",)

    @admin.action(description="Mark done")
    def complete(self, request: HttpRequest, queryset: QuerySet[OnboardingTask]) -> None:
        run_service_action(
            self, request, queryset, lambda t: onboarding.complete_onboarding_task(task=t), "Marked done"
        )


# --- projects and quality ---------------------------------------------------------------------


class MilestoneInline(TabularInline):
    model = Milestone
    extra = 0
    fields = ("order", "name", "due_on", "status", "amount")
    readonly_fields = ("status",)
    show_change_link = True


class ProjectTaskInline(ReadOnlyInline):
    model = ProjectTask
    fields = ("title", "milestone", "status", "pm_status", "estimate_hours", "due_on", "done_at")
    readonly_fields = fields


@admin.register(ProjectTask)
class ProjectTaskAdmin(BaseAdmin):
    """Planned by project_management, kept in step with the PM tool by progress_tracking: read here,
    changed in the tool."""

    list_display = ("title", "project", "milestone", "kind", "status", "pm_status", "estimate_hours", "due_on")
    list_select_related = ("project", "milestone")
    list_filter = ("status", "kind")
    search_fields = ("title", "key", "external_id", "project__name")
    date_hierarchy = "due_on"
    autocomplete_fields = ("project", "milestone")
    system_fields = ("status", "pm_status", "external_id", "done_at", "synced_at")


@admin.register(Project)
class ProjectAdmin(BaseAdmin):
    list_display = ("name", "client", "status", "starts_on", "due_on", "committed_hours")
    list_select_related = ("client__company",)
    list_filter = ("status",)
    search_fields = ("name", "pm_tool_id", "client__company__name")
    date_hierarchy = "due_on"
    autocomplete_fields = ("client", "proposal")
    system_fields = ("status",)
    inlines = (MilestoneInline, ProjectTaskInline)
    actions = tuple(
        _status_action(projects.change_project_status, "project", status, "Moved")
        for status in (Project.Status.ACTIVE, Project.Status.ON_HOLD, Project.Status.COMPLETED, Project.Status.CANCELED)
    )


class DeliverableInline(TabularInline):
    model = Deliverable
    extra = 0
    fields = ("name", "url", "status")
    readonly_fields = ("status",)
    show_change_link = True


@admin.register(Milestone)
class MilestoneAdmin(BaseAdmin):
    list_display = ("name", "project", "order", "status", "due_on", "amount")
    list_select_related = ("project",)
    list_filter = ("status",)
    search_fields = ("name", "project__name")
    date_hierarchy = "due_on"
    autocomplete_fields = ("project",)
    system_fields = ("status",)
    inlines = (DeliverableInline,)
    actions = tuple(
        _status_action(projects.change_milestone_status, "milestone", status, "Moved")
        for status in (
            Milestone.Status.IN_PROGRESS,
            Milestone.Status.AT_RISK,
            Milestone.Status.DONE,
            Milestone.Status.ACCEPTED,
        )
    )


class QAReviewInline(ReadOnlyInline):
    model = QAReview
    fields = ("verdict", "reviewer", "findings", "created_at")
    readonly_fields = fields


@admin.register(Deliverable)
class DeliverableAdmin(BaseAdmin):
    list_display = ("name", "milestone", "status", "updated_at")
    list_select_related = ("milestone",)
    list_filter = ("status",)
    search_fields = ("name", "milestone__name", "milestone__project__name")
    autocomplete_fields = ("milestone",)
    system_fields = ("status",)
    inlines = (QAReviewInline,)
    actions = ("submit_for_qa", "mark_delivered")

    @admin.action(description="Submit for QA")
    def submit_for_qa(self, request: HttpRequest, queryset: QuerySet[Deliverable]) -> None:
        run_service_action(
            self, request, queryset, lambda d: projects.submit_deliverable_for_qa(deliverable=d), "Ready for QA"
        )

    @admin.action(description="Mark delivered")
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Deliverable]) -> None:
        run_service_action(
            self, request, queryset, lambda d: projects.mark_deliverable_delivered(deliverable=d), "Delivered"
        )


@admin.register(QAReview)
class QAReviewAdmin(CreateThroughServiceMixin, BaseAdmin):
    """A verdict moves its deliverable (approved or rejected), so adding one goes through the service."""

    list_display = ("deliverable", "verdict", "reviewer", "created_at")
    list_select_related = ("deliverable",)
    list_filter = ("verdict",)
    search_fields = ("deliverable__name", "reviewer")
    autocomplete_fields = ("deliverable",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a verdict is a record; a new review supersedes it

    def create_through_service(self, request: HttpRequest, form: Any) -> QAReview:
        data = form.cleaned_data
        return projects.record_qa_review(
            deliverable=data["deliverable"],
            verdict=data["verdict"],
            findings=data.get("findings") or [],
            reviewer=data.get("reviewer", ""),
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            # A verdict is only possible on a deliverable waiting for QA: say so before saving.
            field = form.base_fields["deliverable"]
            field.help_text = "Only deliverables that are ready for QA can be reviewed."
        return form


class ChangeRequestForm(forms.ModelForm):
    class Meta:
        model = ChangeRequest
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))


@admin.register(ChangeRequest)
class ChangeRequestAdmin(BaseAdmin):
    form = ChangeRequestForm
    list_display = ("short_description", "project", "status", "price", "currency", "created_at")
    list_select_related = ("project",)
    list_filter = ("status",)
    search_fields = ("description", "project__name")
    autocomplete_fields = ("project",)
    raw_id_fields = ("source_message",)
    system_fields = ("status",)
    actions = tuple(
        _status_action(projects.change_change_request_status, "change_request", status, "Moved")
        for status in (
            ChangeRequest.Status.PRICED,
            ChangeRequest.Status.AWAITING_APPROVAL,
            ChangeRequest.Status.APPROVED,
            ChangeRequest.Status.REJECTED,
        )
    )

    @admin.display(description="description")
    def short_description(self, obj: ChangeRequest) -> str:
        return obj.description[:80]


# --- retention --------------------------------------------------------------------------------


@admin.register(ClientReport)
class ClientReportAdmin(BaseAdmin):
    list_display = ("client", "period_start", "period_end", "sent_at")
    list_select_related = ("client__company",)
    search_fields = ("client__company__name",)
    date_hierarchy = "period_start"
    autocomplete_fields = ("client",)
    system_fields = ("sent_at",)


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(AppendOnlyAdmin):
    """Computed daily by the health agent; a hand-made snapshot would skew the churn model."""

    list_display = ("client", "taken_on", "score")
    list_select_related = ("client__company",)
    search_fields = ("client__company__name",)
    date_hierarchy = "taken_on"


@admin.register(ChurnRiskAssessment)
class ChurnRiskAssessmentAdmin(BaseAdmin):
    list_display = ("client", "level", "snapshot", "created_at")
    list_select_related = ("client__company", "snapshot__client__company")
    list_filter = ("level",)
    search_fields = ("client__company__name",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("client",)
    raw_id_fields = ("snapshot",)


class UpsellForm(forms.ModelForm):
    class Meta:
        model = UpsellOpportunity
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean_currency(self) -> str:
        return currency_code(self.cleaned_data.get("currency", ""))


@admin.register(UpsellOpportunity)
class UpsellOpportunityAdmin(BaseAdmin):
    form = UpsellForm
    list_display = ("title", "client", "status", "estimated_value", "currency")
    list_select_related = ("client__company",)
    list_filter = ("status",)
    search_fields = ("title", "client__company__name")
    autocomplete_fields = ("client", "proposal")
    system_fields = ("status",)
    actions = tuple(
        _status_action(retention.change_upsell_status, "upsell", status, "Moved")
        for status in (UpsellOpportunity.Status.PROPOSED, UpsellOpportunity.Status.WON, UpsellOpportunity.Status.LOST)
    )


class SurveyResponseForm(forms.ModelForm):
    class Meta:
        model = SurveyResponse
        formfield_callback = console_formfield
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (get_fields, readonly)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, score = data.get("kind"), data.get("score")
        scale: dict[str, tuple[int, int]] = {SurveyResponse.Kind.NPS: (0, 10), SurveyResponse.Kind.CSAT: (1, 5)}
        if score is not None and kind in scale and not scale[kind][0] <= score <= scale[kind][1]:
            self.add_error("score", f"A {kind.upper()} score is between {scale[kind][0]} and {scale[kind][1]}.")
        return data


@admin.register(SurveyResponse)
class SurveyResponseAdmin(BaseAdmin):
    form = SurveyResponseForm
    list_display = ("client", "kind", "score", "sent_at", "responded_at")
    list_select_related = ("client__company",)
    list_filter = ("kind",)
    search_fields = ("client__company__name", "analysis")
    date_hierarchy = "responded_at"
    autocomplete_fields = ("client",)


# --- offboarding ------------------------------------------------------------------------------


@admin.register(Offboarding)
class OffboardingAdmin(BaseAdmin):
    list_display = ("client", "status", "checklist_progress", "access_revoked_at", "reactivation_after", "completed_at")
    list_select_related = ("client__company",)
    list_filter = ("status",)
    search_fields = ("client__company__name", "reason")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client",)
    system_fields = ("status", "access_revoked_at", "completed_at")
    actions = ("revoke_access", "complete")

    @admin.display(description="checklist")
    def checklist_progress(self, obj: Offboarding) -> str:
        items = obj.checklist or []
        return f"{sum(1 for e in items if e.get('done_at'))}/{len(items)}"

    @admin.action(description="Record access revoked")
    def revoke_access(self, request: HttpRequest, queryset: QuerySet[Offboarding]) -> None:
        run_service_action(
            self, request, queryset, lambda o: offboarding.record_access_revoked(offboarding=o), "Access revoked"
        )

    @admin.action(description="Complete")
    def complete(self, request: HttpRequest, queryset: QuerySet[Offboarding]) -> None:
        run_service_action(
            self, request, queryset, lambda o: offboarding.complete_offboarding(offboarding=o), "Completed"
        )


@admin.register(ClientAccess)
class ClientAccessAdmin(BaseAdmin):
    """What the client gave us access to, and who took it back: offboarding's checklist of accesses."""

    list_display = ("system", "kind", "client", "status", "granted_at", "revoked_at", "revoked_by", "revocation")
    list_select_related = ("client__company",)
    list_filter = ("status", "kind", "revocation")
    search_fields = ("system", "client__company__name", "revoked_by")
    date_hierarchy = "requested_at"
    autocomplete_fields = ("client",)
    system_fields = ("status", "requested_at", "granted_at", "revoked_at", "revoked_by", "revocation")
    actions = ("grant", "revoke_by_hand")

    @admin.action(description="Mark granted")
    def grant(self, request: HttpRequest, queryset: QuerySet[ClientAccess]) -> None:
        run_service_action(self, request, queryset, lambda a: accesses.grant_access(access=a), "Granted")

    @admin.action(description="Mark removed by hand (by me)")
    def revoke_by_hand(self, request: HttpRequest, queryset: QuerySet[ClientAccess]) -> None:
        who = request.user.get_username() or "operator"
        run_service_action(
            self,
            request,
            queryset,
            lambda a: accesses.revoke_access(access=a, by=who, revocation=ClientAccess.Revocation.MANUAL),
            "Revoked",
        )
