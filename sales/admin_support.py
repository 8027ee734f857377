"""Admin plumbing shared by the sales and delivery consoles: actions and add forms that call services.

(A candidate for smarter_team/admin.py once other apps want it.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest


def run_service_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: models.QuerySet[Any],
    service: Callable[[Any], object],
    done: str,
) -> None:
    """Apply a service to each selected row; a refusal (ValidationError) is reported per row, the
    others still go through."""
    succeeded = 0
    for obj in queryset:
        try:
            service(obj)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{obj}: {' '.join(exc.messages)}", level=messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}", level=messages.SUCCESS)


class CreateThroughServiceMixin:
    """The add form only collects input; a service creates the row (numbers, settlement, ...).

    ``create_through_service`` gets the validated form and returns the saved row; the admin then
    carries on (logging, redirect) with that row. Changes to an existing row save as usual.
    """

    def create_through_service(self, request: HttpRequest, form: ModelForm) -> models.Model:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            return
        created = self.create_through_service(request, form)
        # The admin holds on to ``obj`` (the unsaved instance of the form) for the rest of the request.
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False


class ReadOnlyInline(admin.TabularInline):
    """Rows written by the system, shown for context on their parent's page."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def currency_code(value: str) -> str:
    """Form cleaning for a currency field: a clear message instead of the constraint's name."""
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationError("Use a three-letter ISO 4217 currency code, e.g. USD or EUR.", code="invalid_currency")
    return code
