"""Rules in the console: approve, edit, retire, with their source errors, applications and lift."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from learning import conditions
from learning.admin.common import RECENT, short, user_of
from learning.models import ErrorLog, KnowledgeRule, RuleApplication
from learning.services import rules
from learning.services.evidence import refresh_rules, stops_work
from smarter_team.admin import AppendOnlyAdmin, BaseAdmin, run_bulk_action, run_service_action

# --- rules ------------------------------------------------------------------------------------


class KnowledgeRuleForm(forms.ModelForm):
    class Meta:
        model = KnowledgeRule
        fields = ("agent_name", "rule_type", "text", "condition", "action_params", "fingerprint", "error_type")

    def clean_condition(self) -> Any:
        value = self.cleaned_data.get("condition") or {}
        try:
            conditions.validate(value)
        except conditions.ConditionError as exc:
            raise ValidationError(f"Not a valid condition: {exc}") from exc
        return value


@admin.register(KnowledgeRule)
class KnowledgeRuleAdmin(BaseAdmin):
    form = KnowledgeRuleForm
    list_display = (
        "id",
        "agent_name",
        "rule_type",
        "status",
        "short_text",
        "confidence",
        "times_applied",
        "holdout",
        "lift",
        "approved_at",
    )
    list_filter = ("status", "rule_type", "agent_name")
    list_select_related = ("source_error", "approved_by")
    search_fields = ("text", "fingerprint", "pattern", "agent_name", "error_type")
    date_hierarchy = "created_at"
    readonly_fields = (
        "status",
        "pattern",
        "condition_text",
        "confidence",
        "times_applied",
        "times_successful",
        "holdout_exposures",
        "holdout_failures",
        "lift",
        "source_error",
        "approved_by",
        "approved_at",
        "retired_at",
        "retired_reason",
        "source_errors",
        "recent_applications",
        "arms",
    )
    fieldsets = (
        (None, {"fields": ("status", "agent_name", "rule_type", "text")}),
        ("What it does", {"fields": ("condition", "condition_text", "action_params")}),
        ("What it answers", {"fields": ("fingerprint", "error_type", "pattern", "source_error", "source_errors")}),
        (
            "Evidence",
            {
                "fields": (
                    ("confidence", "times_applied", "times_successful"),
                    ("holdout_exposures", "holdout_failures", "lift"),
                    "arms",
                    "recent_applications",
                )
            },
        ),
        ("Decisions", {"fields": (("approved_by", "approved_at"), ("retired_at", "retired_reason"))}),
    )
    actions = ("approve", "retire", "refresh_evidence")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            names += ["fingerprint", "error_type"]  # what the rule answers is set by extraction
        return names

    @admin.display(description="text")
    def short_text(self, obj: KnowledgeRule) -> str:
        return short(obj.text)

    @admin.display(description="condition in words")
    def condition_text(self, obj: KnowledgeRule) -> str:
        return conditions.describe(obj.condition) if obj.condition else "-"

    @admin.display(description="holdout failed")
    def holdout(self, obj: KnowledgeRule) -> str:
        return f"{obj.holdout_failures}/{obj.holdout_exposures}"

    @admin.display(description="lift (95% CI)", ordering="holdout_lift")
    def lift(self, obj: KnowledgeRule) -> str:
        if obj.holdout_lift is None:
            return "-"
        return f"{obj.holdout_lift:+.3f} [{obj.lift_low:+.3f}, {obj.lift_high:+.3f}]"

    @admin.display(description="holdout arm vs applied arm")
    def arms(self, obj: KnowledgeRule) -> str:
        """The two arms side by side, the precision with its interval, and why it was retired."""
        stops = stops_work(obj)
        applied = (
            f"{obj.times_applied} runs stopped; ~{obj.times_successful} would have failed, "
            f"~{obj.successes_lost if obj.successes_lost is not None else '-'} successes thrown away"
            if stops
            else f"{obj.times_applied} runs, {obj.times_applied - obj.times_successful} failed"
        )
        held = f"{obj.holdout_exposures} runs without the rule, {obj.holdout_failures} failed"
        precision = f"{obj.precision} [{obj.precision_low}, {obj.precision_high}]" if obj.precision is not None else "-"
        return format_html(
            "<table><tr><th>holdout arm</th><th>applied arm</th><th>precision (95% CI)</th><th>lift (95% CI)</th>"
            "</tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>{}",
            held,
            applied,
            precision,
            self.lift(obj),
            format_html("<p><b>Retired:</b> {}</p>", obj.retired_reason) if obj.retired_reason else "",
        )

    @admin.display(description="latest errors it answers")
    def source_errors(self, obj: KnowledgeRule) -> str:
        if not obj.fingerprint:
            return "-"
        found = ErrorLog.objects.filter(fingerprint=obj.fingerprint).order_by("-occurred_at")[:RECENT]
        return (
            format_html_join(
                "",
                "<div><a href='{}'>{}</a> run {} - {}</div>",
                (
                    (
                        reverse("admin:learning_errorlog_change", args=[e.pk]),
                        f"{e.occurred_at:%Y-%m-%d %H:%M}",
                        e.run_id or "-",
                        short(e.message, 100),
                    )
                    for e in found
                ),
            )
            or "-"
        )

    @admin.display(description="latest applications")
    def recent_applications(self, obj: KnowledgeRule) -> str:
        found = RuleApplication.objects.filter(rule=obj).order_by("-at")[:RECENT]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f"{a.at:%Y-%m-%d %H:%M}", a.run_id, a.mode, a.stage, a.effect, a.outcome) for a in found),
        )
        if not rows:
            return "-"
        head = format_html_join("", "<th>{}</th>", ((c,) for c in ("at", "run", "mode", "stage", "effect", "outcome")))
        return format_html("<table><tr>{}</tr>{}</table>", head, rows)

    def save_model(self, request: HttpRequest, obj: KnowledgeRule, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = rules.edit_rule(
                    rule=obj,
                    user=user_of(request),
                    text=data["text"],
                    condition=data.get("condition") or {},
                    action_params=data.get("action_params") or {},
                    rule_type=data["rule_type"],
                )
            else:
                saved = rules.create_rule(user=user_of(request), **data)
        except (ValueError, ValidationError) as exc:
            # The form validated the shape; an active rule must also stay executable.
            raise ValidationError(str(exc)) from exc
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def _each(self, request: HttpRequest, queryset: QuerySet[KnowledgeRule], call: Any, done: str) -> None:
        # The rules service records its own audit entries.
        run_service_action(self, request, queryset, call, done, audit=False)

    @admin.action(description="Approve (make active)")
    def approve(self, request: HttpRequest, queryset: QuerySet[KnowledgeRule]) -> None:
        self._each(request, queryset, lambda r: rules.approve_rule(rule=r, user=user_of(request)), "approved")

    @admin.action(description="Retire")
    def retire(self, request: HttpRequest, queryset: QuerySet[KnowledgeRule]) -> None:
        self._each(request, queryset, lambda r: rules.retire_rule(rule=r, user=user_of(request)), "retired")

    @admin.action(description="Recompute evidence (confidence, lift)")
    def refresh_evidence(self, request: HttpRequest, queryset: QuerySet[KnowledgeRule]) -> None:
        retired: list[KnowledgeRule] = []
        run_bulk_action(
            self,
            request,
            queryset,
            lambda chosen: retired.extend(refresh_rules(rule_ids=[r.pk for r in chosen])),
            "Evidence changed",
            why="their evidence was up to date",
        )
        if retired:
            names = ", ".join(f"#{r.pk}" for r in retired)
            self.message_user(request, f"Retired for lack of lift: {names}.", level=messages.WARNING)


@admin.register(RuleApplication)
class RuleApplicationAdmin(AppendOnlyAdmin):
    list_display = ("at", "rule", "run", "mode", "stage", "effect", "outcome")
    list_filter = ("mode", "outcome", "stage", "effect")
    list_select_related = ("rule", "run")
    date_hierarchy = "at"
    raw_id_fields = ("rule", "run")
