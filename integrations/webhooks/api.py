"""The webhook endpoint: ``POST /api/webhooks/{provider}``.

No API token here (vendors cannot send one): each provider's signature is the authentication,
checked on the raw bytes before anything else is trusted. Ninja views are CSRF exempt.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status

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
def receive(request: HttpRequest, provider: str) -> Status[dict[str, Any]]:
    limit = int(settings.WEBHOOK_MAX_BODY_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Status(400, {"detail": "Content-Length is not a number"})
    # Refuse before reading: a declared size over the limit never reaches memory.
    if declared > limit:
        return Status(413, {"detail": f"the body is larger than {limit} bytes"})
    body = request.body
    if len(body) > limit:
        return Status(413, {"detail": f"the body is larger than {limit} bytes"})
    receipt = receive_webhook(provider_name=provider, body=body, headers=request.headers, query=request.GET)
    return Status(receipt.status_code, receipt.body)
