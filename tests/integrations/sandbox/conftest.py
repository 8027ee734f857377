from __future__ import annotations

from typing import Any

import pytest

from tests.integrations.webhooks.conftest import event_agents  # noqa: F401 - stand-in event agents


@pytest.fixture(autouse=True)
def sandbox_on(settings: Any) -> None:
    """The embedded default: no vendor keys, the sandbox signs with its derived secrets."""
    settings.INTEGRATION_KEYS = {name: "" for name in settings.INTEGRATION_KEYS}
    settings.SANDBOX_WEBHOOKS = True
    settings.SANDBOX_SEED = 42
    settings.SANDBOX_WEBHOOK_URL = ""
