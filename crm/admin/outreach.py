"""Console pages for mailboxes, campaigns, steps, variants and enrollments."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpRequest

from crm import forms as crm_forms
from crm.models import Campaign, CampaignStats, CampaignStep, Enrollment, Mailbox, MailboxDay, Variant
from crm.services import campaigns, grounding_stats, mailboxes
from smarter_team.admin import BaseAdmin, StackedInline, TabularInline, adopt, pretty_json, run_service_action
from smarter_team.admin_scale import DateFilter, LargeTableMixin

# --- sending ------------------------------------------------------------------------------------


@admin.register(Mailbox)
class MailboxAdmin(BaseAdmin):
    form = crm_forms.MailboxAdminForm
    list_display = (
        "email",
        "display_name",
        "provider",
        "daily_cap",
        "warmup_stage",
        "bounce_rate",
        "complaint_rate",
        "paused",
        "campaign_count",
    )
    list_filter = ("provider", "paused")
    search_fields = ("email", "display_name")
    # history_id stays editable: clearing it makes the Gmail poll read the recent window again.
    system_fields = ("bounce_rate", "complaint_rate", "paused", "paused_reason", "history_synced_at")
    actions = ("pause_mailboxes", "resume_mailboxes")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mailbox]:
        return super().get_queryset(request).annotate(campaign_total=Count("campaigns"))

    @admin.display(description="campaigns", ordering="campaign_total")
    def campaign_count(self, obj: Any) -> int:
        return int(obj.campaign_total)

    @admin.action(description="Pause the chosen mailboxes")
    def pause_mailboxes(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        why = f"paused by {request.user}"
        run_service_action(self, request, queryset, lambda m: mailboxes.mailbox_pause(mailbox=m, reason=why))

    @admin.action(description="Resume the chosen mailboxes")
    def resume_mailboxes(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        run_service_action(self, request, queryset, lambda m: mailboxes.mailbox_resume(mailbox=m))


class CampaignStepInline(StackedInline):
    model = CampaignStep
    extra = 0
    fields = ("order", "delay_business_days", "subject_template", "body_template", "spam_check_pretty")
    readonly_fields = ("spam_check_pretty",)
    show_change_link = True  # variants are edited on the step's page

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignStep]:
        return super().get_queryset(request).select_related("campaign")  # in __str__

    @admin.display(description="spam check")
    def spam_check_pretty(self, obj: CampaignStep) -> str:
        return pretty_json(obj.spam_check)


@admin.register(MailboxDay)
class MailboxDayAdmin(BaseAdmin):
    """What each mailbox sent per day (the counter the sender locks against its cap)."""

    list_display = ("mailbox", "day", "sent", "warmup_advanced")
    list_filter = ("day",)
    list_select_related = ("mailbox",)
    search_fields = ("mailbox__email",)
    system_fields = ("sent", "warmup_advanced")


@admin.register(Campaign)
class CampaignAdmin(BaseAdmin):
    list_display = (
        "name",
        "status",
        "icp",
        "persona",
        "daily_limit",
        "send_window_start",
        "send_window_end",
        "step_count",
        "active_enrollments",
        "mailbox_count",
        "cited_first_lines",
        "created_at",
    )
    list_select_related = ("icp", "persona__niche")
    list_filter = ("status", "timezone_policy")
    search_fields = ("name", "external_id")
    date_hierarchy = "created_at"
    autocomplete_fields = ("icp", "persona", "mailboxes")
    system_fields = ("status", "paused_reason", "external_id", "first_lines_now")
    inlines = (CampaignStepInline,)
    actions = ("submit_for_review", "activate_campaigns", "pause_campaigns", "complete_campaigns")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                step_total=Count("steps", distinct=True),
                active_total=Count("enrollments", filter=Q(enrollments__status="active"), distinct=True),
                mailbox_total=Count("mailboxes", distinct=True),
                # The latest daily reading's: one subquery, no per-row count of messages.
                cited_reading=Subquery(
                    CampaignStats.objects.filter(campaign=OuterRef("pk"))
                    .order_by("-day")
                    .annotate(share=Cast(KeyTextTransform("first_lines_cited_share", "totals"), FloatField()))
                    .values("share")[:1]
                ),
            )
        )

    @admin.display(description="first lines citing a fact")
    def cited_first_lines(self, obj: Any) -> str:
        share = obj.cited_reading
        return "-" if share is None else f"{float(share):.0%}"

    @admin.display(description="sent first lines citing a stored, sourced fact")
    def first_lines_now(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "-"
        return grounding_stats.first_lines(campaign_id=obj.pk).describe()

    @admin.display(description="steps", ordering="step_total")
    def step_count(self, obj: Any) -> int:
        return int(obj.step_total)

    @admin.display(description="active enrollments", ordering="active_total")
    def active_enrollments(self, obj: Any) -> int:
        return int(obj.active_total)

    @admin.display(description="mailboxes", ordering="mailbox_total")
    def mailbox_count(self, obj: Any) -> int:
        return int(obj.mailbox_total)

    def _set(self, request: HttpRequest, queryset: QuerySet[Campaign], status: str, reason: str = "") -> None:
        run_service_action(
            self, request, queryset, lambda c: campaigns.campaign_set_status(campaign=c, status=status, reason=reason)
        )

    @admin.action(description="Submit the chosen campaigns for review")
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set(request, queryset, Campaign.Status.REVIEW)

    @admin.action(description="Activate the chosen campaigns")
    def activate_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set(request, queryset, Campaign.Status.ACTIVE)

    @admin.action(description="Pause the chosen campaigns")
    def pause_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set(request, queryset, Campaign.Status.PAUSED, reason=f"paused by {request.user}")

    @admin.action(description="Complete the chosen campaigns (stops their enrollments)")
    def complete_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._set(request, queryset, Campaign.Status.COMPLETED)


class VariantInline(TabularInline):
    model = Variant
    extra = 0
    fields = ("label", "subject", "body", "weight", "is_winner")
    readonly_fields = ("is_winner",)  # one winner per step: set through the "make winner" action

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("step__campaign")  # in __str__


@admin.register(CampaignStep)
class CampaignStepAdmin(BaseAdmin):
    list_display = ("__str__", "campaign", "order", "delay_business_days", "subject_template", "variant_count")
    list_select_related = ("campaign",)
    search_fields = ("campaign__name", "subject_template")
    autocomplete_fields = ("campaign",)
    system_fields = ("spam_check_pretty",)
    exclude = ("spam_check",)
    inlines = (VariantInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignStep]:
        return super().get_queryset(request).annotate(variant_total=Count("variants"))

    @admin.display(description="variants", ordering="variant_total")
    def variant_count(self, obj: Any) -> int:
        return int(obj.variant_total)

    @admin.display(description="spam check")
    def spam_check_pretty(self, obj: CampaignStep) -> str:
        return pretty_json(obj.spam_check)


_SENT = ["sent", "delivered", "opened", "clicked", "replied", "bounced"]


@admin.register(Variant)
class VariantAdmin(BaseAdmin):
    list_display = ("__str__", "label", "subject", "weight", "is_winner", "sent", "replies")
    list_select_related = ("step__campaign",)
    list_filter = ("is_winner",)
    search_fields = ("label", "subject", "step__campaign__name")
    autocomplete_fields = ("step",)
    system_fields = ("is_winner",)
    actions = ("make_winner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        # Stats come from the messages themselves, never from counters that can drift.
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_total=Count("messages", filter=Q(messages__status__in=_SENT)),
                reply_total=Count("messages", filter=Q(messages__status="replied")),
            )
        )

    @admin.display(description="sent", ordering="sent_total")
    def sent(self, obj: Any) -> int:
        return int(obj.sent_total)

    @admin.display(description="replies", ordering="reply_total")
    def replies(self, obj: Any) -> int:
        return int(obj.reply_total)

    @admin.action(description="Make the chosen variant its step's winner")
    def make_winner(self, request: HttpRequest, queryset: QuerySet[Variant]) -> None:
        run_service_action(self, request, queryset, lambda v: campaigns.variant_set_winner(variant=v))


@admin.register(Enrollment)
class EnrollmentAdmin(LargeTableMixin, BaseAdmin):
    form = crm_forms.EnrollmentAdminForm
    list_display = ("lead", "campaign", "status", "current_step", "variant_label", "next_send_at", "created_at")
    list_select_related = ("lead", "campaign")
    list_filter = ("status", ("created_at", DateFilter), "campaign")
    search_fields = ("lead__email", "lead__first_name", "lead__last_name", "campaign__name")
    autocomplete_fields = ("lead", "campaign")
    system_fields = ("status", "current_step", "variant_label", "stopped_reason")
    actions = ("pause_enrollments", "resume_enrollments", "stop_enrollments")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "lead", "campaign"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Enrollment, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # New enrollments go through the service: it re-checks suppression under the row lock.
        created = campaigns.enroll(
            lead=obj.lead, campaign=obj.campaign, variables=obj.variables, start_at=obj.next_send_at
        )
        adopt(obj, created)

    def _set(self, request: HttpRequest, queryset: QuerySet[Enrollment], status: str) -> None:
        why = f"{status} by {request.user}"
        run_service_action(
            self, request, queryset, lambda e: campaigns.enrollment_set_status(enrollment=e, status=status, reason=why)
        )

    @admin.action(description="Pause the chosen enrollments")
    def pause_enrollments(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        self._set(request, queryset, Enrollment.Status.PAUSED)

    @admin.action(description="Resume the chosen enrollments")
    def resume_enrollments(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        self._set(request, queryset, Enrollment.Status.ACTIVE)

    @admin.action(description="Stop the chosen enrollments")
    def stop_enrollments(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        self._set(request, queryset, Enrollment.Status.STOPPED)


@admin.register(CampaignStats)
class CampaignStatsAdmin(BaseAdmin):
    """campaign_analytics' daily readings: counted from the messages, never edited by hand."""

    list_display = ("campaign", "day", "sent", "reply_rate", "created_at")
    list_select_related = ("campaign",)
    list_filter = ("day",)
    search_fields = ("campaign__name",)
    date_hierarchy = "day"
    system_fields = ("campaign", "day", "totals_pretty", "by_step_pretty", "by_variant_pretty")
    exclude = ("totals", "by_step", "by_variant")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="sent")
    def sent(self, obj: CampaignStats) -> int:
        return int(obj.totals.get("sent", 0))

    @admin.display(description="reply rate")
    def reply_rate(self, obj: CampaignStats) -> str:
        rate = obj.totals.get("replied_rate")
        return f"{rate * 100:.1f}%" if rate is not None else "-"

    @admin.display(description="totals")
    def totals_pretty(self, obj: CampaignStats) -> str:
        return pretty_json(obj.totals)

    @admin.display(description="by step")
    def by_step_pretty(self, obj: CampaignStats) -> str:
        return pretty_json(obj.by_step)

    @admin.display(description="by variant")
    def by_variant_pretty(self, obj: CampaignStats) -> str:
        return pretty_json(obj.by_variant)
