"""bench/market.CpuMeter: the CPU a bench's work costs, Python's and the PostgreSQL server's."""

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
