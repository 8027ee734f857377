"""satisfaction_survey: one question a month per client, the answer read from their reply, nothing lost."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.testing import assert_idempotent, drain, run_agent
from crm.models import Message
from delivery.agents.retention.satisfaction_survey import kind_for, read_score
from delivery.models import SurveyResponse
from sales.models import Client
from smarter_team import clock
from tests.delivery.agents.retention.conftest import a_client, client_said

pytestmark = pytest.mark.django_db


def sent_survey(client: Client) -> SurveyResponse:
    run_agent("satisfaction_survey")
    return SurveyResponse.objects.get(client=client)


def test_each_current_client_gets_one_question_a_month_by_email() -> None:
    due = a_client(started_on=clock.today() - dt.timedelta(days=45))
    a_client(started_on=clock.today() - dt.timedelta(days=10))  # first month: nothing to rate yet
    a_client(status=Client.Status.ONBOARDING)
    a_client(status=Client.Status.CHURNED)

    first, second = assert_idempotent("satisfaction_survey")

    key = f"survey:client:{due.pk}:{clock.today():%Y-%m}"
    assert first.output["sent"] == [key] and second.output["sent"] == []
    message = Message.objects.get(idempotency_key=key)
    assert message.to_email == due.primary_contact.email  # type: ignore[union-attr]
    assert "1 to 5" in message.body and "satisfied" in message.body and message.intent == "survey_csat"
    survey = SurveyResponse.objects.get()
    assert (survey.client, survey.kind, survey.score, survey.responded_at) == (due, "csat", None, None)
    assert survey.sent_at == clock.now() and survey.answers["survey_key"] == key
    assert [a.kind for a in first.acts] == ["email.reply"]


def test_every_third_month_the_question_is_nps() -> None:
    today = clock.today()
    assert kind_for(a_client(started_on=today - dt.timedelta(days=95)), today) == "nps"
    assert kind_for(a_client(started_on=today - dt.timedelta(days=200)), today) == "nps"
    assert kind_for(a_client(started_on=today - dt.timedelta(days=40)), today) == "csat"
    client = a_client(started_on=today - dt.timedelta(days=95))
    run_agent("satisfaction_survey")
    assert "0 to 10" in Message.objects.get(conversation__lead=client.primary_contact).body


def test_a_reply_with_a_score_is_recorded_on_the_survey() -> None:
    client = a_client()
    survey = sent_survey(client)
    reply = client_said(client, "I'd say 4 out of 5. Good month.", subject=f"Re: {survey.answers['subject']}")

    result = run_agent("satisfaction_survey", {"message_id": reply.pk})

    survey.refresh_from_db()
    assert result.output["score"] == 4 and result.output["problem"] == ""
    assert (survey.score, survey.analysis, survey.responded_at) == (4, "satisfied", reply.sent_at)
    assert survey.answers["text"] == reply.body and survey.answers["message_id"] == reply.pk
    assert run_agent("satisfaction_survey", {"message_id": reply.pk}).status == "skipped"  # once


def test_an_answer_out_of_range_is_kept_with_the_reason_and_never_stored_as_the_score() -> None:
    client = a_client(started_on=clock.today() - dt.timedelta(days=95))
    survey = sent_survey(client)
    assert survey.kind == "nps"
    reply = client_said(client, "11/10, the team has been great to work with")

    result = run_agent("satisfaction_survey", {"message_id": reply.pk})

    assert result.status == "succeeded"
    assert "between 0 and 10, not 11" in result.output["problem"]
    survey.refresh_from_db()
    assert survey.score is None and survey.responded_at is not None
    assert survey.answers["given_score"] == 11 and survey.answers["text"] == reply.body
    assert survey.analysis.startswith("not scored")
    assert Message.objects.filter(pk=reply.pk).exists()


def test_a_reply_without_a_number_leaves_the_survey_open() -> None:
    client = a_client()
    survey = sent_survey(client)
    reply = client_said(client, "Can we talk about the invoice first?")
    result = run_agent("satisfaction_survey", {"message_id": reply.pk})
    survey.refresh_from_db()
    assert result.status == "skipped" and "no score" in result.error
    assert survey.responded_at is None


def test_a_message_from_a_client_without_an_open_survey_is_not_an_answer() -> None:
    client = a_client()
    result = run_agent("satisfaction_survey", {"message_id": client_said(client, "9").pk})
    assert result.status == "skipped" and "waits for an answer" in result.error


def test_the_reply_handler_hands_a_clients_answer_to_the_survey() -> None:
    client = a_client()
    survey = sent_survey(client)
    assert client.primary_contact is not None
    handled = run_agent(
        "email_response_handler",
        {
            "kind": "reply",
            "lead_email": client.primary_contact.email,
            "message_id": "sbx_msg_answer_1",
            "subject": f"Re: {survey.answers['subject']}",
            "text": "5 - keep it up!",
        },
    )
    assert handled.status == "succeeded", handled.error
    assert handled.output["routed"][0] == "satisfaction_survey"
    drain()
    survey.refresh_from_db()
    assert survey.score == 5


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("9", 9),
        ("I'd say 9.", 9),
        ("I'd say 8 out of 10.", 8),
        ("11/10!", 11),
        ("a solid four", 4),
        ("7 - thanks\n> On Monday you wrote: rate us from 1 to 5", 7),
        ("-1", -1),
        ("Good work this month", None),
        ("3.5", None),
    ],
)
def test_the_score_is_the_number_they_wrote(text: str, score: int | None) -> None:
    assert read_score(text) == score
