"""Shared admin conventions for the operations console.

Every ModelAdmin of the project derives from ``BaseAdmin``: system-written fields are read-only,
changelists skip the full-table COUNT, and JSON fields render readably. Admin classes hold no
business logic: actions call services.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AdminTextareaWidget
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html

SYSTEM_FIELDS: tuple[str, ...] = ("created_at", "updated_at")


class BaseAdmin(admin.ModelAdmin):
    list_per_page = 50
    # A COUNT(*) over millions of runs or messages on every page load is the first thing that
    # makes an admin slow; the paginator still counts the filtered result.
    show_full_result_count = False
    # Fields that only the system writes; shown, never editable.
    system_fields: Sequence[str] = ()
    formfield_overrides = {
        models.JSONField: {"widget": AdminTextareaWidget(attrs={"rows": 6})},
        # Operators paste bare domains; https is the right guess (and Django 6's default).
        models.URLField: {"assume_scheme": "https"},
    }

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [*super().get_readonly_fields(request, obj), *self.system_fields]
        field_names = {f.name for f in self.model._meta.get_fields()}
        names += [f for f in SYSTEM_FIELDS if f in field_names]
        return list(dict.fromkeys(names))


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
