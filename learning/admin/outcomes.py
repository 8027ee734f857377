"""Outcomes in the console: response tracking with staff feedback, agent learning, FAQ."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from learning.admin.common import NoteActionForm, note_of, short, user_of
from learning.models import FAQ, AgentLearning, ResponseTracking
from learning.services import faq as faq_services
from learning.services import feedback
from smarter_team.admin import AppendOnlyAdmin, BaseAdmin, report_outcome, run_bulk_action

# --- outcomes ---------------------------------------------------------------------------------


@admin.register(ResponseTracking)
class ResponseTrackingAdmin(BaseAdmin):
    action_form = NoteActionForm
    list_display = (
        "created_at",
        "agent_name",
        "response_type",
        "run",
        "confidence_score",
        "actual_outcome",
        "feedback_by",
        "short_feedback",
    )
    list_filter = ("actual_outcome", "agent_name", "response_type")
    list_select_related = ("run", "feedback_by")
    search_fields = ("agent_name", "user_feedback")
    date_hierarchy = "created_at"
    readonly_fields = (
        "run",
        "agent_name",
        "response_type",
        "confidence_score",
        "actual_outcome",
        "user_feedback",
        "feedback_by",
        "feedback_at",
    )
    actions = ("mark_good", "mark_bad")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="feedback")
    def short_feedback(self, obj: ResponseTracking) -> str:
        return short(obj.user_feedback, 60)

    def _feedback(self, request: HttpRequest, queryset: QuerySet[ResponseTracking], *, good: bool) -> None:
        user, note = user_of(request), note_of(request)
        run_bulk_action(
            self,
            request,
            queryset,
            lambda rows: feedback.record_feedback(trackings=rows, user=user, good=good, note=note),
            f"Marked {'good' if good else 'bad'}",
        )

    @admin.action(description="Mark good (with the note)")
    def mark_good(self, request: HttpRequest, queryset: QuerySet[ResponseTracking]) -> None:
        self._feedback(request, queryset, good=True)

    @admin.action(description="Mark bad (with the note)")
    def mark_bad(self, request: HttpRequest, queryset: QuerySet[ResponseTracking]) -> None:
        self._feedback(request, queryset, good=False)


@admin.register(AgentLearning)
class AgentLearningAdmin(AppendOnlyAdmin):
    list_display = (
        "period_start",
        "agent_name",
        "learning_area",
        "runs_before",
        "runs_after",
        "errors_before",
        "errors_after",
        "success_rate_before",
        "success_rate_after",
        "improvement_delta",
    )
    list_filter = ("agent_name",)
    list_select_related = ("rule",)
    search_fields = ("agent_name", "learning_area")
    date_hierarchy = "period_start"


# --- FAQ --------------------------------------------------------------------------------------


@admin.register(FAQ)
class FAQAdmin(BaseAdmin):
    list_display = ("short_question", "category", "approved", "times_used", "last_used_at")
    list_filter = ("approved", "category")
    search_fields = ("question", "answer", "tags")
    date_hierarchy = "created_at"
    fields = ("question", "answer", "category", "tags", "approved", "times_used", "last_used_at")
    readonly_fields = ("times_used", "last_used_at")
    actions = ("approve", "unapprove", "reindex")

    @admin.display(description="question")
    def short_question(self, obj: FAQ) -> str:
        return short(obj.question)

    def save_model(self, request: HttpRequest, obj: FAQ, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = faq_services.save_faq(
            faq=obj if change else None,
            question=data["question"],
            answer=data["answer"],
            category=data.get("category") or "",
            tags=data.get("tags") or [],
            approved=bool(data.get("approved")),
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def _set_approved(self, request: HttpRequest, queryset: QuerySet[FAQ], approved: bool) -> None:
        done, why = ("Approved", "already approved") if approved else ("Withdrawn", "not approved")
        change = lambda rows: faq_services.set_approved(faqs=rows, approved=approved)  # noqa: E731
        run_bulk_action(self, request, queryset, change, done, why=why)

    @admin.action(description="Approve (usable in answers)")
    def approve(self, request: HttpRequest, queryset: QuerySet[FAQ]) -> None:
        self._set_approved(request, queryset, True)

    @admin.action(description="Withdraw approval")
    def unapprove(self, request: HttpRequest, queryset: QuerySet[FAQ]) -> None:
        self._set_approved(request, queryset, False)

    @admin.action(description="Recompute search vectors (all FAQs)")
    def reindex(self, request: HttpRequest, queryset: QuerySet[FAQ]) -> None:
        report_outcome(self, request, changed=faq_services.reindex(), done="Reindexed", why="there is no FAQ")
