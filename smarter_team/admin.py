"""Shared admin conventions for the operations console.

Every ModelAdmin of the project derives from ``BaseAdmin``: system-written fields are read-only,
changelists skip the full-table COUNT, and JSON fields render readably. Admin classes hold no
business logic: actions call services.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html

from smarter_team.audit_trail import AuditTrailMixin, changed_columns, columns

SYSTEM_FIELDS: tuple[str, ...] = ("created_at", "updated_at")


FORMFIELD_OVERRIDES: dict[type[models.Field], dict[str, Any]] = {
    models.JSONField: {"widget": AdminTextareaWidget(attrs={"rows": 6})},
    # Operators paste bare domains; https is the right guess (and Django 6's default).
    models.URLField: {"assume_scheme": "https"},
}


def console_formfield(field: models.Field[Any, Any], **kwargs: Any) -> Any:
    """A ModelForm's ``Meta.formfield_callback``: the console's overrides for forms declared outside
    an admin (a declared ModelForm builds its fields at import, before the admin's own overrides)."""
    for model_field, overrides in FORMFIELD_OVERRIDES.items():
        if isinstance(field, model_field):
            kwargs = {**overrides, **kwargs}
    return field.formfield(**kwargs)


class BaseAdmin(AuditTrailMixin, admin.ModelAdmin):
    list_per_page = 50
    # A COUNT(*) over millions of runs or messages on every page load is the first thing that
    # makes an admin slow; the paginator still counts the filtered result.
    show_full_result_count = False
    # Fields that only the system writes; shown, never editable.
    system_fields: Sequence[str] = ()
    formfield_overrides = FORMFIELD_OVERRIDES

    class Media:
        # Changelists that fit a 1400 px screen: narrower side panels, rows on one line.
        css = {"all": ("smarter_team/console.css",)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [*super().get_readonly_fields(request, obj), *self.system_fields]
        field_names = {f.name for f in self.model._meta.get_fields()}
        names += [f for f in SYSTEM_FIELDS if f in field_names]
        return list(dict.fromkeys(names))


class TabularInline(admin.TabularInline):
    formfield_overrides = FORMFIELD_OVERRIDES


class StackedInline(admin.StackedInline):
    formfield_overrides = FORMFIELD_OVERRIDES


class AppendOnlyAdmin(BaseAdmin):
    """For logs: visible to staff, never added or changed by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


def pretty_json(value: Any) -> str:
    """Readable JSON for read-only admin fields."""
    if value in (None, "", [], {}):
        return "-"
    return format_html("<pre style='white-space:pre-wrap;margin:0'>{}</pre>", json.dumps(value, indent=2, default=str))


class ReadOnlyInline(TabularInline):
    """Rows the system writes, shown for context on their parent's page."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ActionLedger:
    """What an action did, row by row: a changed row is counted and audited (its columns' before and
    after, as the acting user); a row left as it was is named in a warning."""

    def __init__(self, request: HttpRequest, queryset: models.QuerySet[Any], *, audit: bool) -> None:
        self.action = f"{queryset.model._meta.model_name}.{request.POST.get('action') or 'action'}"
        self.user = request.user if request.user.is_authenticated else None
        self.audit = audit
        self.changed, self.failed, self.unchanged = 0, 0, list[str]()

    def settle(self, obj: models.Model, before: dict[str, Any], *, said_unchanged: bool = False) -> None:
        from agents.services.audit import record_change

        diff = changed_columns(obj, before)
        if said_unchanged or (diff is not None and not diff[1]):
            self.unchanged.append(str(obj))
            return
        if self.audit:
            old, new = diff if diff is not None else ({}, {"deleted": True})
            record_change(action=self.action, target=obj, before=old, after=new, user=self.user)
        self.changed += 1

    def report(self, modeladmin: admin.ModelAdmin[Any], request: HttpRequest, done: str, why: str = "") -> None:
        report_outcome(
            modeladmin, request, changed=self.changed, done=done, unchanged=self.unchanged, why=why, failed=self.failed
        )


def run_service_action(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: models.QuerySet[Any],
    service: Callable[[Any], object],
    done: str = "Done",
    *,
    audit: bool = True,
) -> None:
    """An admin action's body: apply a service to each selected row. A refusal (ValidationError or
    ValueError) is reported for its row and the other rows still go through.

    Each row's columns are compared before and after: a row the service left as it was (or said so,
    by returning False) is reported as a warning, not counted as done; a changed row is written to the
    audit trail with its before and after, as the acting user (``audit=False`` when the service
    records its own entry).
    """
    ledger = _ActionLedger(request, queryset, audit=audit)
    for obj in queryset:
        before = columns(obj)
        try:
            result = service(obj)
        except (ValidationError, ValueError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}: {text}", level=messages.ERROR)
            ledger.failed += 1
            continue
        ledger.settle(obj, before, said_unchanged=result is False)
    ledger.report(modeladmin, request, done)


def run_bulk_action(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: models.QuerySet[Any],
    service: Callable[[list[Any]], object],
    done: str,
    *,
    why: str = "",
    audit: bool = True,
) -> None:
    """``run_service_action`` for a service that takes all the selected rows at once (one UPDATE):
    the same per-row comparison, audit and warning for the rows it left as they were (``why``)."""
    rows = list(queryset)
    before = {obj.pk: columns(obj) for obj in rows}
    service(rows)
    ledger = _ActionLedger(request, queryset, audit=audit)
    for obj in rows:
        ledger.settle(obj, before[obj.pk])
    ledger.report(modeladmin, request, done, why)


def report_outcome(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    changed: int,
    done: str,
    unchanged: Sequence[str] | int = (),
    why: str = "",
    failed: int = 0,
) -> None:
    """An action's result: success for the rows it changed, a warning for those it left as they were
    (``unchanged``: their names, or how many), and a warning when it changed nothing at all (unless
    every row failed, each with its error already shown)."""
    left = unchanged if isinstance(unchanged, int) else len(unchanged)
    if changed:
        modeladmin.message_user(request, f"{done}: {changed} row(s).", level=messages.SUCCESS)
    if left or not (changed or failed):
        names = "" if isinstance(unchanged, int) else ", ".join(unchanged[:5]) + (", ..." if left > 5 else "")
        head = "Nothing changed" if not changed else f"{left} row(s) left as they were"
        detail = "; ".join(part for part in (why, names) if part)
        modeladmin.message_user(request, f"{head}{': ' + detail if detail else ''}.", level=messages.WARNING)


def adopt(obj: Any, created: models.Model) -> None:
    """Point the admin's unsaved form instance at the row a service created; the admin holds on to
    ``obj`` for the rest of the request (logging, redirect)."""
    obj.pk = created.pk
    obj.refresh_from_db()
    obj._state.adding = False


class CreateThroughServiceMixin:
    """The add form only collects input; a service creates the row (numbers, settlement, ...).

    ``create_through_service`` gets the validated form and returns the saved row. Changes to an
    existing row save as usual.
    """

    def create_through_service(self, request: HttpRequest, form: ModelForm) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} must say which service creates the row")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            return
        adopt(obj, self.create_through_service(request, form))


def currency_code(value: str) -> str:
    """Form cleaning for a currency field: a clear message instead of the constraint's name."""
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationError("Use a three-letter ISO 4217 currency code, e.g. USD or EUR.", code="invalid_currency")
    return code
