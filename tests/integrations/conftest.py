from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

from integrations.http import shared
from integrations.http.breaker import InProcessBreakerStore
from smarter_team.logging import _secret_values

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(provider: str, name: str) -> Any:
    """A vendor-shaped JSON body from tests/integrations/fixtures/<provider>/<name>.json."""
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_provider_state() -> Iterator[None]:
    """Breaker and rate-limit state from one test must not open a circuit in the next."""
    client = shared.shared_redis()
    if client is not None:
        for pattern in (shared.shared_key(kind, "*") for kind in ("breaker", "ratelimit", "oauth")):
            for key in client.scan_iter(pattern):
                client.delete(key)
    yield


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep the base client asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("integrations.http.client._default_sleep", recorded.append)
    return recorded


@pytest.fixture
def keys(settings: Any) -> Iterator[Callable[..., None]]:
    """Set provider keys for one test: keys(PERPLEXITY_API_KEY="pplx-test-secret")."""

    def set_keys(**values: str) -> None:
        settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, **values}
        _secret_values.cache_clear()

    yield set_keys
    _secret_values.cache_clear()


@pytest.fixture
def in_process_breakers(monkeypatch: pytest.MonkeyPatch) -> InProcessBreakerStore:
    store = InProcessBreakerStore()
    monkeypatch.setattr("integrations.http.breaker._default_store", store)
    return store


@pytest.fixture
def mock_http() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router
