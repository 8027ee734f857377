"""client_reporting: a weekly report per client, every figure from the stored facts, sent once a week."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.projects.client_reporting import render, snapshot, ungrounded
from delivery.models import ClientReport, Milestone, ProjectTask, QAReview
from integrations.sandbox import accounts
from tests.delivery.agents.projects.scene import contact, days, planned_project, signed_client
from tests.factories.delivery import QAReviewFactory
from tests.factories.sales import ClientFactory

pytestmark = [pytest.mark.django_db]


def progressed(frozen_clock: Any) -> Any:
    """A project a few days in: discovery done and reviewed, the build started."""
    project = planned_project()
    frozen_clock.tick(days(3))
    discovery, build = project.milestones.get(order=0), project.milestones.get(order=1)
    discovery.tasks.update(status=ProjectTask.Status.DONE, done_at=frozen_clock.now)
    Milestone.objects.filter(pk=discovery.pk).update(status="done", completed_on=frozen_clock.now.date())
    first = build.tasks.order_by("order")[0]
    ProjectTask.objects.filter(pk=first.pk).update(status=ProjectTask.Status.IN_PROGRESS)
    Milestone.objects.filter(pk=build.pk).update(status="at_risk", slip_days=4)
    QAReviewFactory.create(deliverable__milestone=discovery, verdict=QAReview.Verdict.PASS)
    return project


def test_the_beat_hands_each_client_with_work_in_flight_to_a_run_of_its_own(frozen_clock: Any) -> None:
    project = planned_project()
    ClientFactory.create()  # no project: nothing to report

    result = run_agent("client_reporting", {})

    assert [r.input for r in result.handoffs] == [{"client_id": project.client_id}]


def test_the_weekly_report_says_where_the_work_stands_in_the_facts_numbers(frozen_clock: Any) -> None:
    project = progressed(frozen_clock)
    client = project.client

    result = run_agent("client_reporting", {"client_id": client.pk})

    assert result.status == "succeeded", result.error
    report = ClientReport.objects.get(client=client)
    assert report.period_start == frozen_clock.now.date() - days(frozen_clock.now.isoweekday() - 1)
    assert report.sent_at is not None
    body = report.content
    assert "Discovery and design: done on" in body and "3 of 10 tasks done (30%)" in body
    assert "at risk: forecast 4 days late" in body
    assert "Quality checks this week: 1 passed, 0 sent back for rework." in body
    assert "Next steps:" in body
    snap = snapshot(client, start=report.period_start, end=report.period_end)
    assert ungrounded(render(snap), snap) is None
    email = Message.objects.get(idempotency_key=f"client:{client.pk}:report:{report.period_start}")
    assert email.subject.startswith(f"Weekly status report: {client.company.name}") and email.body == body
    assert email.status == Message.Status.SENT


def test_a_report_with_a_number_the_facts_do_not_hold_is_replaced_by_the_plain_one(frozen_clock: Any) -> None:
    project = progressed(frozen_clock)
    invented = {"subject": "Weekly status report", "body": "Discovery and design is done and we are 95% finished!"}

    run_agent("client_reporting", {"client_id": project.client_id}, answers=[invented])

    body = ClientReport.objects.get().content
    assert "95%" not in body and "3 of 10 tasks done" in body


def test_a_grounded_brain_report_is_sent_as_written(frozen_clock: Any) -> None:
    project = progressed(frozen_clock)
    written = {
        "subject": f"Weekly status report: {project.client.company.name}",
        "body": "Hi,\n\nDiscovery and design is done; Workflow automation is running 4 days behind. 3 of 10 tasks "
        "are done.\n\nBest,\nAlex",
    }

    run_agent("client_reporting", {"client_id": project.client_id}, answers=[written])

    assert ClientReport.objects.get().content == written["body"]


def test_one_report_per_client_per_week(frozen_clock: Any) -> None:
    project = planned_project()

    _first, second = assert_idempotent("client_reporting", {"client_id": project.client_id})

    assert second.status == "skipped" and "already" in second.error
    frozen_clock.tick(days(7))
    assert run_agent("client_reporting", {"client_id": project.client_id}).status == "succeeded"
    assert ClientReport.objects.count() == 2
    assert len({m.idempotency_key for m in Message.objects.filter(intent="status_report")}) == 2


def test_a_client_we_may_not_email_still_gets_the_report_kept(frozen_clock: Any) -> None:
    project = planned_project()
    lead = contact(project.client)
    lead.do_not_contact = True
    lead.save(update_fields=["do_not_contact"])

    result = run_agent("client_reporting", {"client_id": project.client_id})

    report = ClientReport.objects.get()
    assert report.sent_at is None and "not sent" in result.output["note"]
    assert not Message.objects.filter(intent="status_report").exists()


def test_a_client_without_work_in_flight_is_skipped(frozen_clock: Any) -> None:
    result = run_agent("client_reporting", {"client_id": signed_client().pk})

    assert result.status == "skipped" and "no project" in result.error


def test_the_client_reads_it_and_is_a_little_happier(frozen_clock: Any) -> None:
    project = planned_project()
    email = str(contact(project.client).email)
    before = accounts.mood(email)

    run_agent("client_reporting", {"client_id": project.client_id})

    assert accounts.mood(email) > before
    assert any(m["reason"] == "weekly status report" for m in _moves(email))


def _moves(email: str) -> list[dict[str, Any]]:
    from integrations.models import SandboxRecord

    return list(SandboxRecord.objects.get(kind="client_mood", ref=email).data["moves"])


def test_numbers_in_a_report_are_checked_against_the_facts(frozen_clock: Any) -> None:
    project = progressed(frozen_clock)
    snap = snapshot(project.client, start=frozen_clock.now.date(), end=frozen_clock.now.date())
    good = render(snap)
    assert ungrounded(good, snap) is None
    bad = good.model_copy(update={"body": good.body + "\nWe also cut your costs by 37%."})
    assert "37" in (ungrounded(bad, snap) or "")
    unnamed = good.model_copy(
        update={"body": re.sub(r"Discovery and design|Workflow automation|Launch and handover", "it", good.body)}
    )
    assert ungrounded(unnamed, snap) == "the report names none of the milestones"
