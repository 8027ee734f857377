"""conversation_intelligence: what the whole thread says. Sentiment, objections, buying signals.

Facts: the messages added since the last reading (the history is read once: Conversation.insights
remembers how far it got) and what the Memory role recalls of the thread (local by default, Zep in
production), where each reading leaves the new messages for the next one and for other agents.
The brain merges the new messages into the insights; the heuristic spots objections and buying
signals by phrase. Writes Conversation.insights and .sentiment.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.outbox import register_performer
from agents.registry import register
from crm.models import Conversation, Message
from crm.services.replies.dates import fold
from integrations.values import MemoryMessage

PROMPT = """You keep a sales team's notes on one email conversation with a prospect.
Given the notes so far, what memory recalls and the new messages, give the overall sentiment,
the objections raised (short labels), the buying signals (short labels) and a two-sentence summary."""

Sentiment = Literal["positive", "neutral", "negative"]
OBJECTION_PHRASES: dict[str, re.Pattern[str]] = {
    "price": re.compile(r"expensive|budget|price|cost|afford|teuer|cher|caro"),
    "timing": re.compile(r"not (right )?now|next (quarter|year)|too busy|bad time|later this year"),
    "incumbent": re.compile(r"already (have|use|work with)|in.house|existing (tool|vendor|provider)"),
    "trust": re.compile(r"\bai\b.{0,30}(trust|accura|mistake)|privacy|gdpr|data protection"),
    "authority": re.compile(r"not the (right )?person|not my decision|my (boss|manager) decides"),
}
SIGNAL_PHRASES: dict[str, re.Pattern[str]] = {
    "asked for a call": re.compile(r"\bcall\b|\bmeeting\b|\bdemo\b|calendar|jump on|chat"),
    "asked about price": re.compile(r"how much|pricing|price|cost|quote"),
    "named a pain": re.compile(r"we (lost|struggle|spend|waste)|pain|problem|bottleneck|too many"),
    "timeline": re.compile(r"this (month|quarter)|asap|soon|timely|urgent"),
    "decision maker involved": re.compile(r"\bcc.?d\b|looping in|my (ceo|cto|partner|team)"),
}
POSITIVE = frozenset({"interested", "question", "referral"})
NEGATIVE = frozenset({"not_interested", "unsubscribe", "bounce"})


class ConversationRef(BaseModel):
    conversation_id: int


class Thread(Facts):
    conversation: Conversation
    new: list[Message] = []
    recalled: list[str] = []


class Insights(BaseModel):
    sentiment: Sentiment = "neutral"
    objections: list[str] = []
    buying_signals: list[str] = []
    summary: str = ""


class Read(BaseModel):
    sentiment: str = ""
    objections: list[str] = []
    buying_signals: list[str] = []
    messages_read: int = 0
    note: str = ""


class MemoryNote(BaseModel):
    session_id: str
    messages: list[MemoryMessage]


@register_performer("memory.remember", payload=MemoryNote, contacts=())
def remember(payload: MemoryNote, key: str) -> dict[str, Any]:
    from integrations.roles import get_role

    get_role("memory").add(session_id=payload.session_id, messages=payload.messages)
    return {"messages": len(payload.messages)}


def session_id(conversation: Conversation) -> str:
    return f"conversation:{conversation.pk}"


@register
class ConversationIntelligence(LLMAgent[ConversationRef, Read, Insights]):
    name = "conversation_intelligence"
    category = "response"
    trigger = "handoff"
    Input = ConversationRef
    Facts = Thread
    Output = Read
    Decision = Insights
    system_prompt = PROMPT

    def load(self, ctx: RunContext, data: ConversationRef) -> Thread:
        conversation = Conversation.objects.get(pk=data.conversation_id)
        through = int((conversation.insights or {}).get("through_message", 0) or 0)
        new = list(Message.objects.filter(conversation=conversation, pk__gt=through).order_by("pk"))
        facts = Thread(conversation=conversation, new=new)
        if new and through:
            probe = next((m.body for m in reversed(new) if m.direction == Message.Direction.IN), new[-1].body)
            hits = ctx.roles.memory.search(query=probe[:500], session_id=session_id(conversation), limit=5)
            facts.recalled = [h.content for h in hits]
        return facts

    def decide(self, ctx: RunContext, facts: Thread) -> Insights:
        if not facts.new:
            return Insights(**_known(facts.conversation))
        return ctx.brain.decide(facts)

    def prompt(self, ctx: RunContext, facts: Thread) -> str:
        notes = _known(facts.conversation)
        lines = [f"{'Prospect' if m.direction == 'in' else 'Us'} ({m.intent or '-'}): {m.body}" for m in facts.new]
        recalled = "\n".join(f"- {r}" for r in facts.recalled) or "-"
        return f"Notes so far: {notes}\n\nMemory recalls:\n{recalled}\n\nNew messages:\n" + "\n\n".join(lines)

    def heuristic(self, ctx: RunContext, facts: Thread) -> Insights:
        known = _known(facts.conversation)
        objections, signals = list(known["objections"]), list(known["buying_signals"])
        theirs = [m for m in facts.new if m.direction == Message.Direction.IN]
        for message in theirs:
            text = fold(message.body)
            objections += [label for label, rx in OBJECTION_PHRASES.items() if rx.search(text)]
            signals += [label for label, rx in SIGNAL_PHRASES.items() if rx.search(text)]
            if message.intent == "objection" and not any(rx.search(text) for rx in OBJECTION_PHRASES.values()):
                objections.append("other")
        sentiment = known["sentiment"]
        if theirs:
            last = theirs[-1].intent
            sentiment = "positive" if last in POSITIVE else "negative" if last in NEGATIVE else "neutral"
        objections, signals = list(dict.fromkeys(objections)), list(dict.fromkeys(signals))
        summary = (
            f"{len(theirs)} new message(s) from the prospect, latest intent {theirs[-1].intent or 'unknown'}. "
            if theirs
            else known["summary"]
        )
        if objections or signals:
            summary += f"Objections: {', '.join(objections) or 'none'}; signals: {', '.join(signals) or 'none'}."
        return Insights(sentiment=sentiment, objections=objections, buying_signals=signals, summary=summary.strip())

    def act(self, ctx: RunContext, facts: Thread, insights: Insights) -> Read:
        out = Read(sentiment=insights.sentiment, objections=insights.objections, buying_signals=insights.buying_signals)
        if not facts.new:
            out.note = "no new messages since the last reading"
            return out
        conversation = ctx.lock(facts.conversation)
        through = facts.new[-1].pk
        read_before = int((conversation.insights or {}).get("messages_read", 0) or 0)
        ctx.update(
            conversation,
            action="conversation.insights",
            insights={
                **insights.model_dump(),
                "through_message": through,
                "messages_read": read_before + len(facts.new),
            },
            sentiment=insights.sentiment,
        )
        note = MemoryNote(
            session_id=session_id(conversation),
            messages=[
                MemoryMessage(
                    role="user" if m.direction == Message.Direction.IN else "assistant",
                    content=m.body[:4000],
                    metadata={"message_id": m.pk, "intent": m.intent},
                )
                for m in facts.new
                if m.body
            ],
        )
        if note.messages:
            ctx.act("memory.remember", f"memory:{session_id(conversation)}:through:{through}", note)
        out.messages_read = len(facts.new)
        return out


def _known(conversation: Conversation) -> dict[str, Any]:
    stored = conversation.insights or {}
    return {
        "sentiment": stored.get("sentiment")
        if stored.get("sentiment") in ("positive", "neutral", "negative")
        else "neutral",
        "objections": list(stored.get("objections") or []),
        "buying_signals": list(stored.get("buying_signals") or []),
        "summary": str(stored.get("summary") or ""),
    }
