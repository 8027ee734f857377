"""Console pages for conversations, messages and the suppression list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from crm import forms as crm_forms
from crm.models import Conversation, Message, SuppressionEntry
from crm.services import ingest, suppression
from crm.services.replies.classify import INTENTS
from smarter_team.admin import BaseAdmin, ReadOnlyInline, adopt, pretty_json, run_service_action
from smarter_team.admin_scale import DateFilter, LargeTableMixin, related_count, truncated, values_filter

# What the reply classifier can say; an empty intent means none was read yet.
intent_filter = values_filter(lambda: INTENTS)

# --- conversations and suppression --------------------------------------------------------------


class ConversationMessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "status", "subject", "intent", "sent_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("conversation__lead")

    ordering = ("created_at",)


@admin.register(Conversation)
class ConversationAdmin(LargeTableMixin, BaseAdmin):
    list_display = ("__str__", "channel", "status", "intent", "sentiment", "message_count", "last_message_at")
    list_select_related = ("lead",)
    list_filter = ("status", ("last_message_at", DateFilter), "channel", ("intent", intent_filter))
    # The latest activity first, on the index the date filter uses too (an old conversation that
    # got a reply today sits far from the newest ids).
    ordering = ("-last_message_at",)
    search_fields = ("lead__email", "lead__first_name", "lead__last_name")
    autocomplete_fields = ("lead",)
    system_fields = ("insights_pretty", "last_message_at")
    exclude = ("insights",)
    inlines = (ConversationMessageInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(message_total=related_count(Message, "conversation"))

    @admin.display(description="messages", ordering="message_total")
    def message_count(self, obj: Any) -> int:
        return int(obj.message_total)

    @admin.display(description="insights")
    def insights_pretty(self, obj: Conversation) -> str:
        return pretty_json(obj.insights)


@admin.register(Message)
class MessageAdmin(LargeTableMixin, BaseAdmin):
    """Messages are written by the sender and the inbox; by hand only the reply intent is corrected."""

    # Fits a 1400 px screen: the other party's address with the direction (→ to them, ← from them);
    # the lead and the mailbox are on the message's page.
    list_display = ("short_subject", "counterpart", "status", "intent", "created_at")
    list_filter = ("direction", "status", ("created_at", DateFilter), ("intent", intent_filter))
    # subject and the addresses trigram-indexed on PostgreSQL (crm 0007); ids match exactly.
    search_fields = ("subject", "to_email", "from_email", "provider_message_id__exact", "idempotency_key__exact")
    system_fields = (
        "conversation", "direction", "enrollment", "step", "variant", "mailbox", "from_email", "to_email",
        "subject", "body", "headers_pretty", "provider_message_id", "status", "sent_at", "idempotency_key",
    )  # fmt: skip
    exclude = ("headers",)
    change_list_template = "admin/crm/message/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an outbound message by hand would skip the suppression check and the outbox

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.upload_email_view)
        return [path("upload-email/", view, name="crm_message_upload_email"), *super().get_urls()]

    def upload_email_view(self, request: HttpRequest) -> HttpResponse:
        """Saved replies and bounces (.eml, .mbox) recorded as `manage.py ingest_email` records them."""
        if not self.has_change_permission(request):
            raise PermissionDenied("recording inbound email is not allowed for this user")
        results: list[ingest.Ingested] = []
        form = crm_forms.EmailUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            results = [ingest.record(prepared) for prepared in form.cleaned_data["file"]]
            failed = [r for r in results if r.status not in ("succeeded", "skipped")]
            recorded = [r for r in results if r.status == "succeeded"]
            # Nothing recorded (every message already known, or none readable) is no green success.
            level = messages.WARNING if failed or not recorded else messages.SUCCESS
            self.message_user(request, f"{len(results)} message(s) read, {len(failed)} not recorded", level=level)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "results": results,
            "title": "Upload emails (.eml or .mbox)",
        }
        return TemplateResponse(request, "admin/crm/message/upload_email.html", context)

    @admin.display(description="subject")
    def short_subject(self, obj: Message) -> str:
        return truncated(obj.subject or "(no subject)", 38)

    @admin.display(description="with")
    def counterpart(self, obj: Message) -> str:
        outbound = obj.direction == Message.Direction.OUT
        return format_html(
            "{} {}", "→" if outbound else "←", truncated(obj.to_email if outbound else obj.from_email, 30)
        )

    @admin.display(description="headers")
    def headers_pretty(self, obj: Message) -> str:
        return pretty_json(obj.headers)


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(BaseAdmin):
    """Added through ``suppress`` (which also stops outreach); afterwards only the note is editable."""

    list_display = ("shown_value", "kind", "reason", "source", "created_at")
    list_filter = ("kind", "reason")
    search_fields = ("value", "source")
    date_hierarchy = "created_at"
    actions = ("erase_addresses",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = crm_forms.SuppressionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return list(super().get_readonly_fields(request, obj))
        return [*super().get_readonly_fields(request, obj), "kind", "value", "value_hash", "reason", "source"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["kind", "value", "reason", "source", "note"]
        return ["kind", "value", "value_hash", "reason", "source", "note", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Lifting a suppression re-opens contact: only a superuser, and on purpose.
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: SuppressionEntry, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        entry = suppression.suppress(
            email_or_domain=form.cleaned_data["value"],
            reason=form.cleaned_data["reason"],
            source=form.cleaned_data.get("source") or f"admin:{request.user}"[:64],
            note=form.cleaned_data.get("note", ""),
        )
        adopt(obj, entry)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SuppressionEntry], search_term: str
    ) -> tuple[QuerySet[SuppressionEntry], bool]:
        # Erased entries keep only their hash: searching for the address still finds them.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        hashes = suppression.search_hashes(search_term)
        if hashes:
            found = found | queryset.filter(value_hash__in=hashes)
        return found, may_have_duplicates

    @admin.display(description="email or domain", ordering="value")
    def shown_value(self, obj: SuppressionEntry) -> str:
        return obj.value or f"(erased) {obj.value_hash[:12]}…"

    @admin.action(description="GDPR: erase the chosen addresses (keeps only the hash)")
    def erase_addresses(self, request: HttpRequest, queryset: QuerySet[SuppressionEntry]) -> None:
        addresses = queryset.filter(kind="email").exclude(value="")
        run_service_action(
            self, request, addresses, lambda e: suppression.erase(email=e.value, source=f"admin:{request.user}")
        )
