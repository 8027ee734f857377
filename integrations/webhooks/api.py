"""The webhook endpoint: ``POST /api/webhooks/{provider}``.

No API token here (vendors cannot send one): each provider's signature is the authentication,
checked on the raw bytes before anything else is trusted. CSRF exempt (ninja's views are too).

Served by ``receive_view``, a plain Django view mounted in smarter_team/urls.py ahead of the
ninja API: the busiest endpoint skips ninja's per-request machinery (nested URL resolving,
parameter models, temporal response), about a tenth of its CPU. The ninja operation below is
the same function; it documents the endpoint in the OpenAPI schema and answers should the
plain route ever be removed.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from ninja import Router, Schema

from integrations.webhooks.providers import PROVIDERS
from integrations.webhooks.services import receive_webhook

router = Router(tags=["webhooks"])


class WebhookAck(Schema):
    status: str
    event_id: str
    event_type: str


class WebhookError(Schema):
    detail: str


_DESCRIPTION = "Receives a vendor's event. Providers and how each authenticates:\n\n" + "\n".join(
    f"- `{p.name}`: {p.scheme}" for p in PROVIDERS.values()
)


@router.post(
    "/{provider}",
    auth=None,
    url_name="webhook_receive",
    response={200: WebhookAck, 400: WebhookError, 401: WebhookError, 404: WebhookError, 413: WebhookError},
    summary="Receive a webhook",
    description=_DESCRIPTION,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
    },
)
def receive(request: HttpRequest, provider: str) -> HttpResponse:
    limit = int(settings.WEBHOOK_MAX_BODY_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, {"detail": "Content-Length is not a number"})
    # Refuse before reading: a declared size over the limit never reaches memory.
    if declared > limit:
        return _answer(413, {"detail": f"the body is larger than {limit} bytes"})
    body = request.body
    if len(body) > limit:
        return _answer(413, {"detail": f"the body is larger than {limit} bytes"})
    receipt = receive_webhook(
        provider_name=provider,
        body=body,
        headers=request.headers,
        query=request.GET,
        # The peer's address, not X-Forwarded-For: a client could spoof that to dodge the quota.
        source=str(request.META.get("REMOTE_ADDR") or ""),
    )
    return _answer(receipt.status_code, receipt.body)


def _answer(status_code: int, body: dict[str, Any]) -> HttpResponse:
    # A response ninja passes through as it is: the bodies are built by this module and the
    # service (their shapes are the schemas above, checked by the tests), so validating them
    # again through pydantic on every webhook would only cost time.
    return HttpResponse(json.dumps(body), status=status_code, content_type="application/json")


@csrf_exempt
@require_POST
def receive_view(request: HttpRequest, provider: str) -> HttpResponse:
    """``receive`` without ninja around it (see the module docstring)."""
    return receive(request, provider)
