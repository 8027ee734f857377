from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from tests.integrations.conftest import load_fixture

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


@pytest.fixture
def google(keys: Callable[..., None], mock_http: respx.MockRouter) -> respx.Route:
    """Google OAuth configured, the token endpoint faked; returns the token route."""
    keys(
        GOOGLE_CLIENT_ID="client-id.apps.googleusercontent.com",
        GOOGLE_CLIENT_SECRET="gocspx-test-secret",
        GOOGLE_REFRESH_TOKEN="1//refresh-test-secret",
    )
    return mock_http.post(GOOGLE_TOKEN_URL).respond(200, json=load_fixture("google", "token"))


def body(route: respx.Route, index: int = -1) -> Any:
    import json

    call = route.calls[index] if index != -1 else route.calls.last
    return json.loads(call.request.content)
