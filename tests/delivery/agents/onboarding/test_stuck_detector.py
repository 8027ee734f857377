"""onboarding_stuck_detector: progress read back, then nudge, nudge, escalate; never two the same day."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from agents.models import Escalation
from agents.testing import assert_idempotent, run_agent
from crm.models import Message
from delivery.agents.onboarding.common import ACCESSES, ASSETS, CHECKLIST, KICKOFF_HELD, WORKSPACE
from delivery.models import ClientAccess, Onboarding
from delivery.services.onboarding import start_onboarding
from integrations.sandbox.work import SandboxProjectTool
from sales.models import Meeting
from sales.services.meetings import mark_meeting_held
from tests.delivery.agents.lifecycle import signed_client

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def stalled(**contact: Any) -> Onboarding:
    """An onboarding opened now (Monday 2 March) that nobody moves on."""
    return start_onboarding(client=signed_client(contact=contact or None), items=CHECKLIST)


def morning(frozen: Any, day: int) -> None:
    """7:00 UTC on March ``day`` 2026 (the beat's hour)."""
    frozen.set(dt.datetime(2026, 3, day, 7, 0, tzinfo=dt.UTC))


def detect() -> dict[str, Any]:
    result = run_agent("onboarding_stuck_detector")
    assert result.status == "succeeded", result.error
    return result.output


def test_a_stalled_onboarding_is_nudged_twice_then_escalated_on_separate_days(frozen_clock: Any) -> None:
    onboarding = stalled()
    contact = onboarding.client.primary_contact

    morning(frozen_clock, 4)  # Wednesday: two business days idle
    assert detect()["nudged"] == []
    morning(frozen_clock, 5)  # Thursday: three
    assert detect()["nudged"] == [onboarding.pk]
    assert detect()["nudged"] == []  # the same day again: nothing more
    onboarding.refresh_from_db()
    assert onboarding.status == Onboarding.Status.STUCK and onboarding.nudges_sent == 1
    morning(frozen_clock, 6)  # Friday: one business day since the nudge
    out = detect()
    assert out["nudged"] == [] and out["escalated"] == []
    morning(frozen_clock, 9)  # Monday: two business days since (the weekend does not count)
    assert detect()["nudged"] == [onboarding.pk]
    morning(frozen_clock, 10)
    out = detect()
    assert out["nudged"] == [] and out["escalated"] == []  # no escalation the day after a nudge either
    morning(frozen_clock, 11)
    assert detect()["escalated"] == [onboarding.pk]
    morning(frozen_clock, 12)
    assert detect()["escalated"] == []  # once per stall

    nudges = Message.objects.filter(intent="onboarding_nudge").order_by("pk")
    assert contact is not None
    assert [m.to_email for m in nudges] == [contact.email, contact.email]
    assert "the accesses from our access request email" in nudges[0].body
    assert len({m.created_at.date() for m in nudges}) == 2
    escalation = Escalation.objects.get(dedupe_key__startswith=f"onboarding:{onboarding.pk}:stuck:")
    assert escalation.created_at.date() not in {m.created_at.date() for m in nudges}
    assert "after 2 nudge(s)" in escalation.reason and escalation.assigned_group == "manager"


def test_progress_unsticks_it_resolves_the_escalation_and_starts_counting_again(frozen_clock: Any) -> None:
    onboarding = stalled()
    for day in (5, 9, 11):
        morning(frozen_clock, day)
        detect()
    escalation = Escalation.objects.get(dedupe_key__startswith=f"onboarding:{onboarding.pk}:stuck:")
    kickoff = Meeting.objects.create(
        client=onboarding.client, kind=Meeting.Kind.KICKOFF, status=Meeting.Status.SCHEDULED,
        starts_at=frozen_clock.now - dt.timedelta(hours=30), ends_at=frozen_clock.now - dt.timedelta(hours=29),
    )  # fmt: skip
    mark_meeting_held(meeting=kickoff)

    morning(frozen_clock, 12)
    out = detect()

    assert out["progressed"] == {str(onboarding.pk): [KICKOFF_HELD]}
    onboarding.refresh_from_db()
    escalation.refresh_from_db()
    assert onboarding.status == Onboarding.Status.IN_PROGRESS
    assert escalation.status == Escalation.Status.RESOLVED and KICKOFF_HELD in escalation.decision_note
    morning(frozen_clock, 16)  # Monday: two business days since the progress: not yet
    assert detect()["nudged"] == []
    morning(frozen_clock, 17)
    assert detect()["nudged"] == [onboarding.pk]  # a new stall, a new first nudge


def test_a_contact_who_may_not_be_emailed_is_escalated_without_a_nudge(frozen_clock: Any) -> None:
    onboarding = stalled(do_not_contact=True)

    morning(frozen_clock, 5)
    out = detect()

    assert out["nudged"] == [] and out["escalated"] == [onboarding.pk]
    assert not Message.objects.exists()
    assert "cannot be emailed" in Escalation.objects.get().reason


def test_the_clients_tasks_done_in_their_workspace_are_ticked_and_the_accesses_granted(frozen_clock: Any) -> None:
    client = signed_client()
    assert run_agent("onboarding_orchestrator", {"client_id": client.pk}).status == "succeeded"
    assert run_agent("client_setup", {"client_id": client.pk}).status == "succeeded"
    onboarding = Onboarding.objects.get(client=client)
    project_id = onboarding.tasks.get(item=WORKSPACE).external_id
    SandboxProjectTool().create_task(idempotency_key="their-own", project_id=project_id, title="Clean up CRM")

    # The sandbox's team works the board in order with seeded overruns (and the client's own task
    # takes its turn): two months see every onboarding task done, whatever the seed draws.
    frozen_clock.tick(60 * DAY)
    out = detect()

    assert sorted(out["progressed"][str(onboarding.pk)]) == sorted([ACCESSES, ASSETS])
    assert out["nudged"] == []  # progress today: no nudge the same run
    # Ours plus, for some clients, one the sandbox's client adds on their own: never imported.
    assert any(re.search(r"\b[12] workspace task\(s\) we did not create", n) for n in out["notes"]), out["notes"]
    assert onboarding.tasks.filter(item="Clean up CRM").count() == 0
    accesses = ClientAccess.objects.filter(client=client)
    assert accesses.count() == 2 and all(a.status == "granted" and a.granted_at for a in accesses)


def test_nothing_to_do_twice_on_the_same_day(frozen_clock: Any) -> None:
    stalled()
    morning(frozen_clock, 5)

    assert_idempotent("onboarding_stuck_detector")

    assert Message.objects.filter(intent="onboarding_nudge").count() == 1


def test_a_kickoff_the_client_cancelled_is_booked_again_a_bounded_number_of_times(frozen_clock: Any) -> None:
    from delivery.agents.onboarding.stuck_detector import MAX_KICKOFFS
    from integrations.models import SandboxRecord
    from sales.services.meetings import cancel_meeting

    morning(frozen_clock, 2)
    onboarding = stalled()
    first = run_agent("onboarding_orchestrator", {"client_id": onboarding.client_id})
    assert first.status == "succeeded", first.error
    kickoffs = Meeting.objects.filter(client=onboarding.client, kind=Meeting.Kind.KICKOFF)
    assert kickoffs.count() == 1 and kickoffs.get().booking_uid

    morning(frozen_clock, 3)
    assert detect()["kickoffs_rebooked"] == {}  # booked and live: nothing to do
    for booked in range(1, MAX_KICKOFFS):
        cancel_meeting(meeting=kickoffs.latest("pk"))  # the client cancelled it
        morning(frozen_clock, 3 + booked)
        out = detect()
        new = kickoffs.order_by("-pk").first()
        assert new is not None and out["kickoffs_rebooked"] == {str(onboarding.pk): new.pk}
        assert new.status == Meeting.Status.SCHEDULED and new.booking_uid  # in the calendar, invite sent
        assert SandboxRecord.objects.filter(kind="booking", ref=new.booking_uid).exists()
        assert new.starts_at is not None and new.starts_at > frozen_clock.now
        assert detect()["kickoffs_rebooked"] == {}  # the same morning again: the new one is live
    assert kickoffs.count() == MAX_KICKOFFS

    cancel_meeting(meeting=kickoffs.latest("pk"))
    morning(frozen_clock, 3 + MAX_KICKOFFS)
    assert detect()["kickoffs_rebooked"] == {}  # enough: the nudges and a human take it from here
    assert kickoffs.count() == MAX_KICKOFFS
