"""exit_survey: the exit interview by email, and what the answers say when they come back.

Started by offboarding_orchestrator (``{"offboarding_id"}``): the questions. Started by
email_response_handler when the client's contact replies while the survey waits for answers
(``{"offboarding_id", "message_id"}``): the analysis.
Facts: the offboarding, the client and its contact, the reason they left, the exit survey sent
(SurveyResponse, kind exit) and, for an answer, the reply as stored.
Decides (LLM; the heuristic offline): to ask, the questions (the 0-10 recommendation question first,
at most five, checked); to read, the score, the reasons, whether they would come back, the
language and a short analysis. Then, whatever the brain said: a score outside 0-10 is not stored as
a score (the raw answer and the reason are), and an answer not in English is recorded as written,
with the reason, and a human is asked to read it. Nothing of a reply is lost: its text stays on
the Message and on the SurveyResponse.
Does: opens the SurveyResponse and emails the questions (ticks the survey item: the offboarding
does not wait for answers); records an answer on the same SurveyResponse.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Escalation
from agents.registry import register
from crm.models import Lead, Message
from crm.services.agency import profile
from crm.services.outbound import may_email, queue_email
from delivery.agents.offboarding.answers import LANGUAGES, detect_language, nps_group, read_answer
from delivery.agents.offboarding.common import SURVEY, tick
from delivery.models import Offboarding, SurveyResponse
from delivery.services.offboarding import EXIT_SCALE, exit_survey_of, open_exit_survey, record_exit_answers

PROMPT = """You run the exit interview of an AI services agency whose client is leaving.
To ask: write at most five short questions; the first asks how likely they are to recommend us on
a scale from 0 to 10; then the main reason they left, what we could have done better, and whether
they would work with us again. To read an answer: give the 0-10 score exactly as written (even if
it is outside the scale), the reasons in their words, whether they would come back (yes, no, maybe,
unknown), the language of the answer (ISO code) and a two-sentence analysis for the account team."""

Mode = Literal["ask", "read"]


class SurveyRequest(BaseModel):
    offboarding_id: int
    message_id: int | None = None


class SurveyFacts(Facts):
    mode: Mode
    offboarding: Offboarding
    contact: Lead | None
    sender_name: str
    survey: SurveyResponse | None = None
    answer: Message | None = None


class ExitDecision(BaseModel):
    questions: list[str] = Field(default_factory=list)  # to ask
    score: int | None = None  # read: as written
    reasons: list[str] = Field(default_factory=list)
    would_return: Literal["yes", "no", "maybe", "unknown"] = "unknown"
    language: str = "en"
    analysis: str = ""


class Surveyed(BaseModel):
    offboarding_id: int
    survey_id: int | None = None
    asked: list[str] = Field(default_factory=list)
    score: int | None = None
    problems: list[str] = Field(default_factory=list)
    note: str = ""


QUESTIONS = (
    "On a scale from 0 to 10, how likely are you to recommend us to a colleague?",
    "What was the main reason you decided to stop working with us?",
    "What could we have done better?",
    "Would you consider working with us again in the future (yes / no / maybe)?",
)
MAX_QUESTIONS = 5


def questions_problem(decision: ExitDecision) -> str | None:
    if not 1 <= len(decision.questions) <= MAX_QUESTIONS:
        return f"{len(decision.questions)} questions (1 to {MAX_QUESTIONS} fit an email)"
    first = decision.questions[0]
    if "0" not in first or "10" not in first:
        return "the first question does not ask for a 0-10 score"
    return None


@register
class ExitSurvey(LLMAgent[SurveyRequest, Surveyed, ExitDecision]):
    name = "exit_survey"
    category = "offboarding"
    trigger = "handoff"
    Input = SurveyRequest
    Facts = SurveyFacts
    Output = Surveyed
    Decision = ExitDecision
    system_prompt = PROMPT

    def load(self, ctx: RunContext, data: SurveyRequest) -> SurveyFacts:
        offboarding = Offboarding.objects.select_related("client__company", "client__primary_contact").get(
            pk=data.offboarding_id
        )
        facts = SurveyFacts(
            mode="read" if data.message_id is not None else "ask",
            offboarding=offboarding,
            contact=offboarding.client.primary_contact,
            sender_name=profile().sender_name,
            survey=exit_survey_of(offboarding=offboarding),
        )
        if data.message_id is None:
            return facts
        facts.answer = Message.objects.get(pk=data.message_id, direction=Message.Direction.IN)
        if facts.survey is None:
            raise SkipRun(
                f"no exit survey was sent for offboarding {offboarding.pk}: message {data.message_id} is no answer"
            )
        if data.message_id in _answer_ids(facts.survey):
            raise SkipRun(f"message {data.message_id} is recorded on survey {facts.survey.pk} already")
        return facts

    def decide(self, ctx: RunContext, facts: SurveyFacts) -> ExitDecision:
        if facts.mode == "ask":
            if facts.survey is not None:  # asked before: the same questions
                return ExitDecision(questions=list(facts.survey.answers.get("questions", [])))
            return ctx.brain.decide_checked(facts, check=questions_problem)
        return ctx.brain.decide(facts)

    def prompt(self, ctx: RunContext, facts: SurveyFacts) -> str:
        client = facts.offboarding.client.company.name
        if facts.mode == "ask":
            return f"Task: ask\nClient: {client}\nWhy they are leaving (our notes): {facts.offboarding.reason}"
        assert facts.survey is not None and facts.answer is not None
        asked = "\n".join(f"{n}. {q}" for n, q in enumerate(facts.survey.answers.get("questions", []), 1))
        return f"Task: read\nClient: {client}\nQuestions:\n{asked}\n\nTheir answer:\n{facts.answer.body}"

    def heuristic(self, ctx: RunContext, facts: SurveyFacts) -> ExitDecision:
        if facts.mode == "ask":
            return ExitDecision(questions=list(QUESTIONS))
        assert facts.answer is not None
        read = read_answer(facts.answer.body)
        return ExitDecision(
            score=read.score,
            reasons=[r for r in [*read.reasons, read.better] if r],
            would_return=read.would_return if read.would_return in ("yes", "no", "maybe") else "unknown",
            language=read.language,
            analysis=_analysis(read.score, read.themes, read.would_return, read.language),
        )

    def act(self, ctx: RunContext, facts: SurveyFacts, decision: ExitDecision) -> Surveyed:
        if facts.mode == "ask":
            return self._ask(ctx, facts, decision)
        return self._read(ctx, facts, decision)

    def _ask(self, ctx: RunContext, facts: SurveyFacts, decision: ExitDecision) -> Surveyed:
        offboarding, contact = facts.offboarding, facts.contact
        out = Surveyed(offboarding_id=offboarding.pk, asked=decision.questions)
        if not may_email(contact):
            tick(offboarding.pk, SURVEY)
            out.note = "no contact we may email: no exit survey (the item is closed without one)"
            return out
        assert contact is not None
        survey = open_exit_survey(offboarding=offboarding, questions=decision.questions)
        out.survey_id = survey.pk
        company = offboarding.client.company.name
        lines = [
            f"Hi {contact.first_name or 'there'},",
            "",
            f"Thank you for working with us. Before we part ways, could you answer {len(decision.questions)} "
            "short questions? Just reply to this email with your answers, numbered like the questions.",
            "",
            *[f"{n}. {q}" for n, q in enumerate(decision.questions, 1)],
            "",
            "Your answers go to the people who worked with you, and help us do better.",
            "",
            facts.sender_name,
        ]
        queue_email(
            ctx,
            key=f"offboarding:{offboarding.pk}:exit-survey",
            lead=contact,
            subject=f"{company}: {len(decision.questions)} quick questions before we part ways (exit survey)",
            body="\n".join(lines),
            intent="exit_survey",
        )
        tick(offboarding.pk, SURVEY)
        return out

    def _read(self, ctx: RunContext, facts: SurveyFacts, decision: ExitDecision) -> Surveyed:
        assert facts.survey is not None and facts.answer is not None
        survey, answer = facts.survey, facts.answer
        out = Surveyed(offboarding_id=facts.offboarding.pk, survey_id=survey.pk)
        score, problems = decision.score, []
        if score is not None and not EXIT_SCALE[0] <= score <= EXIT_SCALE[1]:
            problems.append(f"the score {score} is outside the 0-10 scale: kept as written, not stored as a score")
            score = None
        elif score is None:
            problems.append("no 0-10 score could be read from the answer")
        language = detect_language(answer.body)
        if decision.language.lower()[:2] not in ("", "en"):
            language = decision.language.lower()[:2]
        if language != "en":
            name = LANGUAGES.get(language, language)
            problems.append(f"the answer is in {name}: recorded as written; a person reads it before it counts")
        if survey.responded_at is not None:
            later = [*survey.answers.get("later_replies", []), {"message_id": answer.pk, "raw": answer.body}]
            record_exit_answers(
                survey=survey, score=survey.score, answers={"later_replies": later}, analysis=survey.analysis,
                responded_at=survey.responded_at,
            )  # fmt: skip
            out.note = "a later reply: kept beside the first answer"
            return out
        record_exit_answers(
            survey=survey,
            score=score,
            answers={
                "raw": answer.body,
                "message_id": answer.pk,
                "reasons": decision.reasons,
                "would_return": decision.would_return,
                "language": language,
                "problems": problems,
            },
            analysis=decision.analysis if language == "en" else f"{decision.analysis} ({'; '.join(problems)})",
            responded_at=answer.sent_at or ctx.now(),
        )
        out.score, out.problems = score, problems
        if language != "en" or any("outside" in p for p in problems):
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"exit survey answer from {facts.offboarding.client} needs a person: {'; '.join(problems)}",
                payload={"survey_id": survey.pk, "message_id": answer.pk},
                dedupe_key=f"exit-survey:{survey.pk}:review",
                subject=survey,
            )
        return out


def _answer_ids(survey: SurveyResponse) -> set[int]:
    answers = survey.answers or {}
    ids = {answers.get("message_id")} | {r.get("message_id") for r in answers.get("later_replies", [])}
    return {i for i in ids if isinstance(i, int)}


def _analysis(score: int | None, themes: list[str], would_return: str, language: str) -> str:
    if language != "en":
        return f"Answer in {LANGUAGES.get(language, language)}: not interpreted offline."
    group = nps_group(score if score is not None and EXIT_SCALE[0] <= score <= EXIT_SCALE[1] else None)
    said = ", ".join(themes) if themes else "no theme we recognise"
    back = {"yes": "would work with us again", "no": "would not come back", "maybe": "might come back"}.get(
        would_return, "did not say whether they would come back"
    )
    scored = f"Scored {score}/10 ({group})" if group != "unknown" else "No usable score"
    return f"{scored}; reasons: {said}; {back}."
