"""knowledge_base: a prospect asked a question. Answer it from an approved FAQ entry, or ask a human.

Facts: the question (the inbound Message's visible text) and the approved FAQ entries nearest to it,
retrieved by learning.services.faq (the VectorStore role when one is configured, the local vectors
otherwise). The brain picks the entry that answers the question, or none; the heuristic takes the
nearest entry when it is near enough. An answer cites its entry (checked: only a retrieved one) and
goes on to reply_drafting. No answer escalates: the operator writes the answer as the decision
note, it becomes a new approved FAQ entry, and the reply is drafted from it.
"""

from __future__ import annotations

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.models import AgentRun, Escalation
from agents.registry import register
from crm.agents.response._approval import approval_key, decision
from crm.models import Message
from learning.models import FAQ
from learning.services import faq as faqs

PROMPT = """You answer prospects' questions for an AI services agency, only from the FAQ entries given.
Choose the entry that answers the question and give its id; if none does, give no id: a person will
answer. Never answer from general knowledge."""

# The local vectors' cosine above which the nearest entry is taken as the answer (heuristic brain).
NEAR_ENOUGH = 0.25
TOP_K = 3


class MessageRef(BaseModel):
    message_id: int


class Candidate(BaseModel):
    faq_id: int
    question: str
    answer: str
    score: float


class Question(Facts):
    message: Message
    question: str
    candidates: list[Candidate] = []
    operator_answer: str | None = None  # an operator answered the escalation


class Answer(BaseModel):
    faq_id: int | None = None
    reason: str = ""


class Answered(BaseModel):
    faq_id: int | None = None
    cited_question: str = ""
    escalated: bool = False
    new_faq: bool = False
    note: str = ""


def _key(message: Message) -> str:
    return f"faq:message:{message.pk}"


@register
class KnowledgeBase(LLMAgent[MessageRef, Answered, Answer]):
    name = "knowledge_base"
    category = "response"
    trigger = "handoff"
    Input = MessageRef
    Facts = Question
    Output = Answered
    Decision = Answer
    system_prompt = PROMPT
    next = ("reply_drafting",)

    def load(self, ctx: RunContext, data: MessageRef) -> Question:
        message = Message.objects.select_related("conversation__lead").get(pk=data.message_id, direction="in")
        question = message.body or message.subject
        facts = Question(message=message, question=question)
        answered = decision(ctx, _key(message), "a prospect's question waits for an answer")
        if answered is not None:
            facts.operator_answer = answered.decision_note.strip()
            return facts
        facts.candidates = [
            Candidate(faq_id=f.pk, question=f.question, answer=f.answer, score=score)
            for f, score in faqs.search(question, top_k=TOP_K, approved_only=True)
        ]
        return facts

    def decide(self, ctx: RunContext, facts: Question) -> Answer:
        if facts.operator_answer is not None:
            return Answer(reason="answered by an operator")
        if not facts.candidates:
            return Answer(reason="no approved FAQ entry resembles the question")
        return ctx.brain.decide(facts)

    def prompt(self, ctx: RunContext, facts: Question) -> str:
        entries = "\n\n".join(f"[{c.faq_id}] Q: {c.question}\nA: {c.answer}" for c in facts.candidates)
        return f"Question:\n{facts.question}\n\nFAQ entries:\n{entries}"

    def heuristic(self, ctx: RunContext, facts: Question) -> Answer:
        best = max(facts.candidates, key=lambda c: c.score, default=None)
        if best is None or best.score < NEAR_ENOUGH:
            return Answer(reason=f"nearest entry scores {best.score if best else 0:.2f} < {NEAR_ENOUGH}")
        return Answer(faq_id=best.faq_id, reason=f"nearest approved entry ({best.score:.2f})")

    def act(self, ctx: RunContext, facts: Question, answer: Answer) -> Answered:
        message = facts.message
        if facts.operator_answer is not None:
            if not facts.operator_answer:
                return Answered(note="approved without an answer: nothing to cite, no reply drafted")
            entry = faqs.save_faq(
                question=facts.question, answer=facts.operator_answer, tags=["from_escalation"], approved=True
            )
            return self._answered(ctx, message, entry, new=True)
        retrieved = {c.faq_id for c in facts.candidates}
        if answer.faq_id is not None and answer.faq_id in retrieved:
            entry = FAQ.objects.get(pk=answer.faq_id, approved=True)
            return self._answered(ctx, message, entry, new=False)
        lead = message.conversation.lead
        ctx.escalate(
            Escalation.Kind.APPROVAL,
            f"{lead} asked something no approved FAQ answers: write the answer as the decision note "
            "(it becomes a FAQ entry and the reply is drafted from it)",
            payload={
                "message_id": message.pk,
                "question": facts.question,
                "nearest": [c.model_dump() for c in facts.candidates],
                "why": answer.reason or "the brain cited no retrieved entry",
            },
            dedupe_key=approval_key(_key(message)),
            subject=message,
        )
        return Answered(escalated=True, note=answer.reason)

    def _answered(self, ctx: RunContext, message: Message, entry: FAQ, *, new: bool) -> Answered:
        if not AgentRun.objects.filter(agent_name="reply_drafting", input__message_id=message.pk).exists():
            faqs.mark_used(faqs=[entry])  # once per question answered, however often it is asked again
        ctx.handoff("reply_drafting", {"message_id": message.pk, "faq_id": entry.pk})
        return Answered(faq_id=entry.pk, cited_question=entry.question, new_faq=new)
