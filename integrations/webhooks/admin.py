"""The WebhookEvent console: what arrived, what became of it, and a replay button.

Events are written only by the webhook service, so the admin is read-only; the raw body is
shown decoded and headers as stored (signatures and shared secrets were masked on arrival).
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from integrations.models import WebhookEvent
from integrations.webhooks.providers import PROVIDERS
from integrations.webhooks.services import MASK, replay_event
from smarter_team.admin import AppendOnlyAdmin, pretty_json, report_outcome
from smarter_team.admin_scale import DateFilter, LargeTableMixin, truncated, values_filter

MAX_SHOWN_BODY = 200_000  # characters; the admin page stays usable for a 1 MB body


def decoded_body(raw: bytes | memoryview | None) -> str:
    """The body as text: pretty JSON when it parses, else the bytes decoded leniently."""
    data = bytes(raw or b"")
    try:
        text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = data.decode("utf-8", errors="replace")
    return text if len(text) <= MAX_SHOWN_BODY else text[:MAX_SHOWN_BODY] + "\n… (truncated)"


def handled_event_types() -> list[str]:
    """The types some provider handles; others are stored as ignored (found by searching their id)."""
    return [event_type for provider in PROVIDERS.values() for event_type in provider.handlers]


@admin.register(WebhookEvent)
class WebhookEventAdmin(LargeTableMixin, AppendOnlyAdmin):
    # An unsigned event is a rejected one (a constraint): the status says it, the filter finds them.
    list_display = ("received_at", "provider", "event_type", "short_event_id", "status", "attempts")
    list_filter = (
        "status",
        ("received_at", DateFilter),
        ("provider", values_filter(lambda: PROVIDERS)),
        "signature_ok",
        ("event_type", values_filter(handled_event_types)),
    )
    search_fields = ("event_id__exact",)  # pasted from the vendor's dashboard; indexed (integrations 0005)
    ordering = ("-received_at",)
    # raw_body and headers are shown through the formatted read-only fields below.
    fields = (
        "provider",
        "event_id",
        "event_type",
        "status",
        "signature_ok",
        "attempts",
        "error",
        "received_at",
        "processed_at",
        "shown_headers",
        "shown_body",
    )
    readonly_fields = fields
    actions = ("replay_selected",)

    @admin.display(description="event id")
    def short_event_id(self, obj: WebhookEvent) -> str:
        return truncated(obj.event_id, 28)  # composite ids are 40 hex characters

    @admin.display(description="headers")
    def shown_headers(self, obj: WebhookEvent) -> str:
        # Masked on arrival; masked again here in case a row predates that rule.
        headers = {k: (MASK if "signature" in k or "secret" in k else v) for k, v in (obj.headers or {}).items()}
        return pretty_json(headers)

    @admin.display(description="raw body")
    def shown_body(self, obj: WebhookEvent) -> str:
        return format_html("<pre style='white-space:pre-wrap;margin:0'>{}</pre>", decoded_body(obj.raw_body))

    @admin.action(description="Replay the selected events (rejected ones are skipped)")
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        events = list(queryset.only("pk", "status", "provider", "event_type", "event_id"))
        user = request.user if request.user.is_authenticated else None
        skipped = [str(event) for event in events if not replay_event(event=event, user=user)]
        replayed = len(events) - len(skipped)
        why = "a rejected event (its signature failed) is never replayed"
        report_outcome(self, request, changed=replayed, done="Queued for replay", unchanged=skipped, why=why)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        # The changelist never needs the bodies (up to 1 MB each); the detail page loads its one.
        return super().get_queryset(request).defer("raw_body")
