"""Small agents and a performer that exercise the runtime in tests (imported by tests, and by the
subprocess of the outbox crash test). Names start with ``t_`` so they never clash with real agents."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.base import Agent, LLMAgent
from agents.context import RunContext
from agents.errors import ComplianceBlocked, TransientError
from agents.outbox import register_performer
from agents.registry import register


class Text(BaseModel):
    text: str = ""


class Echoed(BaseModel):
    echo: str


@register
class EchoAgent(Agent[Text, Echoed]):
    name = "t_echo"
    category = "test"
    trigger = "event"
    Input = Text
    Output = Echoed

    def run(self, ctx: RunContext, data: Text) -> Echoed:
        return Echoed(echo=data.text)


class FlakyInput(BaseModel):
    fail_times: int = 1


class Attempt(BaseModel):
    attempt: int


@register
class FlakyAgent(Agent[FlakyInput, Attempt]):
    name = "t_flaky"
    category = "test"
    trigger = "event"
    Input = FlakyInput
    Output = Attempt

    def run(self, ctx: RunContext, data: FlakyInput) -> Attempt:
        if ctx.run.attempts <= data.fail_times:
            raise TransientError(f"provider timed out (attempt {ctx.run.attempts})")
        return Attempt(attempt=ctx.run.attempts)


@register
class BrokenAgent(Agent[Text, Echoed]):
    name = "t_broken"
    category = "test"
    trigger = "event"
    Input = Text
    Output = Echoed

    def run(self, ctx: RunContext, data: Text) -> Echoed:
        raise ValueError(f"cannot handle {data.text!r}")


class Hop(BaseModel):
    n: int = 0
    same: bool = False


class Handed(BaseModel):
    child: int | None = None


@register
class ChainAgent(Agent[Hop, Handed]):
    """Hands off to itself: with ``same`` the same payload each time (a loop), else n + 1 (deep)."""

    name = "t_chain"
    category = "test"
    trigger = "handoff"
    Input = Hop
    Output = Handed

    def run(self, ctx: RunContext, data: Hop) -> Handed:
        payload = {"n": data.n, "same": True} if data.same else {"n": data.n + 1}
        return Handed(child=ctx.handoff("t_chain", payload).pk)


class SendInput(BaseModel):
    key: str
    path: str
    crash: bool = False


class SendOutput(BaseModel):
    result: dict[str, Any]


@register
class SenderAgent(Agent[SendInput, SendOutput]):
    name = "t_sender"
    category = "test"
    trigger = "event"
    atomic = False
    Input = SendInput
    Output = SendOutput

    def run(self, ctx: RunContext, data: SendInput) -> SendOutput:
        payload = {"path": data.path, "crash": data.crash}
        return SendOutput(result=ctx.act("test.side_effect", data.key, payload))


@register_performer("test.side_effect", contacts=())
class FileSideEffect:
    """A 'provider' whose side effect is a line in a file; it can tell whether a key was sent."""

    def perform(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        path = Path(payload["path"])
        with path.open("a") as fh:
            fh.write(key + "\n")
        if payload.get("crash") and os.environ.get("T_SIDE_EFFECT_CRASH") == "1":
            os.kill(os.getpid(), signal.SIGKILL)  # dies after acting, before the outbox records it
        return {"sent": key}

    def reconcile(self, payload: dict[str, Any], key: str) -> dict[str, Any] | None:
        path = Path(payload["path"])
        lines = path.read_text().splitlines() if path.exists() else []
        return {"sent": key, "reconciled": True} if key in lines else None


class Approved(BaseModel):
    approved_by_note: str = ""


@register
class ApprovalAgent(Agent[Text, Approved]):
    name = "t_approval"
    category = "test"
    trigger = "event"
    Input = Text
    Output = Approved

    def run(self, ctx: RunContext, data: Text) -> Approved:
        if ctx.approval is None:
            ctx.escalate("approval", f"may I do {data.text}?", {"text": data.text})
            return Approved()
        return Approved(approved_by_note=ctx.approval.decision_note)


class Verdict(BaseModel):
    label: Literal["hot", "cold"]
    score: int = Field(ge=0, le=100)


class LeadText(BaseModel):
    text: str


@register
class ThinkerAgent(LLMAgent[LeadText, Verdict, Verdict]):
    name = "t_thinker"
    category = "test"
    trigger = "event"
    Input = LeadText
    Output = Verdict
    tool_name = "verdict"
    system_prompt = "You judge how warm a sales lead is."

    def heuristic(self, ctx: RunContext, data: LeadText) -> Verdict:
        return Verdict(label="hot" if "budget" in data.text else "cold", score=50 if "budget" in data.text else 10)


@register
class BulkThinkerAgent(ThinkerAgent):
    name = "t_bulk"
    batch = True


class MailInput(BaseModel):
    to: list[str]
    subject: str = "Hello"
    per_recipient: bool = False  # catch a refusal per address instead of letting it skip the run


class MailOutput(BaseModel):
    sent: list[str]
    blocked: list[str] = Field(default_factory=list)


@register
class MailerAgent(Agent[MailInput, MailOutput]):
    """Sends one email per address through the outbox, as the sequence scheduler will."""

    name = "t_mailer"
    category = "test"
    trigger = "event"
    atomic = False
    Input = MailInput
    Output = MailOutput

    def run(self, ctx: RunContext, data: MailInput) -> MailOutput:
        sent: list[str] = []
        blocked: list[str] = []
        for address in data.to:
            payload = {"to": address, "subject": data.subject}
            if not data.per_recipient:
                ctx.act("test.email", f"{ctx.run.pk}:{address}", payload)
                sent.append(address)
                continue
            try:
                ctx.act("test.email", f"{ctx.run.pk}:{address}", payload)
            except ComplianceBlocked:
                blocked.append(address)
            else:
                sent.append(address)
        return MailOutput(sent=sent, blocked=blocked)


class Outbox:
    """A fake email provider: what it was asked to send, and whether the next send times out."""

    sent: list[str] = []
    fail_next: int = 0


@register_performer("test.email", contacts=("to",))
def send_test_email(payload: dict[str, Any], key: str) -> dict[str, Any]:
    if Outbox.fail_next:
        Outbox.fail_next -= 1
        raise TransientError("provider timed out")
    Outbox.sent.append(payload["to"])
    return {"message_id": f"msg-{len(Outbox.sent)}"}
