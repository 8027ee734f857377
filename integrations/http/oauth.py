"""OAuth 2 refresh-token flow shared by the Google providers and QuickBooks.

The access token is cached (in Redis when REDIS_URL is set, so every worker shares one token
instead of each refreshing; in-process otherwise) until shortly before it expires. Vendors that
rotate refresh tokens (Intuit) hand back a new one; it is kept in the same cache and preferred
over the configured one, since the old one stops working.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any, ClassVar

import pydantic

from integrations.http.client import BaseClient
from integrations.http.errors import AuthError
from integrations.http.shared import shared_key, shared_redis

# Refresh a little early so a token never expires between our check and the vendor's.
EXPIRY_MARGIN_SECONDS = 120


class TokenResponse(pydantic.BaseModel):
    access_token: str
    expires_in: int = 3600
    token_type: str = "Bearer"  # noqa: S105 - a scheme name
    refresh_token: str | None = None


class _LocalTokens:
    def __init__(self) -> None:
        self.values: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()


_local = _LocalTokens()


def _cache_get(key: str) -> str | None:
    client = shared_redis()
    if client is not None:
        raw = client.get(key)
        return raw.decode() if isinstance(raw, bytes) else raw
    with _local.lock:
        found = _local.values.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]


def _cache_set(key: str, value: str, ttl: int) -> None:
    client = shared_redis()
    if client is not None:
        client.set(key, value, ex=max(1, ttl))
        return
    with _local.lock:
        _local.values[key] = (time.monotonic() + ttl, value)


class OAuthClient(BaseClient):
    """A BaseClient whose bearer token comes from a refresh token, not a static key."""

    refresh_url: ClassVar[str] = ""
    # INTEGRATION_KEYS names of (client id, client secret, refresh token).
    credential_names: ClassVar[tuple[str, str, str]] = ("", "", "")
    # Intuit wants the client credentials as HTTP Basic; Google as form fields.
    client_auth_basic: ClassVar[bool] = False

    @property
    def _cache_key(self) -> str:
        return shared_key("oauth", self.name, self.setting(self.credential_names[0]))

    def auth_headers(self, operation: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def access_token(self) -> str:
        cached = _cache_get(self._cache_key + ":access")
        if cached:
            return cached
        return self._refresh()

    def _refresh(self) -> str:
        id_name, secret_name, refresh_name = self.credential_names
        client_id, client_secret = self.setting(id_name), self.setting(secret_name)
        refresh_token = _cache_get(self._cache_key + ":refresh") or self.setting(refresh_name)
        if not (client_id and client_secret and refresh_token):
            raise AuthError(
                f"{id_name}, {secret_name} and {refresh_name} must be configured",
                provider=self.name,
                operation="oauth_refresh",
            )
        form: dict[str, Any] = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        headers = {"Accept": "application/json"}
        if self.client_auth_basic:
            pair = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        else:
            form.update(client_id=client_id, client_secret=client_secret)
        token = self.request_json(
            "POST",
            self.refresh_url,
            operation="oauth_refresh",
            model=TokenResponse,
            data=form,
            headers=headers,
            authenticate=False,
            idempotent=True,  # refreshing twice is harmless
        )
        _cache_set(self._cache_key + ":access", token.access_token, token.expires_in - EXPIRY_MARGIN_SECONDS)
        if token.refresh_token and token.refresh_token != refresh_token:
            # 100 days is Intuit's refresh-token lifetime; the newest one must survive restarts of Redis' TTL.
            _cache_set(self._cache_key + ":refresh", token.refresh_token, 100 * 86_400)
        return token.access_token


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
