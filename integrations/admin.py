"""The integrations app in the console: provider calls, and the local vector store and memory.

Webhook events and the sandbox world have their own admin modules (owned with their code);
they are imported here because Django discovers only ``<app>/admin.py``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

# Django discovers only <app>/admin.py; these imports register the webhook and sandbox admins.
import integrations.sandbox.admin
import integrations.webhooks.admin  # noqa: F401
from agents.console import run_link
from integrations.models import ApiUsage, LocalVector, MemoryEntry
from smarter_team.admin import AppendOnlyAdmin, BaseAdmin, pretty_json
from smarter_team.admin_scale import DateFilter, LargeTableMixin, RecentValuesFilter

__all__ = ["ApiUsageAdmin", "LocalVectorAdmin", "MemoryEntryAdmin"]


@admin.register(ApiUsage)
class ApiUsageAdmin(LargeTableMixin, AppendOnlyAdmin):
    # Fits a 1400 px screen: the answer with its error, tokens in/out in one column, the run by id.
    list_display = ("at", "provider", "operation", "answer", "latency_ms", "tokens", "cost", run_link)
    list_filter = (
        ("at", DateFilter),
        ("provider", RecentValuesFilter),
        "success",
        ("status_code", RecentValuesFilter),
        ("error_type", RecentValuesFilter),
    )
    search_fields = ("url", "provider__exact")  # url trigram-indexed on PostgreSQL (integrations 0005)
    ordering = ("-at",)
    raw_id_fields = ("run",)

    @admin.display(description="answer")
    def answer(self, obj: ApiUsage) -> str:
        status = str(obj.status_code or "-")
        return format_html("{} <span class='quiet'>{}</span>", status, obj.error_type) if obj.error_type else status

    @admin.display(description="tokens in/out")
    def tokens(self, obj: ApiUsage) -> str:
        return f"{obj.tokens_in}/{obj.tokens_out}" if obj.tokens_in or obj.tokens_out else "-"


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
