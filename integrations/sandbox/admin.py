"""The sandbox world in the console: what it has planned, what it reported, what it remembers."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from integrations.models import SandboxEvent, SandboxRecord
from smarter_team.admin import AppendOnlyAdmin, pretty_json


@admin.register(SandboxEvent)
class SandboxEventAdmin(AppendOnlyAdmin):
    list_display = ("due_at", "provider", "kind", "subject", "status", "response_status", "attempts")
    list_filter = ("status", "provider", "kind")
    search_fields = ("=subject", "=key")
    date_hierarchy = "due_at"
    ordering = ("-due_at",)
    fields = (
        "key",
        "provider",
        "kind",
        "subject",
        "status",
        "due_at",
        "delivered_at",
        "attempts",
        "response_status",
        "error",
        "shown_payload",
    )
    readonly_fields = fields

    @admin.display(description="payload")
    def shown_payload(self, obj: SandboxEvent) -> str:
        return pretty_json(obj.payload)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SandboxEvent]:
        return super().get_queryset(request).defer("payload")


@admin.register(SandboxRecord)
class SandboxRecordAdmin(AppendOnlyAdmin):
    list_display = ("kind", "ref", "created_at")
    list_filter = ("kind",)
    search_fields = ("=ref",)
    fields = ("kind", "ref", "created_at", "shown_data")
    readonly_fields = fields

    @admin.display(description="data")
    def shown_data(self, obj: SandboxRecord) -> str:
        return pretty_json(obj.data)
