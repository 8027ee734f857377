"""A real worker process SIGKILLed at each boundary of a run, then the sweepers finish the work.

The agent (t_closer) does everything an agent can: loads a lead, asks its brain, then in one act
writes the lead (audited), hands off to t_echo and records an outbox act. Whatever boundary the
worker dies at: no write twice, no act twice, no act lost, and the run ends in a definite state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from agents.models import Action, AgentRun, AuditLog
from agents.runtime_hooks import BOUNDARIES
from agents.services.runs import start_run
from agents.testing import finish_after_crash
from tests.factories.crm import LeadFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _worker_dies_at(boundary: str, run_id: int) -> subprocess.CompletedProcess[bytes]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smarter_team.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "AGENTS_CRASH_AT": boundary,
    }
    script = (
        "import django; django.setup(); import tests.agents.sample_agents; "
        f"from agents.runtime import execute; execute({run_id})"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, timeout=120
    )


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_a_worker_killed_at_any_boundary_leaves_every_effect_exactly_once(boundary: str, tmp_path: Path) -> None:
    lead = LeadFactory.create(title="CTO")
    sent = tmp_path / "sent.txt"
    run = start_run(
        agent_name="t_closer", input={"lead_id": lead.pk, "path": str(sent)}, trigger="event", enqueue=False
    )
    worker = _worker_dies_at(boundary, run.pk)
    assert worker.returncode == -9, worker.stderr.decode()[-3000:]  # SIGKILL: no cleanup ran

    run.refresh_from_db()
    committed = boundary in ("before_call", "after_call")
    # Before commit the attempt left nothing but its claim; after commit, all of it.
    assert run.status == (AgentRun.Status.SUCCEEDED if committed else AgentRun.Status.RUNNING)
    assert AuditLog.objects.filter(action="lead.contacted").count() == (1 if committed else 0)
    assert Action.objects.count() == (1 if committed else 0)

    result = finish_after_crash(run)

    assert result.status == "succeeded"  # a definite end
    assert AuditLog.objects.filter(action="lead.contacted").count() == 1  # no write twice
    assert AgentRun.objects.filter(agent_name="t_echo").count() == 1  # no handoff twice
    [action] = Action.objects.all()
    assert action.status == Action.Status.DONE  # no act lost
    assert sent.read_text().splitlines() == [action.idempotency_key]  # no act twice
    lead.refresh_from_db()
    assert lead.title == "CTO (contacted)"
