"""bench/lifecycle's switches: each decision it turns off is really off while the arm runs, and only then."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from types import SimpleNamespace

import pytest

from bench.lifecycle.policy import DECISIONS, applied, arm_decisions
from crm.agents.campaign import sequence_scheduler
from crm.agents.campaign.copywriting import Copywriting, heuristic_sequence
from crm.agents.lead_scoring import LeadScoring
from crm.services.scoring import QUALIFY_AT
from tests.factories.crm import CampaignFactory

pytestmark = pytest.mark.django_db


def copy_of(arm: str) -> list[str]:
    facts = SimpleNamespace(agency=SimpleNamespace(services=["automation"], offer="We automate intake."), pains=[])
    with applied(arm_decisions(arm)):
        return [s.body for s in Copywriting().decide(None, facts).steps]  # type: ignore[arg-type]


def test_the_naive_copy_is_one_email_without_the_researched_line() -> None:
    bodies = copy_of("naive")
    assert len(bodies) == 1 and "first_line" not in bodies[0] and "{{ first_name }}" in bodies[0]


def test_each_copy_decision_is_switched_off_alone() -> None:
    no_line = copy_of("-personalisation")
    agency = SimpleNamespace(services=["automation"], offer="We automate intake.")
    full = heuristic_sequence(agency, []).steps  # type: ignore[arg-type]
    assert len(no_line) == len(full) and not any("first_line" in b for b in no_line)
    one = copy_of("-email follow-ups")
    assert len(one) == 1 and "{{ first_line }}" in one[0]


def scored(arm: str, *, score: int, hard_stop: str = "") -> tuple[int, bool]:
    card = SimpleNamespace(score=score, hard_stop=hard_stop, reasons=["rules"])
    with applied(arm_decisions(arm)):
        decision = LeadScoring().decide(None, SimpleNamespace(card=card))  # type: ignore[arg-type]
    return decision.score, decision.qualified


def test_without_scoring_every_reachable_lead_is_contacted_and_no_unreachable_one() -> None:
    assert scored("naive", score=10) == (QUALIFY_AT, True)
    assert scored("-scoring", score=90) == (90, True)
    assert scored("naive", score=10, hard_stop="email invalid")[1] is False


def test_without_send_windows_a_sunday_night_is_fine_only_while_the_arm_runs() -> None:
    campaign = CampaignFactory.create()
    zone = zoneinfo.ZoneInfo("America/New_York")
    sunday_night = dt.datetime(2026, 3, 8, 3, 0, tzinfo=zone)

    def open_now() -> bool:
        return sequence_scheduler.in_window(sunday_night, campaign=campaign, zone=zone, country="US")

    assert not open_now()
    with applied(arm_decisions("-send windows")):
        assert open_now()
    assert not open_now()


def test_arms_switch_the_agents_they_name_off() -> None:
    with applied(arm_decisions("naive")) as off:
        assert {"meeting_reminder", "personalization", "proposal_follow_up", "ab_testing"} <= set(off)
    with applied(arm_decisions("full")) as off:
        assert off == ()
    for name, decision in DECISIONS.items():
        assert decision.off or decision.patches, name
    with pytest.raises(SystemExit):
        arm_decisions("-no such decision")
