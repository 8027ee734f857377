"""Operations console of the runtime. Admin classes present; actions call services."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents import admin_run
from agents.console import act_kinds, agent_names, queue_names, run_link
from agents.models import (
    Action,
    AgentRun,
    AuditLog,
    Budget,
    ClockOffset,
    CodeSchedule,
    Escalation,
    HealthCheck,
    LLMBatch,
    LLMBatchItem,
    LookupCache,
    Report,
)
from agents.services.escalations import decide
from agents.services.runs import CANCELABLE, RETRYABLE, cancel_run, retry_run
from smarter_team.admin import AppendOnlyAdmin, BaseAdmin, pretty_json, report_outcome
from smarter_team.admin_scale import DateFilter, LargeTableMixin, RecentValuesFilter, truncated, values_filter

TREE_LIMIT = 300


def _run_link(run_id: int | None, label: str = "") -> str:
    if run_id is None:
        return "-"
    url = reverse("admin:agents_agentrun_change", args=[run_id])
    return format_html('<a href="{}">{}</a>', url, label or f"#{run_id}")


@admin.register(AgentRun)
class AgentRunAdmin(LargeTableMixin, BaseAdmin):
    # depth and the chain are on the run's page; a 1400 px screen keeps the rest on one line.
    list_display = ("id", "agent_name", "status", "trigger", "attempts", "cost", "due_at", "created_at")
    list_filter = (
        "status",
        ("created_at", DateFilter),
        "trigger",
        ("agent_name", values_filter(agent_names)),
        ("queue", values_filter(queue_names)),
    )
    # Exact matches, each served by an index (a correlation id is handled below).
    search_fields = ("idempotency_key__exact", "agent_name__exact")
    list_select_related = ("parent",)
    actions = ("retry_selected", "cancel_selected")
    readonly_fields = (
        "agent_name", "status", "trigger", "input_pretty", "output_pretty", "error", "parent_link", "handoff_tree",
        "correlation_id", "depth", "idempotency_key", "payload_hash", "queue", "attempts", "max_attempts",
        "priority", "due_at", "enqueued_at", "lease_expires_at", "started_at", "finished_at", "brain",
        "model_name", "tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "cost",
        "learnings_applied_pretty", "client_key", "campaign_key",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("agent_name", "status", "trigger", "error", "input_pretty", "output_pretty")}),
        ("Chain", {"fields": ("correlation_id", "parent_link", "depth", "handoff_tree")}),
        (
            "Scheduling",
            {"fields": ("idempotency_key", "payload_hash", "queue", "priority", "attempts", "max_attempts", "due_at",
                        "enqueued_at", "lease_expires_at", "started_at", "finished_at")},
        ),
        (
            "Brain and cost",
            {"fields": ("brain", "model_name", "tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens",
                        "cost", "client_key", "campaign_key", "learnings_applied_pretty")},
        ),
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by triggers, agents, or "Run an agent" (its input form), never typed in

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        own = [
            path("run/", view(self.agent_list_view), name="agents_agentrun_run_list"),
            path("run/<str:agent_name>/", view(self.run_agent_view), name="agents_agentrun_run"),
            path("<path:object_id>/retry/", view(self.retry_view), name="agents_agentrun_retry"),
        ]
        return own + super().get_urls()

    def agent_list_view(self, request: HttpRequest) -> HttpResponse:
        return admin_run.agent_list_view(self, request)

    def run_agent_view(self, request: HttpRequest, agent_name: str) -> HttpResponse:
        return admin_run.run_agent_view(self, request, agent_name)

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_run.retry_view(self, request, object_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        run = self.get_object(request, unquote(object_id))
        if run is not None:
            extra_context = {**admin_run.run_page_context(self, request, run), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AgentRun], search_term: str
    ) -> tuple[QuerySet[AgentRun], bool]:
        # A correlation id is the usual thing to paste; a UUID field cannot take free text.
        try:
            correlation = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(correlation_id=correlation), False

    @admin.display(description="input")
    def input_pretty(self, obj: AgentRun) -> str:
        return pretty_json(obj.input)

    @admin.display(description="output")
    def output_pretty(self, obj: AgentRun) -> str:
        return pretty_json(obj.output)

    @admin.display(description="learnings applied")
    def learnings_applied_pretty(self, obj: AgentRun) -> str:
        return pretty_json(obj.learnings_applied)

    @admin.display(description="parent")
    def parent_link(self, obj: AgentRun) -> str:
        return _run_link(obj.parent_id, str(obj.parent) if obj.parent_id else "")

    @admin.display(description="handoffs in this chain")
    def handoff_tree(self, obj: AgentRun) -> str:
        runs = list(
            AgentRun.objects.filter(correlation_id=obj.correlation_id)
            .only("pk", "agent_name", "status", "parent_id", "depth")
            .order_by("depth", "pk")[:TREE_LIMIT]
        )
        children: dict[int | None, list[AgentRun]] = {}
        ids = {r.pk for r in runs}
        for run in runs:
            children.setdefault(run.parent_id if run.parent_id in ids else None, []).append(run)

        def branch(parent_id: int | None) -> SafeString:
            items = format_html_join(
                "",
                "<li>{}{}</li>",
                (
                    (
                        format_html(
                            "<strong>{}</strong>" if run.pk == obj.pk else "{}",
                            _run_link(run.pk, f"#{run.pk} {run.agent_name} ({run.status})"),
                        ),
                        branch(run.pk) if run.pk in children else "",
                    )
                    for run in children.get(parent_id, [])
                ),
            )
            return format_html("<ul style='margin-left:1em'>{}</ul>", items)

        return branch(None)

    @admin.action(description="Retry selected runs (failed or escalated)")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[AgentRun]) -> None:
        retried, left = 0, []
        for run in queryset:
            if run.status not in RETRYABLE:
                left.append(f"#{run.pk} ({run.status})")
                continue
            retry_run(run=run, user=request.user)  # type: ignore[arg-type]
            retried += 1
        why = "only failed or escalated runs are retried"
        report_outcome(self, request, changed=retried, done="Queued again", unchanged=left, why=why)

    @admin.action(description="Cancel selected runs")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[AgentRun]) -> None:
        canceled, left = 0, []
        for run in queryset:
            if run.status not in CANCELABLE:
                left.append(f"#{run.pk} ({run.status})")
                continue
            cancel_run(run=run, user=request.user, reason="canceled in the admin")  # type: ignore[arg-type]
            canceled += 1
        why = "only queued or escalated runs are canceled"
        report_outcome(self, request, changed=canceled, done="Canceled", unchanged=left, why=why)


@admin.register(Action)
class ActionAdmin(LargeTableMixin, BaseAdmin):
    list_display = ("id", "kind", "short_key", "status", "attempts", run_link, "created_at")
    list_filter = ("status", ("created_at", DateFilter), ("kind", values_filter(act_kinds)))
    search_fields = ("idempotency_key__exact", "kind__exact")
    autocomplete_fields = ("run",)
    readonly_fields = ("kind", "idempotency_key", "run", "payload_pretty", "status", "result_pretty", "error",
                       "attempts", "done_at", "next_attempt_at", "lease_expires_at")  # fmt: skip
    exclude = ("payload", "result")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only ctx.act writes the outbox

    @admin.display(description="idempotency key")
    def short_key(self, obj: Action) -> str:
        return truncated(obj.idempotency_key, 36)

    @admin.display(description="payload")
    def payload_pretty(self, obj: Action) -> str:
        return pretty_json(obj.payload)

    @admin.display(description="result")
    def result_pretty(self, obj: Action) -> str:
        return pretty_json(obj.result)


@admin.register(Escalation)
class EscalationAdmin(BaseAdmin):
    list_display = ("id", "kind", "status", "assigned_group", "short_reason", "run", "due_by", "created_at")
    list_filter = ("status", "kind", "assigned_group")
    search_fields = ("reason", "=dedupe_key")
    list_select_related = ("run", "decided_by")
    autocomplete_fields = ("run",)
    actions = ("approve_selected", "reject_selected")
    system_fields = (
        "status",
        "decided_by",
        "decided_at",
        "reminded_at",
        "payload_pretty",
        "subject_type",
        "subject_id",
    )
    exclude = ("payload",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # What was escalated is history; only routing and the note stay editable.
            fields += ["run", "kind", "reason", "dedupe_key"]
            if obj.status != Escalation.Status.OPEN:
                fields += ["decision_note", "assigned_group", "due_by"]
        return fields

    @admin.display(description="reason")
    def short_reason(self, obj: Escalation) -> str:
        return obj.reason[:90]

    @admin.display(description="payload")
    def payload_pretty(self, obj: Escalation) -> str:
        return pretty_json(obj.payload)

    def response_change(self, request: HttpRequest, obj: Escalation) -> HttpResponse:
        for button, approve in (("_approve", True), ("_reject", False)):
            if button in request.POST:
                decided = decide(escalation=obj, approve=approve, user=request.user, note=obj.decision_note)  # type: ignore[arg-type]
                self.message_user(request, f"Escalation #{obj.pk} {decided.status}.", messages.SUCCESS)
        return super().response_change(request, obj)

    def _decide_all(self, request: HttpRequest, queryset: QuerySet[Escalation], approve: bool) -> None:
        count, left = 0, []
        for escalation in queryset:
            if escalation.status != Escalation.Status.OPEN:
                left.append(f"#{escalation.pk} ({escalation.status})")
                continue
            decide(escalation=escalation, approve=approve, user=request.user, note="decided in bulk")  # type: ignore[arg-type]
            count += 1
        done = "Approved" if approve else "Rejected"
        report_outcome(self, request, changed=count, done=done, unchanged=left, why="only open escalations are decided")

    @admin.action(description="Approve selected (resume the waiting work)")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Escalation]) -> None:
        self._decide_all(request, queryset, True)

    @admin.action(description="Reject selected (cancel the waiting work)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Escalation]) -> None:
        self._decide_all(request, queryset, False)


@admin.register(Budget)
class BudgetAdmin(BaseAdmin):
    list_display = ("scope", "key", "period", "limit", "currency", "on_exceed", "active")
    list_filter = ("scope", "period", "on_exceed", "active")
    list_editable = ("active",)
    search_fields = ("key",)


@admin.register(AuditLog)
class AuditLogAdmin(LargeTableMixin, AppendOnlyAdmin):
    list_display = ("at", "actor_type", "actor", "action", "target_type", "target_id", run_link)
    list_filter = (("at", DateFilter), "actor_type", ("action", RecentValuesFilter), "target_type")
    search_fields = ("actor__exact", "target_id__exact")
    list_select_related = ("target_type",)
    readonly_fields = ("before_pretty", "after_pretty")
    exclude = ("before", "after")

    @admin.display(description="before")
    def before_pretty(self, obj: AuditLog) -> str:
        return pretty_json(obj.before)

    @admin.display(description="after")
    def after_pretty(self, obj: AuditLog) -> str:
        return pretty_json(obj.after)


@admin.register(HealthCheck)
class HealthCheckAdmin(LargeTableMixin, AppendOnlyAdmin):
    list_display = ("checked_at", "component", "status", "latency_ms", "short_detail")
    list_filter = ("status", ("checked_at", DateFilter), ("component", RecentValuesFilter))
    search_fields = ("component__exact",)

    @admin.display(description="detail")
    def short_detail(self, obj: HealthCheck) -> str:
        return truncated(obj.detail, 80)


@admin.register(Report)
class ReportAdmin(BaseAdmin):
    list_display = ("kind", "period_start", "period_end", "sent_at")
    list_filter = ("kind",)
    system_fields = ("kind", "subject", "period_start", "period_end", "rendered", "sent_to", "sent_at", "text")
    exclude = ("html", "images", "figures")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # report_generator writes them

    @admin.display(description="report")
    def rendered(self, obj: Report) -> str:
        # A sandboxed frame: the stored HTML is shown as the managers received it, without scripts;
        # the charts it references by Content-ID are inlined as data URIs for the browser.
        page = obj.html
        for image in obj.images or []:
            uri = f"data:{image.get('content_type', 'image/png')};base64,{image.get('data_base64', '')}"
            page = page.replace(f"cid:{image.get('name', '')}", uri)
        return format_html(
            '<iframe sandbox="" srcdoc="{}" style="width:100%;height:900px;border:1px solid #ccc"></iframe>', page
        )


@admin.register(LLMBatch)
class LLMBatchAdmin(AppendOnlyAdmin):
    list_display = ("provider_batch_id", "agent_name", "model_name", "status", "request_count", "created_at")
    list_filter = ("status", "agent_name")
    search_fields = ("=provider_batch_id",)


@admin.register(LLMBatchItem)
class LLMBatchItemAdmin(AppendOnlyAdmin):
    list_display = ("custom_id", "batch", "run", "status")
    list_filter = ("status",)
    list_select_related = ("batch", "run")
    search_fields = ("=custom_id", "=batch__provider_batch_id")
    raw_id_fields = ("batch", "run")


@admin.register(LookupCache)
class LookupCacheAdmin(AppendOnlyAdmin):
    """Paid provider reads kept by domain identity (ctx.cached): what a retry did not pay for twice."""

    list_display = ("key", "created_at", "expires_at")
    search_fields = ("=key",)
    readonly_fields = ("key", "value_pretty", "created_at", "expires_at")
    exclude = ("value",)

    @admin.display(description="value")
    def value_pretty(self, obj: LookupCache) -> str:
        return pretty_json(obj.value)


@admin.register(ClockOffset)
class ClockOffsetAdmin(AppendOnlyAdmin):
    """How far the demo's business time was skipped ahead while every queue was idle."""

    list_display = ("id", "seconds")


@admin.register(CodeSchedule)
class CodeScheduleAdmin(AppendOnlyAdmin):
    """What sync_schedules last wrote per beat entry: shown so an operator can see why an edit was kept."""

    list_display = ("name", "updated_at")
    search_fields = ("name",)
