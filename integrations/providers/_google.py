"""What the Google providers share: OAuth with the agency's refresh token, Google's error shape."""

from __future__ import annotations

from typing import ClassVar

import httpx

from integrations.http.oauth import OAuthClient
from integrations.http.ratelimit import Rate

GOOGLE_KEYS = ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REFRESH_TOKEN")


class GoogleClient(OAuthClient):
    # https://developers.google.com/identity/protocols/oauth2/web-server#offline
    refresh_url = "https://oauth2.googleapis.com/token"
    credential_names = GOOGLE_KEYS
    required_keys: ClassVar[tuple[str, ...]] = GOOGLE_KEYS
    rate: ClassVar[Rate | None] = Rate(capacity=10, per_second=10.0)

    @staticmethod
    def error_message(response: httpx.Response) -> str:
        # https://cloud.google.com/apis/design/errors#http_mapping: {"error": {"code", "message", "status"}}
        try:
            body = response.json()
        except ValueError:
            return response.reason_phrase or "error"
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return str(error.get("message") or error.get("status") or "error")[:300]
        if isinstance(error, str):
            return str(body.get("error_description") or error)[:300]
        return response.reason_phrase or "error"
