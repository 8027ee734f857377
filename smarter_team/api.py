"""The one NinjaAPI. Each app adds its router here; webhooks live under /api/webhooks/.

Authentication: every endpoint needs ``Authorization: Bearer <token>`` unless it says
``auth=None``. Tokens are configured as sha256 digests in ``settings.API_TOKEN_SHA256`` (a setting
rather than a table: the API has a handful of machine clients, rotation is an env change, and a
request costs no query). Webhooks use ``auth=None`` and their vendor's signature instead; the
health probe is open. The OpenAPI schema and docs are for staff only.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from integrations.webhooks.api import router as webhooks_router


class ApiTokenAuth(HttpBearer):
    """A bearer token whose sha256 is listed in ``settings.API_TOKEN_SHA256``."""

    def __call__(self, request: HttpRequest) -> Any | None:
        # Ninja's own parser logs a malformed header verbatim in DEBUG; a token must never reach a log.
        scheme, _, token = (request.headers.get(self.header) or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        matched = False
        for allowed in settings.API_TOKEN_SHA256:
            matched |= hmac.compare_digest(digest, allowed)
        # What the view sees as request.auth: enough to tell tokens apart in logs, nothing to replay.
        return f"token:{digest[:12]}" if matched else None


api = NinjaAPI(
    title="Smarter Team API",
    version="1.0.0",
    urls_namespace="api",
    auth=ApiTokenAuth(),
    docs_decorator=staff_member_required,
)
api.add_router("/webhooks", webhooks_router)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness probe for load balancers: answers without touching the database."""
    return {"status": "ok"}
