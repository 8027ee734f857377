from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.brains import scripted
from learning.demo import DemoEnricher, demo_agent


@pytest.fixture
def demo() -> Iterator[type[DemoEnricher]]:
    """The demo agent that fails for leads without a company domain, registered for the test."""
    with demo_agent() as cls:
        yield cls


@pytest.fixture
def no_holdout(settings):
    settings.LEARNING_HOLDOUT_RATE = 0.0
    return settings


@pytest.fixture
def all_holdout(settings):
    settings.LEARNING_HOLDOUT_RATE = 1.0
    return settings


@pytest.fixture
def scripted_brain(settings) -> Iterator[None]:
    settings.BRAIN_DEFAULT = "scripted"
    scripted.reset()
    yield
    scripted.reset()
