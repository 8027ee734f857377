"""Small agents and a performer that exercise the runtime in tests (imported by tests, and by the
subprocess of the outbox crash test). Names start with ``t_`` so they never clash with real agents."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.base import Agent, Facts, LLMAgent
from agents.context import RunContext
from agents.errors import TransientError
from agents.outbox import register_performer
from agents.registry import register
from crm.models import Lead


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

    def act(self, ctx: RunContext, data: Text) -> Echoed:
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

    def act(self, ctx: RunContext, data: FlakyInput) -> Attempt:
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

    def act(self, ctx: RunContext, data: Text) -> Echoed:
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
    next = ("t_chain",)

    def act(self, ctx: RunContext, data: Hop) -> Handed:
        payload = {"n": data.n, "same": True} if data.same else {"n": data.n + 1}
        child = ctx.handoff("t_chain", payload)
        return Handed(child=child.pk if child is not None else None)


class SendInput(BaseModel):
    key: str
    path: str
    crash: bool = False


class SendOutput(BaseModel):
    action: int


class SideEffect(BaseModel):
    path: str
    crash: bool = False


@register
class SenderAgent(Agent[SendInput, SendOutput]):
    """One act per run, keyed by the input's key, plus a domain write (an audited note on the run's
    own input key: here, nothing but the act)."""

    name = "t_sender"
    category = "test"
    trigger = "event"
    Input = SendInput
    Output = SendOutput

    def act(self, ctx: RunContext, data: SendInput) -> SendOutput:
        action = ctx.act("test.side_effect", data.key, SideEffect(path=data.path, crash=data.crash))
        return SendOutput(action=action.pk)


@register_performer("test.side_effect", payload=SideEffect, contacts=())
class FileSideEffect:
    """A 'provider' whose side effect is a line in a file; it can tell whether a key was sent."""

    def perform(self, payload: SideEffect, key: str) -> dict[str, Any]:
        path = Path(payload.path)
        with path.open("a") as fh:
            fh.write(key + "\n")
        if payload.crash and os.environ.get("T_SIDE_EFFECT_CRASH") == "1":
            os.kill(os.getpid(), signal.SIGKILL)  # dies after acting, before the outbox records it
        return {"sent": key}

    def reconcile(self, payload: SideEffect, key: str) -> dict[str, Any] | None:
        path = Path(payload.path)
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

    def act(self, ctx: RunContext, data: Text) -> Approved:
        approval = ctx.require_approval(f"t_approval:{data.text}", f"may I do {data.text}?", {"text": data.text})
        return Approved(approved_by_note=approval.decision_note)


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


class MailOutput(BaseModel):
    queued: list[str]


class MailPayload(BaseModel):
    to: str
    subject: str = "Hello"


@register
class MailerAgent(Agent[MailInput, MailOutput]):
    """Sends one email per address through the outbox, as the sequence scheduler will."""

    name = "t_mailer"
    category = "test"
    trigger = "event"
    Input = MailInput
    Output = MailOutput

    def act(self, ctx: RunContext, data: MailInput) -> MailOutput:
        for address in data.to:
            ctx.act("test.email", f"{data.subject}:{address}", MailPayload(to=address, subject=data.subject))
        return MailOutput(queued=list(data.to))


class Outbox:
    """A fake email provider: what it was asked to send, whether the next send fails, and what the
    domain was told (the result handlers)."""

    sent: list[str] = []
    fail_next: int = 0
    fail_permanently: int = 0
    done: list[str] = []
    failed: list[tuple[str, bool]] = []


@register_performer("test.email", payload=MailPayload, contacts=("to",))
class SendTestEmail:
    def perform(self, payload: MailPayload, key: str) -> dict[str, Any]:
        if Outbox.fail_next:
            Outbox.fail_next -= 1
            raise TransientError("provider timed out")
        if Outbox.fail_permanently:
            Outbox.fail_permanently -= 1
            raise ValueError("the provider refused the message")
        Outbox.sent.append(payload.to)
        return {"message_id": f"msg-{len(Outbox.sent)}"}

    def on_done(self, action: Any, result: dict[str, Any]) -> None:
        Outbox.done.append(result["message_id"])

    def on_failed(self, action: Any, reason: str, *, blocked: bool) -> None:
        Outbox.failed.append((action.payload["to"], blocked))


class LeadRef(BaseModel):
    lead_id: int
    path: str = ""


class LeadFacts(Facts):
    lead: Lead


class Closing(BaseModel):
    title: str


class Closed(BaseModel):
    changed: list[str]
    child: int | None = None
    action: int | None = None


@register
class CloserAgent(LLMAgent[LeadRef, Closed, Closing]):
    """Everything one agent can do, for crash tests: loads a lead, asks its brain, then writes the
    lead (audited), hands off and records an act, all in one act phase."""

    name = "t_closer"
    category = "test"
    trigger = "event"
    Input = LeadRef
    Facts = LeadFacts
    Output = Closed
    Decision = Closing
    next = ("t_echo",)
    system_prompt = "You pick a lead's new title."

    def load(self, ctx: RunContext, data: LeadRef) -> LeadFacts:
        return LeadFacts(lead=Lead.objects.select_related("company").get(pk=data.lead_id))

    def prompt(self, ctx: RunContext, facts: LeadFacts) -> str:
        return f"Lead {facts.lead.pk}: {facts.lead.title}"

    def heuristic(self, ctx: RunContext, facts: LeadFacts) -> Closing:
        title = facts.lead.title or "Lead"
        return Closing(title=title if title.endswith("(contacted)") else f"{title} (contacted)")

    def act(self, ctx: RunContext, facts: LeadFacts, decision: Closing) -> Closed:
        lead = ctx.lock(facts.lead)
        changed = ctx.update(lead, action="lead.contacted", title=decision.title[:200])
        child = ctx.handoff("t_echo", {"text": f"lead {lead.pk}"})
        path = ctx.run.input.get("path") or ""
        action = ctx.act("test.side_effect", f"lead:{lead.pk}:welcome", SideEffect(path=path)) if path else None
        return Closed(changed=changed, child=child.pk if child else None, action=action.pk if action else None)


class Swallowing(BaseModel):
    swallowed: bool


@register
class SwallowingAgent(LLMAgent[Text, Swallowing, Verdict]):
    """Wraps its brain call in a broad ``except Exception`` as fallback code does: an interruption
    (a budget pause, a skip) must still get through."""

    name = "t_swallowing"
    category = "test"
    trigger = "event"
    Input = Text
    Output = Swallowing
    Decision = Verdict
    system_prompt = "Judge."

    def heuristic(self, ctx: RunContext, facts: Text) -> Verdict:
        return Verdict(label="cold", score=1)

    def decide(self, ctx: RunContext, facts: Text) -> Swallowing:
        try:
            ctx.brain.decide(facts)
        except Exception:
            return Swallowing(swallowed=True)
        return Swallowing(swallowed=False)

    def act(self, ctx: RunContext, facts: Text, decision: Swallowing) -> Swallowing:
        return decision
