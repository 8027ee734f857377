"""transcript_processing: from the discovery call to the draft proposal's requirements.

Facts: the discovery meeting, its transcript (numbered speaker turns), the prospect and company,
the agency's currency and the services on its rate card, the proposal made from it before.
Decides: needs, scope (each need as a service of the rate card), budget (a Decimal range with its
currency), timeline (weeks from the call) and decision makers (sales.requirements), EACH with the
line it came from and the words said there. Checked: every quote occurs in the line it cites and
a budget's amounts are the ones its quote names; otherwise the heuristic's reading is used
(sales/agents/calls/_discovery.py, written for how buyers say these things).
Does: the draft Proposal with these requirements (once per meeting), then pricing.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.registry import register
from crm.models import Company, Lead
from crm.services.agency import profile
from sales.agents.calls import _discovery
from sales.agents.calls._common import MeetingRef, counterpart, load_meeting, local_start, numbered, quote_problem
from sales.agents.calls._transcript import Turn, meeting_transcript
from sales.models import Meeting, MeetingNote, Proposal
from sales.requirements import Requirements
from sales.services.proposals import create_proposal_draft

PROMPT = """You read the transcript of an AI services agency's discovery call and extract what the
prospect needs, for the proposal. Give: needs (each problem they named), scope (what we would build
for each need, named as one of the services given), budget (low and high as numbers, currency code,
per month/year or for the project), timeline (their words, and weeks from the call if a time was
named), decision makers (name and role). For EVERY item give the transcript line number it came from
and the exact words from that line as the quote. Only what the prospect said; leave out what was not."""


class Discovery(Facts):
    meeting: Meeting
    lead: Lead | None
    company: Company | None
    transcript: MeetingNote
    turns: list[Turn]
    on: dt.date
    currency: str
    services: list[str]
    proposal: Proposal | None = None


class Drafted(BaseModel):
    proposal_id: int | None = None
    needs: int = 0
    scope: int = 0
    budget: str = ""
    already: bool = False
    note: str = ""


def requirements_problem(found: Requirements, turns: list[Turn]) -> str | None:
    """Why the answer cannot be stored (None: every item is backed by its transcript line)."""
    for item in found.evidence():
        problem = quote_problem(item.line, item.quote, turns)
        if problem is not None:
            return problem
    budget = found.budget
    if budget is not None:
        said = {a.value for a in _discovery.amounts(budget.quote)}
        named = {v for v in (budget.low, budget.high) if v is not None}
        if not named <= said:
            return f"budget {sorted(named)} is not what line {budget.line} says ({budget.quote[:80]!r})"
    return None


@register
class TranscriptProcessing(LLMAgent[MeetingRef, Drafted, Requirements]):
    name = "transcript_processing"
    category = "proposal"
    trigger = "handoff"
    Input = MeetingRef
    Facts = Discovery
    Output = Drafted
    Decision = Requirements
    system_prompt = PROMPT
    max_tokens = 2048
    next = ("pricing",)

    def load(self, ctx: RunContext, data: MeetingRef) -> Discovery:
        meeting = load_meeting(data.meeting_id)
        transcript, turns = meeting_transcript(meeting)
        if transcript is None or not turns:
            raise SkipRun(f"no transcript is stored for meeting {meeting.pk}")
        lead = counterpart(meeting)
        agency = profile()
        items = (agency.rate_card or {}).get("items", []) if isinstance(agency.rate_card, dict) else []
        return Discovery(
            meeting=meeting,
            lead=lead,
            company=lead.company if lead is not None else (meeting.client.company if meeting.client else None),
            transcript=transcript,
            turns=turns,
            on=local_start(meeting, default=ctx.now()).date(),
            currency=agency.currency,
            services=[str(i.get("service")) for i in items if isinstance(i, dict) and i.get("service")],
            proposal=Proposal.objects.filter(meeting=meeting).order_by("pk").first(),
        )

    def decide(self, ctx: RunContext, facts: Discovery) -> Requirements:
        if facts.proposal is not None:
            return Requirements.from_proposal(facts.proposal)
        return ctx.brain.decide_checked(facts, check=lambda found: requirements_problem(found, facts.turns))

    def prompt(self, ctx: RunContext, facts: Discovery) -> str:
        who = f"{facts.lead.full_name}, {facts.lead.title}" if facts.lead is not None else "the prospect"
        return (
            f"Call on {facts.on:%A %d %B %Y} with {who} ({facts.company.name if facts.company else '-'}).\n"
            f"Our services: {', '.join(facts.services) or '-'}. Default currency: {facts.currency}.\n\n"
            f"Transcript:\n{numbered(facts.turns)}"
        )

    def heuristic(self, ctx: RunContext, facts: Discovery) -> Requirements:
        return _discovery.requirements(
            facts.turns,
            on=facts.on,
            currency=facts.currency,
            services=facts.services,
            speaker_role=facts.lead.title if facts.lead is not None else "",
        )

    def act(self, ctx: RunContext, facts: Discovery, found: Requirements) -> Drafted:
        out = Drafted(needs=len(found.needs), scope=len(found.scope))
        if found.budget is not None:
            b = found.budget
            out.budget = f"{b.low or '-'}-{b.high or '-'} {b.currency}{f' per {b.per}' if b.per else ''}"
        if facts.proposal is not None:
            out.proposal_id, out.already = facts.proposal.pk, True
            return out
        if not found.needs and not found.scope:
            raise SkipRun(f"meeting {facts.meeting.pk}'s call names no need to propose for: no proposal drafted")
        found = found.model_copy(update={"meeting_id": facts.meeting.pk, "recording_id": facts.transcript.source})
        subject = found.scope[0].service if found.scope else "AI automation"
        company = facts.company.name if facts.company is not None else str(facts.lead or "")
        proposal = create_proposal_draft(
            title=f"{company}: {subject}"[:255],
            lead=facts.lead,
            company=facts.company,
            client=facts.meeting.client,
            meeting=facts.meeting,
            currency=found.budget.currency if found.budget is not None else facts.currency,
            requirements=found.model_dump(mode="json"),
        )
        ctx.handoff("pricing", {"proposal_id": proposal.pk})
        out.proposal_id = proposal.pk
        return out
