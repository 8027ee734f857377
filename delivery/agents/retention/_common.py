"""What the retention agents share: which clients are current, who to write to, how to fan out."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db.models import Q
from pydantic import BaseModel

from agents.models import Escalation
from crm.models import Lead, Message
from crm.services.agency import profile
from sales.models import Client, Proposal

if TYPE_CHECKING:
    from agents.context import RunContext

# The clients we still work for: onboarding, active or at risk (churned and offboarded are gone).
CURRENT = (Client.Status.ONBOARDING, Client.Status.ACTIVE, Client.Status.AT_RISK)
# Escalations about one client's account go to the managers (the account owners), not the operators.
ACCOUNT_OWNER = "manager"
POLICY = Escalation.Kind.POLICY
SAID_WINDOW = dt.timedelta(days=120)  # how far back a client's own words about leaving still hold
LEAVING_WORDS = re.compile(
    r"\b(?:not|won't|will not|don't|do not|no longer)\s+(?:be\s+)?(?:going to\s+|planning to\s+|want to\s+|to\s+)?renew"
    r"|\bnot renewing\b|\bend (?:our|the) (?:contract|engagement|agreement|retainer)\b"
    r"|\b(?:cancel|terminate) (?:our|the) (?:contract|retainer|subscription|agreement)\b|\bpart ways\b"
    r"|\bdecided to (?:leave|stop|move on)\b",
    re.I,
)


class ClientRef(BaseModel):
    client_id: int


class OneOrAll(BaseModel):
    """A beat run ({}: every client due) or a run for one client ({"client_id": 12})."""

    client_id: int | None = None


def contact_of(client: Client) -> Lead | None:
    """Who we write to: the client's primary contact, else the first person we know there with an address."""
    if client.primary_contact is not None and client.primary_contact.email:
        return client.primary_contact
    return (
        Lead.objects.filter(company_id=client.company_id).exclude(email=None).exclude(email="").order_by("pk").first()
    )


def signed_proposals(client: Client) -> list[Proposal]:
    """What the client bought: their signed proposals, oldest first (the first one is the original deal)."""
    signed = Proposal.objects.filter(status=Proposal.Status.SIGNED).order_by("signed_at", "pk")
    # A first proposal was made out to the company before the client existed.
    return list(signed.filter(Q(client=client) | Q(client__isnull=True, company_id=client.company_id)))


def greeting(lead: Lead) -> str:
    return f"Hi {lead.first_name}," if lead.first_name else "Hello,"


def signature() -> str:
    agency = profile()
    return f"Best,\n{agency.sender_name}\n{agency.name}"


def fan_out(ctx: RunContext, agent_name: str, client_ids: list[int]) -> list[int]:
    """One run per client (each decides, and fails, alone), started from the beat run's act."""
    for client_id in client_ids:
        ctx.handoff(agent_name, {"client_id": client_id})
    return client_ids


def said_leaving(client: Client, since: dt.datetime) -> str:
    """The client's own words that they will not renew, from their recent messages ("" if none)."""
    messages = Message.objects.filter(
        conversation__lead__company_id=client.company_id, direction=Message.Direction.IN, created_at__gte=since
    ).order_by("-created_at")
    for message in messages[:50]:
        # Their words, not a classified intent: "not interested" in an add-on is not "we are leaving".
        if LEAVING_WORDS.search(message.body):
            sentences = re.split(r"(?<=[.!?])\s+", message.body.strip())
            words = next((t for t in sentences if LEAVING_WORDS.search(t)), message.body)
            return f'the client wrote on {message.created_at:%Y-%m-%d}: "{words[:200]}"'
    return ""


def leaving_because(client: Client, *, renewal: Proposal | None, now: dt.datetime) -> str:
    """Why the client leaves at the end of the contract ("" when they have not said so): they
    declined ``renewal`` (the renewal of the current contract, if any) or wrote that they will not
    renew. Until the contract ends they are served; nothing more is sold to them."""
    if renewal is not None and renewal.status == Proposal.Status.DECLINED:
        return f"declined the renewal ({renewal.decline_reason or 'no reason given'})"
    return said_leaving(client, now - SAID_WINDOW)
