from __future__ import annotations

import pytest

from tests.integrations.webhooks.conftest import event_agents  # noqa: F401 - stand-in event agents


@pytest.fixture(autouse=True)
def sandbox_world(sandbox_world: None) -> None:
    """Every test here lives on the embedded default's sandbox market (tests/conftest.py)."""
