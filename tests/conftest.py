from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from smarter_team import clock

# Fixtures that reach the test database: a test using none of them runs the same on any database.
# (django_db_blocker is in every test's closure, through pytest-django's autouse fixtures.)
_DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup", "live_server"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--factory-start",
        type=int,
        default=None,
        help="start every factory's numbering at this value in each test: run a test under a few values "
        "to find one that holds only for the numbering it happened to get (a sandbox draw keyed on a "
        "company's name, say; CI's order across two workers gives each test other numbers)",
    )
    parser.addoption(
        "--db-only",
        action="store_true",
        help="run only the tests that touch the database: the second database's run (make test), where "
        "the tests that touch none already ran in the first and would only run again",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--db-only"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        uses_db = item.get_closest_marker("django_db") is not None or bool(
            _DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """Freeze the project clock at a fixed, time zone aware Monday morning."""
    with clock.frozen(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)) as handle:
        yield handle


@pytest.fixture
def sandbox_world(settings: Any) -> None:
    """The embedded default: no vendor keys, the seeded sandbox market answers every role and signs its
    webhooks with derived secrets, delivered in process (no URL)."""
    settings.INTEGRATION_KEYS = {name: "" for name in settings.INTEGRATION_KEYS}
    settings.SANDBOX_WEBHOOKS = True
    settings.SANDBOX_SEED = 42
    settings.SANDBOX_WEBHOOK_URL = ""


@pytest.fixture
def staff_client(client: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _fresh_rule_cache() -> Iterator[None]:
    """Workers cache active rules per process; each test's rows are rolled back under that cache."""
    from learning.services import rule_cache

    rule_cache.clear()
    yield
    rule_cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _broker_seen() -> None:
    """The dispatchers republish everything when the broker looks restarted (smarter_team/broker.py),
    and the first look ever counts as one: take that look once, before any test counts publishes."""
    from smarter_team import broker

    broker.lost_messages_since_last_look("runs")
    broker.lost_messages_since_last_look("webhooks")


@pytest.fixture(autouse=True)
def _broker_not_marked_down() -> Iterator[None]:
    """A test that broke publishing marks the broker down for a few seconds in this process: the
    next test starts with a broker that has done nothing wrong."""
    from smarter_team import broker

    broker.reset()
    yield
    broker.reset()


@pytest.fixture(autouse=True)
def _factory_numbering(request: pytest.FixtureRequest) -> None:
    start = request.config.getoption("--factory-start")
    if start is None:
        return
    from factory.django import DjangoModelFactory

    pending: list[type[Any]] = [DjangoModelFactory]
    while pending:
        factory_class = pending.pop()
        pending.extend(factory_class.__subclasses__())
        if factory_class is not DjangoModelFactory and not factory_class._meta.abstract:
            factory_class.reset_sequence(start, force=True)
