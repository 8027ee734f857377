"""ErrorLog in the console: evidence, read-only but for its resolution."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime

from agents.console import agent_names
from learning.admin.common import RECENT, NoteActionForm, note_of, short, user_of
from learning.models import ErrorGroupNote, ErrorLog, KnowledgeRule
from learning.services import errors as error_services
from smarter_team.admin import BaseAdmin, pretty_json, run_bulk_action
from smarter_team.admin_scale import DateFilter, LargeTableMixin, RecentValuesFilter, truncated, values_filter

# --- errors -----------------------------------------------------------------------------------


@admin.register(ErrorLog)
class ErrorLogAdmin(LargeTableMixin, BaseAdmin):
    action_form = NoteActionForm
    # Fits a 1400 px screen: where it failed (agent; provider and step below), what (the type, then
    # the message cut, the whole of it on hover), how many alike (a link to them all).
    list_display = ("occurred_at", "where", "error", "alike", "severity", "resolved")
    list_filter = (
        ("occurred_at", DateFilter),
        "severity",
        "transient",
        ("resolved_at", admin.EmptyFieldListFilter),
        ("provider", RecentValuesFilter),
        ("agent_name", values_filter(agent_names)),
    )
    list_select_related = ("run", "resolved_by")
    # message and error_type trigram-indexed on PostgreSQL (learning 0003); the others exact, indexed.
    search_fields = ("message", "error_type", "fingerprint__exact", "agent_name__exact")
    fields = (
        ("agent_name", "provider", "run"),
        ("error_type", "step", "severity", "transient"),
        "message",
        ("fingerprint", "alike_count"),
        "context_pretty",
        "affected_pretty",
        ("occurred_at", "created_at"),
        ("recovery_action", "recovery_success"),
        ("resolved_at", "resolved_by"),
        "resolution_notes",
        "rules_for_fingerprint",
    )
    # Everything the system wrote is evidence: only the resolution is the operator's.
    readonly_fields = (
        "agent_name",
        "provider",
        "run",
        "error_type",
        "step",
        "message",
        "fingerprint",
        "alike_count",
        "context_pretty",
        "affected_pretty",
        "occurred_at",
        "severity",
        "transient",
        "recovery_action",
        "recovery_success",
        "resolved_at",
        "resolved_by",
        "rules_for_fingerprint",
    )
    actions = ("mark_resolved",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ErrorLog]:
        alike = (
            ErrorLog.objects.filter(fingerprint=OuterRef("fingerprint"))
            .order_by()
            .values("fingerprint")
            .annotate(n=Count("id"))
            .values("n")
        )
        return super().get_queryset(request).annotate(alike_n=Subquery(alike))

    @admin.display(description="where")
    def where(self, obj: ErrorLog) -> str:
        detail = " · ".join(part for part in (obj.provider, obj.step) if part)
        return format_html("{}<div class='quiet'>{}</div>", obj.agent_name or "-", detail)

    @admin.display(description="error")
    def error(self, obj: ErrorLog) -> str:
        return format_html(
            "<div class='wraps'><strong>{}</strong> {}</div>", obj.error_type, truncated(obj.message, 110)
        )

    @admin.display(description="resolved")
    def resolved(self, obj: ErrorLog) -> str:
        if obj.resolved_at is None:
            return "-"
        when = f"resolved {localtime(obj.resolved_at):%Y-%m-%d %H:%M}"
        return format_html('<img src="{}" alt="yes" title="{}">', static("admin/img/icon-yes.svg"), when)

    @admin.display(description="alike")
    def alike(self, obj: ErrorLog) -> str:
        # Every error with this fingerprint: a filter on the indexed column.
        url = f"{reverse('admin:learning_errorlog_changelist')}?{urlencode({'fingerprint__exact': obj.fingerprint})}"
        count = int(getattr(obj, "alike_n", 0) or 0)
        return format_html('<a href="{}" title="fingerprint {}">{}</a>', url, obj.fingerprint, count)

    @admin.display(description="errors with this fingerprint")
    def alike_count(self, obj: ErrorLog) -> int:
        return int(getattr(obj, "alike_n", 0) or 0)

    @admin.display(description="context")
    def context_pretty(self, obj: ErrorLog) -> str:
        return pretty_json(obj.context)

    @admin.display(description="affected entities")
    def affected_pretty(self, obj: ErrorLog) -> str:
        return pretty_json(obj.affected_entities)

    @admin.display(description="rules for this fingerprint")
    def rules_for_fingerprint(self, obj: ErrorLog) -> str:
        found = KnowledgeRule.objects.filter(fingerprint=obj.fingerprint).order_by("-pk")[:RECENT]
        if not found:
            note = ErrorGroupNote.objects.filter(fingerprint=obj.fingerprint).first()
            if note is not None:  # extraction looked and proposed nothing: say why
                return format_html("No rule proposed ({}): {}", f"{note.noted_at:%Y-%m-%d %H:%M}", note.reason)
            return "-"
        return format_html_join(
            "",
            "<div><a href='{}'>#{}</a> [{}] {} - {}</div>",
            (
                (
                    reverse("admin:learning_knowledgerule_change", args=[r.pk]),
                    r.pk,
                    r.rule_type,
                    r.status,
                    short(r.text),
                )
                for r in found
            ),
        )

    @admin.action(description="Mark resolved (with the note)")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[ErrorLog]) -> None:
        user, note = user_of(request), note_of(request)
        run_bulk_action(
            self,
            request,
            queryset,
            lambda rows: error_services.resolve_errors(errors=rows, user=user, note=note),
            "Resolved",
            why="already resolved (the first resolution stands)",
        )


@admin.register(ErrorGroupNote)
class ErrorGroupNoteAdmin(BaseAdmin):
    """Recurring errors extraction proposed no rule for, and why (read-only: extraction writes them)."""

    list_display = ("noted_at", "agent_name", "short_fingerprint", "failed_runs", "short_reason")
    list_filter = ("agent_name",)
    search_fields = ("fingerprint", "agent_name", "reason")
    readonly_fields = ("fingerprint", "agent_name", "failed_runs", "reason", "noted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="fingerprint")
    def short_fingerprint(self, obj: ErrorGroupNote) -> str:
        return obj.fingerprint[:12]

    @admin.display(description="why no rule")
    def short_reason(self, obj: ErrorGroupNote) -> str:
        return short(obj.reason, 120)
