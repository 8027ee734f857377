"""ab_testing: two variants for a checked step; a winner only at the planned size and only when significant."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.testing import assert_idempotent, run_agent
from crm.agents.ab_testing import PLANNED_N, REPLY_WAIT, challenger_subject
from crm.models import Campaign, CampaignStep, Message, Variant
from smarter_team import clock
from tests.crm.agents.campaign_rows import sends
from tests.factories.crm import CampaignFactory, CampaignStepFactory, VariantFactory

pytestmark = pytest.mark.django_db
R = Message.Status.REPLIED
OLD = clock.now() - REPLY_WAIT - dt.timedelta(days=1)


def _step(**kw: object) -> CampaignStep:
    return CampaignStepFactory.create(campaign=CampaignFactory.create(status=Campaign.Status.ACTIVE), order=1, **kw)


def _arms(step: CampaignStep) -> tuple[Variant, Variant]:
    return VariantFactory.create(step=step, label="A"), VariantFactory.create(step=step, label="B")


def _arm(variant: Variant, *, replies: int, n: int = PLANNED_N, at: dt.datetime = OLD) -> None:
    sends(replies, status=R, step=variant.step, variant=variant, at=at)
    sends(n - replies, step=variant.step, variant=variant, at=at)


def test_a_checked_step_gets_a_control_and_a_challenger_that_changes_the_subject_only() -> None:
    step = _step(subject_template="Quick question about routing at {{ company }}", spam_check={"passed": True})
    first, _ = assert_idempotent("ab_testing", {"step_id": step.pk})
    assert first.output["created"] == ["1/A", "1/B"]
    a, b = step.variants.order_by("label")
    assert a.subject == step.subject_template and b.subject == "Quick question about routing"
    assert a.body == b.body == step.body_template and not a.is_winner and not b.is_winner


def test_a_campaign_handoff_gives_each_of_its_checked_steps_variants() -> None:
    step = _step(spam_check={"passed": True})
    CampaignStepFactory.create(campaign=step.campaign, order=2, spam_check={"passed": True})
    result = run_agent("ab_testing", {"campaign_id": step.campaign_id})
    assert result.output["created"] == ["1/A", "1/B", "2/A", "2/B"]


def test_a_step_that_failed_its_spam_check_gets_no_variants() -> None:
    step = _step(spam_check={"passed": False, "findings": ["no unsubscribe link"]})
    result = run_agent("ab_testing", {"step_id": step.pk})
    assert result.status == "succeeded" and result.output["created"] == [] and not step.variants.exists()


def test_a_clearly_better_challenger_wins_at_the_planned_size() -> None:
    step = _step()
    a, b = _arms(step)
    _arm(a, replies=int(PLANNED_N * 0.05))
    _arm(b, replies=int(PLANNED_N * 0.09))
    first, _ = assert_idempotent("ab_testing")
    b.refresh_from_db()
    a.refresh_from_db()
    assert first.output["winners"] == {str(step.pk): "B"} and b.is_winner and not a.is_winner


def test_no_winner_before_every_arm_has_its_planned_sends_however_big_the_gap() -> None:
    step = _step()
    a, b = _arms(step)
    _arm(a, replies=10, n=300)
    _arm(b, replies=60, n=300)
    result = run_agent("ab_testing")
    assert result.output["winners"] == {} and "keep testing" in result.output["verdicts"][str(step.pk)]
    assert not Variant.objects.filter(is_winner=True).exists()


def test_sends_too_recent_to_have_been_answered_are_not_read_yet() -> None:
    step = _step()
    a, b = _arms(step)
    _arm(a, replies=int(PLANNED_N * 0.05), at=clock.now())
    _arm(b, replies=int(PLANNED_N * 0.09), at=clock.now())
    assert run_agent("ab_testing").output["winners"] == {}


def test_a_difference_within_chance_declares_no_winner() -> None:
    step = _step()
    a, b = _arms(step)
    _arm(a, replies=60)
    _arm(b, replies=66)
    result = run_agent("ab_testing")
    assert result.output["winners"] == {} and "no difference" in result.output["verdicts"][str(step.pk)]


def test_only_the_first_planned_sends_count_so_reading_later_is_not_peeking() -> None:
    step = _step()
    a, b = _arms(step)
    _arm(a, replies=60)
    _arm(b, replies=66)
    sends(200, status=R, step=step, variant=b, at=clock.now() - dt.timedelta(days=1))  # later luck
    assert run_agent("ab_testing").output["winners"] == {}


def test_a_step_with_no_messages_and_an_unknown_step_are_handled() -> None:
    step = _step()
    _arms(step)
    result = run_agent("ab_testing", {"step_id": step.pk})
    assert result.status == "succeeded" and "keep testing: A 0, B 0" in result.output["verdicts"][str(step.pk)]
    assert run_agent("ab_testing", {"step_id": 999999}).output["verdicts"] == {}


def test_the_challenger_is_shorter_when_long_and_a_question_when_short() -> None:
    assert challenger_subject("Cutting dispatch time at {{ company }} this spring") == "Cutting dispatch time"
    assert challenger_subject("Routing at {{ company }}") == "question about {{ company }}?"
    assert challenger_subject("Routing help") == "Routing help?"
