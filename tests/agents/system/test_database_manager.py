"""database_manager: archive old rows in bounded rounds, keep what live records and exactly-once need,
erase former prospects past retention, report integrity problems without fixing them."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from agents.models import Action, AgentRun, Escalation, HealthCheck
from agents.testing import run_agent
from crm.models import Lead, SuppressionEntry
from crm.services.suppression import value_hash
from integrations.models import SandboxEvent, WebhookEvent
from smarter_team import clock
from tests.factories.agents import ActionFactory, AgentRunFactory, EscalationFactory, HealthCheckFactory
from tests.factories.crm import LeadFactory, SuppressionEntryFactory
from tests.factories.integrations import SandboxEventFactory, WebhookEventFactory
from tests.factories.learning import KnowledgeRuleFactory, RuleApplicationFactory
from tests.factories.sales import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive(tmp_path: Path, settings) -> Path:
    settings.ARCHIVE_DIR = tmp_path / "archive"
    settings.RETENTION_RUNS_DAYS = 90
    settings.RETENTION_ACTIONS_DAYS = 90
    settings.RETENTION_WEBHOOKS_DAYS = 60
    settings.RETENTION_PROSPECT_DAYS = 730
    return settings.ARCHIVE_DIR


def _days_ago(days: float) -> dt.datetime:
    return clock.now() - dt.timedelta(days=days)


def _finished_run(days: float, **fields) -> AgentRun:
    when = _days_ago(days)
    return AgentRunFactory.create(status=AgentRun.Status.SUCCEEDED, started_at=when, finished_at=when, **fields)


def _archived(archive: Path, label: str) -> list[dict]:
    rows = []
    for path in sorted((archive / label.lower()).glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def test_nothing_to_do_is_a_clear_result(frozen_clock) -> None:
    result = run_agent("database_manager")
    assert result.status == "succeeded", result.error
    assert result.output["summary"] == "nothing to archive, erase or report"
    assert not result.handoffs and not result.escalations


def test_old_runs_are_archived_and_deleted_and_recent_ones_stay(frozen_clock, archive) -> None:
    old = _finished_run(120)
    recent = _finished_run(10)
    result = run_agent("database_manager")
    assert result.output["archived"]["agents.AgentRun"] == 1
    assert not AgentRun.objects.filter(pk=old.pk).exists()
    assert AgentRun.objects.filter(pk=recent.pk).exists()
    (row,) = _archived(archive, "agents.AgentRun")
    assert row["pk"] == old.pk and row["fields"]["agent_name"] == old.agent_name


def test_what_a_live_record_points_to_is_kept(frozen_clock) -> None:
    parent = _finished_run(200)
    AgentRunFactory.create(status=AgentRun.Status.QUEUED, parent=parent, depth=1)  # live child
    with_pending_act = _finished_run(200)
    ActionFactory.create(run=with_pending_act, status=Action.Status.PENDING)
    with_open_escalation = _finished_run(200)
    EscalationFactory.create(run=with_open_escalation)
    evidence = _finished_run(200)
    RuleApplicationFactory.create(run=evidence, rule=KnowledgeRuleFactory.create(status="active"))
    retired_evidence = _finished_run(200)
    RuleApplicationFactory.create(run=retired_evidence, rule=KnowledgeRuleFactory.create(status="retired"))

    result = run_agent("database_manager")

    kept = {parent.pk, with_pending_act.pk, with_open_escalation.pk, evidence.pk}
    assert set(AgentRun.objects.filter(pk__in=kept).values_list("pk", flat=True)) == kept
    assert not AgentRun.objects.filter(pk=retired_evidence.pk).exists()
    assert result.output["archived"]["agents.AgentRun"] == 1


def test_keys_exactly_once_depends_on_outlive_a_short_retention(frozen_clock, settings) -> None:
    settings.RETENTION_WEBHOOKS_DAYS = 1  # asked for a day: kept 30 anyway
    settings.RETENTION_ACTIONS_DAYS = 1
    young = WebhookEventFactory.create(status=WebhookEvent.Status.PROCESSED, received_at=_days_ago(20))
    old = WebhookEventFactory.create(status=WebhookEvent.Status.PROCESSED, received_at=_days_ago(40))
    unprocessed = WebhookEventFactory.create(status=WebhookEvent.Status.RECEIVED, received_at=_days_ago(400))
    done_young = ActionFactory.create(status=Action.Status.DONE, done_at=_days_ago(20))
    Action.objects.filter(pk=done_young.pk).update(updated_at=_days_ago(20))
    done_old = ActionFactory.create(status=Action.Status.DONE, done_at=_days_ago(40))
    Action.objects.filter(pk=done_old.pk).update(updated_at=_days_ago(40))
    pending_old = ActionFactory.create(status=Action.Status.PENDING)
    Action.objects.filter(pk=pending_old.pk).update(updated_at=_days_ago(400))

    run_agent("database_manager")

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {young.pk, unprocessed.pk}
    assert set(Action.objects.values_list("pk", flat=True)) == {done_young.pk, pending_old.pk}
    assert old.pk not in WebhookEvent.objects.values_list("pk", flat=True)


def test_sandbox_and_health_rows_age_out(frozen_clock) -> None:
    delivered = SandboxEventFactory.create(status=SandboxEvent.Status.DELIVERED, due_at=_days_ago(45))
    pending = SandboxEventFactory.create(status=SandboxEvent.Status.PENDING, due_at=_days_ago(45))
    HealthCheckFactory.create(component="database", status="ok", checked_at=clock.wall_now() - dt.timedelta(days=20))
    fresh = HealthCheckFactory.create(component="database", status="ok", checked_at=clock.wall_now())
    run_agent("database_manager")
    assert list(SandboxEvent.objects.values_list("pk", flat=True)) == [pending.pk]
    assert not SandboxEvent.objects.filter(pk=delivered.pk).exists()
    assert list(HealthCheck.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_backlog_is_worked_in_bounded_rounds_handed_off_to_the_next(frozen_clock, settings) -> None:
    settings.RETENTION_BATCH = 2
    for _ in range(5):
        _finished_run(100)
    first = run_agent("database_manager")
    assert first.output["archived"]["agents.AgentRun"] == 2 and first.output["more"] is True
    (next_round,) = first.handed_to("database_manager")
    assert next_round.input == {"round": 1}
    from agents.testing import drain

    drain()
    assert AgentRun.objects.filter(finished_at__lt=_days_ago(90)).count() == 0


def test_former_prospects_past_retention_are_erased_and_stay_suppressed(frozen_clock) -> None:
    old = LeadFactory.create(status=Lead.Status.LOST)
    Lead.objects.filter(pk=old.pk).update(updated_at=_days_ago(800))
    address = str(old.email)
    client_contact = ClientFactory.create().primary_contact
    assert client_contact is not None
    Lead.objects.filter(pk=client_contact.pk).update(updated_at=_days_ago(800))
    active_deal = LeadFactory.create(status=Lead.Status.PROPOSAL_SENT)
    Lead.objects.filter(pk=active_deal.pk).update(updated_at=_days_ago(800))
    recent = LeadFactory.create(status=Lead.Status.LOST)
    unsubscribed = SuppressionEntryFactory.create(value="gone@example.org", reason="unsubscribe")
    SuppressionEntry.objects.filter(pk=unsubscribed.pk).update(created_at=_days_ago(800))

    result = run_agent("database_manager")

    assert result.output["prospects_erased"] == 1
    old.refresh_from_db()
    assert old.email is None and old.first_name == "" and old.do_not_contact
    entry = SuppressionEntry.objects.get(value_hash=value_hash(address))
    assert entry.value == ""  # only the hash is left, and it still blocks the address
    unsubscribed.refresh_from_db()
    assert unsubscribed.value == "" and unsubscribed.value_hash == value_hash("gone@example.org")
    for kept in (client_contact, active_deal, recent):
        kept.refresh_from_db()
        assert kept.email


def test_integrity_problems_are_reported_once_not_fixed(frozen_clock) -> None:
    stuck = AgentRunFactory.create(
        status=AgentRun.Status.RUNNING,
        started_at=_days_ago(1),
        lease_expires_at=clock.wall_now() - dt.timedelta(hours=3),
    )
    orphan = AgentRunFactory.create(status=AgentRun.Status.ESCALATED)  # waits on no escalation
    unknown = AgentRunFactory.create(agent_name="no_such_agent", status=AgentRun.Status.QUEUED)

    result = run_agent("database_manager")

    findings = result.output["integrity"]
    assert findings["runs_stuck_running"] == [stuck.pk]
    assert findings["runs_waiting_on_nothing"] == [orphan.pk]
    assert findings["runs_of_unknown_agents"] == [unknown.pk]
    (escalation,) = result.escalations
    assert escalation.kind == Escalation.Kind.ERROR and escalation.assigned_group == "admin"
    for run in (stuck, orphan, unknown):
        status = run.status
        run.refresh_from_db()
        assert run.status == status  # reported, not silently fixed
    assert not run_agent("database_manager").escalations  # the open one is not raised twice
