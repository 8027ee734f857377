"""onboarding_orchestrator: a signed client's first days, set in motion once per client.

Facts: the client and its primary contact, the signed proposal (what they bought), the onboarding
if one is open, the kickoff meeting if one is booked, and free kickoff slots from the Calendar role
(business hours in the contact's zone, from two days out, so nobody is booked for tomorrow morning).
Decides (LLM; the heuristic offline): the welcome email: thanks for the signature, what happens
next (the kickoff time, the shared folder, the workspace and the access request) and what we need
from them; it must state the booked kickoff time.
Does: opens the onboarding with the agency's checklist; queues the welcome email (ticked); books
the kickoff through the calendar (the Meeting of kind kickoff is written now, the booking's uid
when the calendar confirms; without a free slot the meeting is proposed and the email asks for
times); creates the shared folder through the Documents role (there is no storage role: on Google
Drive a document is the folder's first page, its link goes on the onboarding); hands off
client_setup. A client who is onboarded already, or has left, is skipped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from agents.base import Facts, LLMAgent
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Action, Escalation
from agents.outbox import register_performer
from agents.registry import register
from crm.models import AgencyProfile, Lead, Message
from crm.services.agency import profile
from crm.services.outbound import may_email, queue_email
from delivery.agents.documents import keep_document
from delivery.agents.onboarding.common import (
    CHECKLIST,
    FOLDER,
    WELCOME,
    ClientRef,
    contact_of,
    local_when,
    open_onboarding,
    tick,
    zone_of,
)
from delivery.agents.onboarding.kickoff import KICKOFF_MINUTES, book_kickoff, first_slot, kickoffs_of
from delivery.models import Onboarding
from delivery.services.onboarding import start_onboarding
from integrations.values import Slot
from sales.models import Client, Meeting, Proposal

PROMPT = """You write the welcome email an AI services agency sends a client who has just signed.
Plain text, warm and brief (under 200 words), signed with the sender's name. Thank them for signing
the named proposal, then say what happens next: the kickoff call (state the booked time exactly as
given, or ask for times when none is booked), the shared folder and the project workspace, and what
we need from them (the accesses in our coming access request, brand guidelines and sample data).
State nothing about them or the project beyond the facts given."""

FOLDER_KIND = "onboarding.shared_folder"


class Welcome(Facts):
    client: Client
    contact: Lead | None
    proposal: Proposal | None
    onboarding: Onboarding | None
    kickoff: Meeting | None
    slot: Slot | None
    agency: AgencyProfile
    welcome: Message | None = None

    @property
    def kickoff_at(self) -> dt.datetime | None:
        if self.kickoff is not None and self.kickoff.starts_at is not None:
            return self.kickoff.starts_at
        return self.slot.start if self.slot is not None else None


class WelcomeEmail(BaseModel):
    subject: str
    body: str


class Onboarded(BaseModel):
    onboarding_id: int
    welcome_message_id: int | None = None
    kickoff_meeting_id: int | None = None
    kickoff_at: dt.datetime | None = None
    note: str = ""


# --- the acts, performed after commit -------------------------------------------------------------


class SharedFolder(BaseModel):
    onboarding_id: int
    name: str
    index: str


@register_performer(FOLDER_KIND, payload=SharedFolder, contacts=())
class CreateSharedFolder:
    """The client's shared folder through the Documents role (shared with them from the workspace)."""

    def perform(self, payload: SharedFolder, key: str) -> dict[str, Any]:
        return keep_document(key, name=payload.name, content=payload.index)

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        onboarding_id = int(action.payload["onboarding_id"])
        url = str(result.get("url") or "")[:500]
        Onboarding.objects.filter(pk=onboarding_id, shared_folder_url="").update(shared_folder_url=url)
        tick(onboarding_id, FOLDER, external_id=str(result.get("document_id") or ""))


# --- the agent ----------------------------------------------------------------------------------


