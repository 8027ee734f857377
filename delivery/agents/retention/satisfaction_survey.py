"""satisfaction_survey: one survey email per client per month, and the answers, read from the replies.

Beat (monthly, ``{}``): each current client past their first month gets one question by email
(queue_email, key ``survey:client:{id}:{YYYY-MM}``): NPS every third month of the relationship
(0-10, "how likely are you to recommend us"), CSAT in the other months (1-5, "how satisfied were
you with our work this month"). The open survey is a SurveyResponse row without a score.

Answers are captured from the client's reply: email_response_handler hands over
``{"message_id"}`` when a client who has an open survey writes to us. The reply is matched to the
survey by its subject ("Re: ..."), else to the latest open one; the score is the number in it. A
number outside the scale ("11/10!") is recorded with the reason and the words, never as the score;
a reply without a number leaves the survey open (the message itself stays in the thread).
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Lead, Message
from crm.services.outbound import queue_email
from delivery.agents.retention._common import contact_of, greeting, signature
from delivery.models import SurveyResponse
from delivery.services.retention import SURVEY_ANSWER_WINDOW, open_survey, record_survey_answer
from sales.models import Client

BATCH = 200
FIRST_AFTER_DAYS = 30  # a client in their first month has little to rate yet
NPS_EVERY = 3  # months: relationship NPS quarterly, CSAT in between (Bain's advice for B2B accounts)
SURVEYED = (Client.Status.ACTIVE, Client.Status.AT_RISK)
NUMBER_WORDS = {
    w: n for n, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))
}
_NUMBER = re.compile(r"(?<![\w.])(-?\d{1,3})(?:\s*(?:/|out of|of)\s*(\d{1,3}))?(?!\w|\.\d)", re.I)
_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.I)

QUESTIONS: dict[str, tuple[str, str, str]] = {
    SurveyResponse.Kind.NPS: (
        "Would you recommend us?",
        "On a scale from 0 to 10, how likely are you to recommend us to a friend or colleague?",
        "Just reply with a number from 0 (not at all likely) to 10 (extremely likely), and a word on why if you like.",
    ),
    SurveyResponse.Kind.CSAT: (
        "How satisfied were you with our work this month?",
        "On a scale from 1 to 5, how satisfied were you with our work this month?",
        "Just reply with a number from 1 (very dissatisfied) to 5 (very satisfied); any comment is welcome.",
    ),
}


class SurveyInput(BaseModel):
    message_id: int | None = None  # a client's reply to capture; none: the monthly send
    after_id: int = 0  # a send run's continuation


class SurveyFacts(Facts):
    """A send (Due) or a reply to capture (Answer)."""


class Due(SurveyFacts):
    month: str
    clients: list[tuple[Client, Lead, str]]  # (client, contact, kind)
    unreachable: list[int] = Field(default_factory=list)
    more_after: int | None = None


class Answer(SurveyFacts):
    message: Message
    client: Client
    survey: SurveyResponse
    score: int | None


class Surveyed(BaseModel):
    sent: list[str] = Field(default_factory=list)
    not_contactable: list[int] = Field(default_factory=list)
    continued_after: int | None = None
    survey_id: int | None = None
    score: int | None = None
    problem: str = ""


def months_between(start: dt.date, today: dt.date) -> int:
    return (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day)


def kind_for(client: Client, today: dt.date) -> str:
    months = months_between(client.started_on or today, today)
    return SurveyResponse.Kind.NPS if months > 0 and months % NPS_EVERY == 0 else SurveyResponse.Kind.CSAT


def survey_key(client_id: int, month: str) -> str:
    return f"survey:client:{client_id}:{month}"


def read_score(text: str) -> int | None:
    """The score a person gave: the first number in their words ("9", "I'd say 8 out of 10",
    "11/10!", "a solid four"). None when they wrote none."""
    body = text.split("\n>")[0]  # not the quoted survey below their answer
    found = _NUMBER.search(body)
    word = _WORD.search(body)
    if found is not None and (word is None or found.start() < word.start()):
        return int(found.group(1))
    return NUMBER_WORDS[word.group(1).lower()] if word is not None else None


def _subject(text: str) -> str:
    return re.sub(r"^(?:\s*(?:re|aw|sv|fwd?)\s*:\s*)+", "", text, flags=re.I).strip().lower()


@register
class SatisfactionSurvey(Agent[SurveyInput, Surveyed]):
    name, category, trigger, queue = "satisfaction_survey", "retention", ("schedule", "handoff"), "delivery"
    Input, Facts, Output = SurveyInput, SurveyFacts, Surveyed
    schedule = "0 14 3 * *"  # monthly, the 3rd at 14:00 UTC: after month-end reporting, in working hours
    next = ("satisfaction_survey",)

    def load(self, ctx: RunContext, data: SurveyInput) -> SurveyFacts:
        if data.message_id is not None:
            return self._answer(ctx, data.message_id)
        today = ctx.now().date()
        month = f"{today:%Y-%m}"
        due = (
            Client.objects.filter(
                status__in=SURVEYED,
                started_on__lte=today - dt.timedelta(days=FIRST_AFTER_DAYS),
                pk__gt=data.after_id,
            )
            # Once a month: the client's own surveys carry the month in their key.
            .exclude(survey_responses__answers__survey_key__endswith=f":{month}")
            .select_related("company", "primary_contact")
            .order_by("pk")
        )
        batch = list(due[:BATCH])
        found = [(c, contact_of(c), kind_for(c, today)) for c in batch]
        return Due(
            month=month,
            clients=[(c, lead, kind) for c, lead, kind in found if lead is not None],
            unreachable=[c.pk for c, lead, _ in found if lead is None],
            more_after=batch[-1].pk if len(batch) == BATCH else None,
        )

    def _answer(self, ctx: RunContext, message_id: int) -> Answer:
        message = Message.objects.select_related("conversation__lead").get(pk=message_id)
        if message.direction != Message.Direction.IN:
            raise SkipRun(f"message {message_id} is ours, not a client's answer")
        sender = message.conversation.lead
        client = Client.objects.filter(company_id=sender.company_id).first() if sender.company_id else None
        if client is None:
            raise SkipRun(f"message {message_id} is not from a client")
        open_surveys = list(
            SurveyResponse.objects.filter(
                client=client,
                kind__in=list(QUESTIONS),
                responded_at__isnull=True,
                sent_at__gte=ctx.now() - SURVEY_ANSWER_WINDOW,
            ).order_by("-sent_at", "-pk")
        )
        answered = SurveyResponse.objects.filter(client=client, answers__message_id=message.pk).first()
        if answered is not None:
            raise SkipRun(f"message {message_id} was recorded as the answer to survey {answered.pk} already")
        if not open_surveys:
            raise SkipRun(f"no survey of {client} waits for an answer")
        subject = _subject(message.subject)
        survey = next((s for s in open_surveys if _subject(str(s.answers.get("subject", ""))) == subject), None)
        score = read_score(message.body)
        if score is None:
            raise SkipRun(f"no score in the reply to {client}'s survey: it stays open (the message is kept)")
        return Answer(message=message, client=client, survey=survey or open_surveys[0], score=score)

    def _capture(self, ctx: RunContext, facts: Answer) -> Surveyed:
        survey, problem = record_survey_answer(
            survey=facts.survey,
            score=facts.score,
            text=facts.message.body,
            message_id=facts.message.pk,
            responded_at=facts.message.sent_at or ctx.now(),
        )
        if problem:
            ctx.log.warning("survey %s answer not scored: %s", survey.pk, problem)
        return Surveyed(survey_id=survey.pk, score=survey.score, problem=problem)

    def act(self, ctx: RunContext, facts: SurveyFacts) -> Surveyed:
        if isinstance(facts, Answer):
            return self._capture(ctx, facts)
        assert isinstance(facts, Due)
        out = Surveyed(not_contactable=list(facts.unreachable))
        for client, contact, kind in facts.clients:
            key = survey_key(client.pk, facts.month)
            subject, question, how = QUESTIONS[kind]
            thanks = "Thank you, it helps us do better."
            body = "\n".join([greeting(contact), "", question, how, "", thanks, "", signature()])
            message = queue_email(ctx, key=key, lead=contact, subject=subject, body=body, intent=f"survey_{kind}")
            if message is None:
                out.not_contactable.append(client.pk)
                continue
            open_survey(client=client, kind=kind, key=key, subject=subject, sent_at=ctx.now())
            out.sent.append(key)
        if facts.more_after is not None:
            ctx.handoff("satisfaction_survey", {"after_id": facts.more_after})
            out.continued_after = facts.more_after
        return out
