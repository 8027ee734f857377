"""The integrations app in the console: provider calls, and the local vector store and memory.

Webhook events and the sandbox world have their own admin modules (owned with their code);
they are imported here because Django discovers only ``<app>/admin.py``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

# Django discovers only <app>/admin.py; these imports register the webhook and sandbox admins.
import integrations.sandbox.admin
import integrations.webhooks.admin  # noqa: F401
from integrations.models import ApiUsage, LocalVector, MemoryEntry
from smarter_team.admin import AppendOnlyAdmin, BaseAdmin, pretty_json

__all__ = ["ApiUsageAdmin", "LocalVectorAdmin", "MemoryEntryAdmin"]


@admin.register(ApiUsage)
class ApiUsageAdmin(AppendOnlyAdmin):
    list_display = (
        "at",
        "provider",
        "operation",
        "method",
        "status_code",
        "success",
        "error_type",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "cost",
        "run",
    )
    list_filter = ("provider", "success", "status_code", "error_type")
    search_fields = ("=provider", "operation", "url")
    date_hierarchy = "at"
    ordering = ("-at",)
    list_select_related = ("run",)
    raw_id_fields = ("run",)


class _EmbeddingHiddenAdmin(BaseAdmin):
    # A 256-float vector helps no operator; the text and metadata are what they read.
    exclude = ("embedding",)

    @admin.display(description="metadata")
    def metadata_pretty(self, obj: Any) -> str:
        return pretty_json(obj.metadata)


@admin.register(LocalVector)
class LocalVectorAdmin(_EmbeddingHiddenAdmin):
    list_display = ("namespace", "record_id", "updated_at")
    list_filter = ("namespace",)
    search_fields = ("=record_id", "text")
    readonly_fields = ("metadata_pretty", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the VectorStore provider, which embeds the text


@admin.register(MemoryEntry)
class MemoryEntryAdmin(_EmbeddingHiddenAdmin):
    list_display = ("session_id", "role", "name", "created_at")
    list_filter = ("role",)
    search_fields = ("=session_id", "content")
    date_hierarchy = "created_at"
    readonly_fields = ("metadata_pretty", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the Memory provider, which embeds the content
