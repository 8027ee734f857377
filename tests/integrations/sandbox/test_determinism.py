"""Same seed, same world and the same event stream; another seed, another world."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.sandbox.world import company_at, search_people
from tests.integrations.sandbox.scenario import forget_the_world, play

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_world_and_event_stream(frozen_clock: Any) -> None:
    first = play(frozen_clock)
    forget_the_world()
    second = play(frozen_clock)
    assert first == second
    assert len(first["planned"]) >= 10, "the scenario should make the world react"


def test_another_seed_gives_another_world(frozen_clock: Any, settings: Any) -> None:
    first = play(frozen_clock)
    forget_the_world()
    settings.SANDBOX_SEED = 43
    other = play(frozen_clock)
    assert first["items"] != other["items"]
    assert [p[0] for p in first["planned"]] != [p[0] for p in other["planned"]]


def test_the_world_does_not_depend_on_the_order_it_is_asked_in(settings: Any) -> None:
    forwards = [company_at(query="saas", location="", index=i) for i in range(20)]
    backwards = [company_at(query="saas", location="", index=i) for i in reversed(range(20))]
    assert forwards == list(reversed(backwards))


def test_the_global_random_generator_is_left_alone() -> None:
    import random

    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    search_people(query="law firms", location="", start=0, count=50)
    assert random.random() == expected
