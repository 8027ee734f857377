"""The agency's profile in the console: one row, edited in place, never added twice or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.models import AgencyProfile
from smarter_team.admin import BaseAdmin


@admin.register(AgencyProfile)
class AgencyProfileAdmin(BaseAdmin):
    list_display = ("name", "sender_name", "sender_email", "currency", "margin_floor", "max_discount", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "offer", "services", "website")}),
        (
            "Sender (signature and CAN-SPAM footer)",
            {"fields": ("sender_name", "sender_title", "sender_email", "postal_address")},
        ),
        ("Prices", {"fields": ("currency", "rate_card", "margin_floor", "max_discount")}),
        ("Autopilot", {"fields": ("autopilot",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not AgencyProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # agents read it on every run: it is edited, never removed
