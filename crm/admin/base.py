"""Admin plumbing of the crm console: service-calling actions and read-only inlines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest


def run_each(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any], service: Callable[[Any], object]
) -> None:
    """Apply a service to each selected row; refusals are reported per row and the rest still go through."""
    done = 0
    for obj in queryset:
        try:
            service(obj)
        except (ValidationError, ValueError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}: {text}", level=messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"Done for {done} row(s).", level=messages.SUCCESS)


class ReadOnlyInline(admin.TabularInline):
    """Rows the system writes, shown for context on their parent's page."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def adopt(obj: Any, created: Any) -> None:
    """Point the admin's unsaved form instance at the row a service created, so the admin carries on with it."""
    obj.pk = created.pk
    obj.refresh_from_db()
    obj._state.adding = False
