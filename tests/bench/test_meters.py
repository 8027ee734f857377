"""bench/market's meters: the CPU a bench's work costs (Python's and the server's) and the time per agent."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.market import CpuMeter

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def test_counts_the_servers_work_as_well_as_this_process():
    with CpuMeter(connection) as meter, connection.cursor() as cursor:
        # Work only the server does: the Python side waits.
        cursor.execute("SELECT count(*) FROM generate_series(1, 4000000) AS n WHERE n % 7 = 3")
    assert meter.there is not None
    assert meter.there > 0.05
    assert meter.seconds == pytest.approx(meter.here + meter.there)
    assert "PostgreSQL" in meter.describe()


@pytest.mark.django_db(transaction=True)
def test_a_changed_backend_leaves_the_servers_share_unknown():
    meter = CpuMeter(connection)
    with meter:
        connection.close()  # the next query opens another backend: its counter is not ours
        connection.ensure_connection()
    assert meter.there is None
    assert meter.seconds is None
    assert "unknown" in meter.describe()


def test_the_agent_timer_charges_each_run_to_its_agent_and_lets_go_after():
    import tests.agents.sample_agents  # noqa: F401  (registers the t_ agents)
    from agents import runtime
    from agents.testing import run_agent
    from bench.market import AgentTimer, QueryCounter

    counter = QueryCounter()
    original = runtime.perform
    with connection.execute_wrapper(counter), AgentTimer(counter) as timer:
        run_agent("t_echo", {"text": "hello"})
        run_agent("t_echo", {"text": "again"})
    assert runtime.perform is original
    assert set(timer.seconds) == {"t_echo"} and timer.seconds["t_echo"] > 0
    assert 0 < timer.queries["t_echo"] <= counter.count
    [(name, seconds, asked)] = timer.top()
    assert seconds == timer.seconds["t_echo"]
    assert (name, asked) == ("t_echo", timer.queries["t_echo"])
