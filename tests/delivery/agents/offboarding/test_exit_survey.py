"""exit_survey: the questions once; answers read, odd ones recorded with the reason and nothing lost."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Escalation
from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Conversation, Message
from delivery.agents.offboarding.answers import detect_language, nps_group, read_answer
from delivery.agents.offboarding.common import CHECKLIST, SURVEY, item_done
from delivery.models import Offboarding, SurveyResponse
from delivery.services.offboarding import start_offboarding
from smarter_team import clock
from tests.delivery.agents.lifecycle import delivered_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

ENGLISH = """1. 8
2. Nothing wrong with your work: our budget was cut.
3. A cheaper maintenance plan would have kept us.
4. Yes, happy to talk again later."""
GERMAN = """1. 4
2. Die Termine haben sich ständig verschoben und wir mussten immer nachfragen.
3. Sagen Sie uns früh, wenn etwas später wird.
4. Nein, eher nicht."""


def surveyed() -> Offboarding:
    offboarding = start_offboarding(client=delivered_client(), reason="Budget cut", checklist=CHECKLIST)
    result = run_agent("exit_survey", {"offboarding_id": offboarding.pk})
    assert result.status == "succeeded", result.error
    return offboarding


def reply(offboarding: Offboarding, text: str) -> Message:
    contact = offboarding.client.primary_contact
    assert contact is not None and contact.email
    conversation = Conversation.objects.filter(lead=contact).first() or Conversation.objects.create(lead=contact)
    return Message.objects.create(
        conversation=conversation, direction="in", from_email=contact.email, subject="Re: exit survey", body=text,
        status="delivered", sent_at=clock.now(), idempotency_key=f"inbound:test:{Message.objects.count()}",
    )  # fmt: skip


def answer(offboarding: Offboarding, text: str) -> tuple[dict[str, Any], SurveyResponse]:
    result = run_agent("exit_survey", {"offboarding_id": offboarding.pk, "message_id": reply(offboarding, text).pk})
    assert result.status == "succeeded", result.error
    return result.output, SurveyResponse.objects.get(kind="exit", client=offboarding.client)


def test_the_exit_questions_go_out_once_and_the_item_is_ticked() -> None:
    offboarding = surveyed()

    survey = SurveyResponse.objects.get(kind="exit", client=offboarding.client)
    assert survey.sent_at is not None and survey.responded_at is None
    assert survey.answers["offboarding_id"] == offboarding.pk and "0 to 10" in survey.answers["questions"][0]
    email = Message.objects.get(idempotency_key=f"offboarding:{offboarding.pk}:exit-survey")
    assert "exit survey" in email.subject and "1. On a scale from 0 to 10" in email.body
    offboarding.refresh_from_db()
    assert item_done(offboarding, SURVEY)
    assert_idempotent("exit_survey", {"offboarding_id": offboarding.pk})
    assert SurveyResponse.objects.count() == 1


def test_questions_without_the_0_to_10_question_are_replaced() -> None:
    offboarding = start_offboarding(client=delivered_client(), reason="Budget", checklist=CHECKLIST)

    run_agent("exit_survey", {"offboarding_id": offboarding.pk}, answers=[{"questions": ["Why did you leave?"]}])

    survey = SurveyResponse.objects.get(kind="exit")
    assert "0 to 10" in survey.answers["questions"][0] and len(survey.answers["questions"]) == 4


def test_an_answer_is_read_into_score_reasons_and_analysis() -> None:
    offboarding = surveyed()

    out, survey = answer(offboarding, ENGLISH)

    assert out["score"] == 8 and out["problems"] == []
    assert survey.score == 8 and survey.responded_at is not None
    assert survey.answers["would_return"] == "yes" and survey.answers["raw"] == ENGLISH
    assert "Nothing wrong with your work: our budget was cut." in survey.answers["reasons"]
    assert survey.analysis.startswith("Scored 8/10 (passive)") and "budget" in survey.analysis
    assert not Escalation.objects.exists()


def test_a_score_off_the_scale_is_kept_as_written_with_the_reason_and_a_person_looks() -> None:
    offboarding = surveyed()

    out, survey = answer(offboarding, ENGLISH.replace("1. 8", "1. 11 out of 10, honestly"))

    assert out["score"] is None and survey.score is None
    assert "the score 11 is outside the 0-10 scale" in survey.answers["problems"][0]
    assert "11 out of 10" in survey.answers["raw"]
    assert Escalation.objects.get(dedupe_key=f"exit-survey:{survey.pk}:review").kind == "error"


def test_an_answer_in_another_language_is_recorded_as_written_for_a_person_to_read() -> None:
    offboarding = surveyed()

    out, survey = answer(offboarding, GERMAN)

    assert survey.answers["language"] == "de" and survey.answers["raw"] == GERMAN
    assert survey.score == 4  # a number reads the same in any language
    assert any("in German" in p for p in out["problems"])
    assert "German" in survey.analysis
    assert Escalation.objects.filter(dedupe_key=f"exit-survey:{survey.pk}:review").exists()


def test_the_same_answer_twice_is_recorded_once() -> None:
    offboarding = surveyed()
    message = reply(offboarding, ENGLISH)
    run_agent("exit_survey", {"offboarding_id": offboarding.pk, "message_id": message.pk})

    again = run_agent("exit_survey", {"offboarding_id": offboarding.pk, "message_id": message.pk})

    assert again.status == "skipped" and "recorded on survey" in again.error


def test_a_reply_when_no_survey_was_sent_is_not_taken_for_an_answer() -> None:
    offboarding = start_offboarding(client=delivered_client(), reason="Budget", checklist=CHECKLIST)

    result = run_agent("exit_survey", {"offboarding_id": offboarding.pk, "message_id": reply(offboarding, ENGLISH).pk})

    assert result.status == "skipped" and "no exit survey was sent" in result.error


def test_the_contacts_reply_reaches_exit_survey_through_the_response_handler() -> None:
    offboarding = surveyed()
    contact = offboarding.client.primary_contact
    assert contact is not None

    handled = run_agent(
        "email_response_handler",
        {"kind": "reply", "lead_email": contact.email, "subject": "Re: exit survey", "text": ENGLISH,
         "message_id": "sbx_msg_exit_answer"},
    )  # fmt: skip
    drain()

    assert handled.status == "succeeded", handled.error
    assert handled.output["routed"][0] == "exit_survey"
    survey = SurveyResponse.objects.get(kind="exit")
    assert survey.score == 8 and survey.answers["message_id"] == handled.output["message_id"]


def test_reading_answers_offline() -> None:
    assert read_answer("I'd say 7/10. The reports came too late.").score == 7
    assert read_answer("1. -1\n2. Awful").score == -1
    assert read_answer("No number here, sorry.").score is None
    assert read_answer(ENGLISH).would_return == "yes" and read_answer(GERMAN).would_return == "no"
    assert "delivery" in read_answer("1. 3\n2. Deadlines kept slipping.\n3. -\n4. no").themes
    assert detect_language(GERMAN) == "de" and detect_language(ENGLISH) == "en"
    assert detect_language("Nous avons arrêté pour des raisons de budget, mais le travail était très bien.") == "fr"
    assert [nps_group(s) for s in (10, 8, 3, None)] == ["promoter", "passive", "detractor", "unknown"]


def test_an_unknown_or_outgoing_message_is_no_answer() -> None:
    offboarding = surveyed()
    ours = Message.objects.get(intent="exit_survey")

    for message_id in (987654, ours.pk):
        result = run_agent("exit_survey", {"offboarding_id": offboarding.pk, "message_id": message_id})
        assert result.status == "skipped" and "no longer exists" in result.error

    assert SurveyResponse.objects.get(kind="exit").responded_at is None
