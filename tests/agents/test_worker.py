"""The runtime on a real Celery worker: Redis broker, PostgreSQL, nothing eager."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from agents.models import AgentRun, AuditLog
from agents.services.runs import dispatch_due, start_run
from crm.models import Lead
from smarter_team.celery import app
from tests.agents.helpers import output_of
from tests.factories.crm import CompanyFactory, LeadFactory

# PostgreSQL only, as every test whose threads share the test database: on SQLite the test database
# is in memory with a shared cache, where the test's poll and the worker thread's write lock each
# other's tables ("database table is locked", not retried by the busy timeout; seen failing in CI).
# The embedded default never runs that way: its worker is a process of its own on a WAL file.
pytestmark = [pytest.mark.worker, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[None]:
    assert not app.conf.task_always_eager and app.conf.broker_url.startswith("redis://")
    app.control.purge()  # this test's Redis DB only (REDIS_URL)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the worker")


def test_a_handoff_chain_runs_through_the_worker(worker) -> None:
    acme = CompanyFactory.create(domain="acme.com", name="Acme")
    original = LeadFactory.create(first_name="Jane", last_name="Doe", email="jane@acme.com", company=acme)
    duplicate = LeadFactory.create(
        first_name="JANE", last_name="DOE", email="jane.doe@acme.com", company=None, country="DE", time_zone=""
    )
    run = start_run(agent_name="data_validation", input={"lead_id": duplicate.pk}, trigger="event")

    def deduplicated() -> bool:
        chain = AgentRun.objects.filter(correlation_id=run.correlation_id)
        failed = chain.exclude(status__in=["queued", "running", "succeeded"]).first()
        assert failed is None, f"{failed}: {failed.error}"
        return chain.filter(agent_name="deduplication", status="succeeded").exists()

    wait_for(deduplicated)
    run.refresh_from_db()
    assert run.status == AgentRun.Status.SUCCEEDED and run.queue == "crm"
    dedup = AgentRun.objects.get(correlation_id=run.correlation_id, agent_name="deduplication")
    assert dedup.parent == run and dedup.depth == 1
    assert output_of(dedup)["merged_leads"] == [[duplicate.pk, original.pk]]
    duplicate.refresh_from_db()
    assert (duplicate.first_name, duplicate.last_name, duplicate.country) == ("Jane", "Doe", "DE")
    assert duplicate.time_zone == "Europe/Berlin"
    assert duplicate.merged_into == original and duplicate.do_not_contact
    assert AuditLog.objects.filter(run=dedup, action="lead.merged", target_id=str(duplicate.pk)).exists()
    assert Lead.objects.filter(merged_into__isnull=True, last_name="Doe").count() == 1


def test_a_transient_failure_is_retried_by_the_worker_when_due(worker, frozen_clock) -> None:
    run = start_run(agent_name="t_flaky", input={"fail_times": 1}, trigger="event")
    wait_for(lambda: AgentRun.objects.filter(pk=run.pk, attempts=1, status="queued").exists())
    run.refresh_from_db()
    assert run.due_at == frozen_clock.now + dt.timedelta(seconds=30)
    assert dispatch_due() == 0  # not due yet: stays a row, no broker ETA

    frozen_clock.tick(dt.timedelta(seconds=31))
    assert dispatch_due() == 1
    wait_for(lambda: AgentRun.objects.filter(pk=run.pk, status="succeeded").exists())
    run.refresh_from_db()
    assert run.attempts == 2 and run.output == {"attempt": 2}