@register
class OnboardingOrchestrator(LLMAgent[ClientRef, Onboarded, WelcomeEmail]):
    name = "onboarding_orchestrator"
    category = "onboarding"
    trigger = "handoff"
    Input = ClientRef
    Facts = Welcome
    Output = Onboarded
    Decision = WelcomeEmail
    system_prompt = PROMPT
    next = ("client_setup",)

    def load(self, ctx: RunContext, data: ClientRef) -> Welcome:
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        onboarding = open_onboarding(client.pk)
        if onboarding is None and client.status != Client.Status.ONBOARDING:
            raise SkipRun(f"client {client} is {client.status}: nothing to onboard")
        contact = contact_of(client)
        kickoff = None
        welcome = None
        if onboarding is not None:
            kickoff = kickoffs_of(onboarding).exclude(status=Meeting.Status.CANCELED).first()
            welcome = Message.objects.filter(idempotency_key=welcome_key(onboarding)).first()
        facts = Welcome(
            client=client,
            contact=contact,
            proposal=Proposal.objects.filter(client=client, status=Proposal.Status.SIGNED)
            .order_by("-signed_at", "-pk")
            .first(),
            onboarding=onboarding,
            kickoff=kickoff,
            slot=None,
            agency=profile(),
            welcome=welcome,
        )
        if kickoff is None and may_email(contact):
            facts.slot = first_slot(ctx, client, contact)
        return facts

    def decide(self, ctx: RunContext, facts: Welcome) -> WelcomeEmail:
        if facts.welcome is not None:  # sent before: a retry does not write it again
            return WelcomeEmail(subject=facts.welcome.subject, body=facts.welcome.body)
        return ctx.brain.decide_checked(facts, check=lambda email: welcome_problem(email, facts))

    def prompt(self, ctx: RunContext, facts: Welcome) -> str:
        contact, zone = facts.contact, zone_of(facts.contact)
        lines = [
            f"Client: {facts.client.company.name}",
            f"Contact: {contact.full_name if contact else 'unknown'}",
            f"Signed proposal: {facts.proposal.title if facts.proposal else 'none on record'}",
        ]
        if facts.proposal is not None and facts.proposal.line_items:
            lines.append("Scope: " + "; ".join(_scope(facts.proposal)))
        when = facts.kickoff_at
        lines.append(f"Kickoff booked: {local_when(when, zone)}" if when else "Kickoff: not booked, ask for times")
        lines.append(f"Sender: {facts.agency.sender_name}")
        return "\n".join(lines)

    def heuristic(self, ctx: RunContext, facts: Welcome) -> WelcomeEmail:
        contact, company = facts.contact, facts.client.company.name
        first = contact.first_name if contact is not None and contact.first_name else "there"
        signed = f'"{facts.proposal.title}"' if facts.proposal is not None else "our agreement"
        lines = [f"Hi {first},", "", f"Thank you for signing {signed}. We are glad to start working with {company}."]
        if facts.proposal is not None and facts.proposal.line_items:
            lines += ["", "As agreed, we start with: " + "; ".join(_scope(facts.proposal)) + "."]
        lines += ["", "What happens next:"]
        when = facts.kickoff_at
        if when is not None:
            lines.append(
                f"1. Kickoff call: booked for {local_when(when, zone_of(contact))}. The calendar invite has the "
                "link; if the time does not suit you, move it from the invite."
            )
        else:
            lines.append(
                f"1. Kickoff call: could you send me two or three times next week that suit you for a "
                f"{KICKOFF_MINUTES}-minute call?"
            )
        lines += [
            "2. A shared folder for the project documents, and a workspace where you can follow every task.",
            "3. A short email listing the accesses we need from you.",
            "",
            "Before the kickoff, it helps if you can share your brand guidelines and a sample of the data "
            "the project will use.",
            "",
            "Looking forward to it,",
            facts.agency.sender_name,
        ]
        return WelcomeEmail(subject=f"Welcome aboard, {company}: your next steps", body="\n".join(lines))

    def act(self, ctx: RunContext, facts: Welcome, email: WelcomeEmail) -> Onboarded:
        client = ctx.lock(facts.client)
        onboarding = facts.onboarding or start_onboarding(client=client, items=CHECKLIST)
        out = Onboarded(onboarding_id=onboarding.pk)
        contact = facts.contact
        message = None
        if contact is not None:
            message = queue_email(
                ctx, key=welcome_key(onboarding), lead=contact, subject=email.subject, body=email.body,
                intent="onboarding_welcome",
            )  # fmt: skip
        if message is not None:
            out.welcome_message_id = message.pk
            tick(onboarding.pk, WELCOME)
        else:
            out.note = "the client has no contact we may write to: a human takes the welcome over"
            ctx.escalate(
                Escalation.Kind.ERROR,
                f"{client}: no primary contact we may email; the onboarding waits for a human to reach them",
                payload={"client_id": client.pk, "onboarding_id": onboarding.pk},
                dedupe_key=f"onboarding:{onboarding.pk}:no-contact",
                subject=onboarding,
            )
        kickoff = facts.kickoff
        if kickoff is None and may_email(contact):
            kickoff = book_kickoff(
                ctx, client=facts.client, onboarding=onboarding, contact=contact, agency=facts.agency, slot=facts.slot
            )
        if kickoff is not None:
            out.kickoff_meeting_id, out.kickoff_at = kickoff.pk, kickoff.starts_at
        ctx.act(
            FOLDER_KIND,
            f"onboarding:{onboarding.pk}:shared-folder",
            SharedFolder(
                onboarding_id=onboarding.pk,
                name=f"{client.company.name}: shared folder",
                index=_folder_index(client, facts.proposal),
            ),
        )
        ctx.handoff("client_setup", {"client_id": client.pk})
        return out


def welcome_key(onboarding: Onboarding) -> str:
    return f"onboarding:{onboarding.pk}:welcome"


def welcome_problem(email: WelcomeEmail, facts: Welcome) -> str | None:
    """Why a drafted welcome may not go out (None: it may)."""
    if not email.subject.strip() or not email.body.strip():
        return "the email is empty"
    if "{{" in email.subject + email.body:
        return "the email has an unfilled placeholder"
    when = facts.kickoff_at
    if when is not None and local_when(when, zone_of(facts.contact)).split(" (")[0] not in email.body:
        return "the email does not state the booked kickoff time"
    if len(email.body) > 3000:
        return "the email is too long for a welcome"
    return None


def _scope(proposal: Proposal) -> list[str]:
    return [str(item.get("description", "")).strip() for item in proposal.line_items if item.get("description")][:5]


def _folder_index(client: Client, proposal: Proposal | None) -> str:
    """The shared folder's first page: what goes where (no personal data, the folder outlives people)."""
    lines = [f"{client.company.name}: shared project folder", ""]
    if proposal is not None:
        lines.append(f"Engagement: {proposal.title}")
    lines += [
        "",
        "Brand/ - logos, brand guidelines, tone of voice",
        "Data/ - samples of the data the project works on (no production exports with personal data)",
        "Deliverables/ - what we deliver, one folder per milestone",
        "Reports/ - weekly status reports",
    ]
    return "\n".join(lines)
