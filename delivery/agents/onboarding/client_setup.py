"""client_setup: the client's workspace, and the accesses they give us.

Facts: the client and its open onboarding, the signed proposal's scope and the company's tools.
Decides (rules): which of the client's systems we need access to: each tool the signed scope names,
else each tool the company runs (ACCESS_CATALOGUE says what kind of access each needs and how the
client grants it).
Does: creates the client's workspace in the ProjectTool role (keyed by the client) with the
client's own onboarding items as tasks, whose progress onboarding_stuck_detector reads back;
records each access as requested (ClientAccess: access_revocation takes back exactly these);
emails the contact the access request; hands off project_management. With nothing to access, the
accesses item is ticked at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import Action
from agents.outbox import register_performer
from agents.registry import register
from crm.models import AgencyProfile, Lead
from crm.services.agency import profile
from crm.services.outbound import queue_email
from delivery.agents.onboarding.common import (
    ACCESSES,
    CLIENT_ITEMS,
    WORKSPACE,
    ClientRef,
    contact_of,
    keep_external_id,
    open_onboarding,
    tick,
)
from delivery.models import ClientAccess, Onboarding
from delivery.services.accesses import request_access
from sales.models import Client, Proposal

WORKSPACE_KIND = "onboarding.workspace"
CLIENT_TASKS_DUE = dt.timedelta(days=7)
K = ClientAccess.Kind
# The systems our projects touch, the access each needs and how the client gives it (what a
# real access request says, so the client's admin knows what to click).
ACCESS_CATALOGUE: dict[str, tuple[str, str]] = {
    "HubSpot": (K.USER_ACCOUNT, "a user seat with CRM access (Settings > Users & Teams)"),
    "Salesforce": (K.USER_ACCOUNT, "an integration user with API access"),
    "Pipedrive": (K.API_KEY, "an API token of a user created for us"),
    "Shopify": (K.COLLABORATOR, "a collaborator account (Settings > Users > Collaborators)"),
    "WordPress": (K.ADMIN_ACCOUNT, "an administrator account for the site"),
    "Zapier": (K.GUEST, "a member seat in your Zapier team"),
    "QuickBooks": (K.USER_ACCOUNT, "an accountant user with read access to reports"),
    "Slack": (K.GUEST, "a guest in one shared channel (Slack Connect)"),
    "Notion": (K.GUEST, "a guest on the pages the project uses"),
    "Airtable": (K.COLLABORATOR, "a collaborator on the bases the project uses"),
    "Zendesk": (K.USER_ACCOUNT, "an agent seat with API access"),
    "Intercom": (K.USER_ACCOUNT, "a teammate seat with API access"),
    "Google Workspace": (K.GUEST, "shared access to the project's Drive and Sheets"),
}
MAX_ACCESSES = 6


class SetupFacts(Facts):
    client: Client
    onboarding: Onboarding
    contact: Lead | None
    proposal: Proposal | None
    systems: list[str]
    folder_url: str
    agency: AgencyProfile


class SetUp(BaseModel):
    onboarding_id: int
    workspace_key: str
    accesses_requested: list[str] = []
    access_request_message_id: int | None = None
    note: str = ""


class WorkspaceTask(BaseModel):
    item: str
    title: str
    due: dt.date | None = None


class Workspace(BaseModel):
    onboarding_id: int
    name: str
    description: str
    tasks: list[WorkspaceTask]


@register_performer(WORKSPACE_KIND, payload=Workspace, contacts=())
class CreateWorkspace:
    """The client's project in the PM tool and their onboarding tasks in it, each call keyed."""

    def perform(self, payload: Workspace, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        tool = get_role("project_tool")
        project = tool.create_project(idempotency_key=key, name=payload.name, description=payload.description)
        tasks = {}
        for position, item in enumerate(payload.tasks):
            created = tool.create_task(
                idempotency_key=f"{key}:onboarding:{payload.onboarding_id}:task:{position}",
                project_id=project.project_id,
                title=item.title,
                due=item.due,
            )
            tasks[item.item] = created.task_id
        return {"project_id": project.project_id, "url": project.url, "tasks": tasks}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        onboarding_id = int(action.payload["onboarding_id"])
        for item, task_id in dict(result.get("tasks") or {}).items():
            keep_external_id(onboarding_id, str(item), str(task_id))
        tick(onboarding_id, WORKSPACE, external_id=str(result.get("project_id") or ""))


def systems_in_scope(*, proposal: Proposal | None, tech_stack: list[str]) -> list[str]:
    """The client's systems the project needs: those the signed scope names, else those they run."""
    scope = ""
    if proposal is not None:
        scope = json.dumps(proposal.requirements, default=str) + " " + json.dumps(proposal.line_items, default=str)
    named = [s for s in ACCESS_CATALOGUE if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", scope, re.I)]
    if not named:
        stack = " ".join(str(t) for t in tech_stack)
        named = [s for s in ACCESS_CATALOGUE if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", stack, re.I)]
    return named[:MAX_ACCESSES]


@register
class ClientSetup(Agent[ClientRef, SetUp]):
    name, category, trigger, queue = "client_setup", "onboarding", "handoff", "delivery"
    Input, Facts, Output = ClientRef, SetupFacts, SetUp
    next = ("project_management",)

    def load(self, ctx: RunContext, data: ClientRef) -> SetupFacts:
        client = Client.objects.select_related("company", "primary_contact").get(pk=data.client_id)
        onboarding = open_onboarding(client.pk)
        if onboarding is None:
            raise SkipRun(f"client {client} has no open onboarding: onboarding_orchestrator opens it first")
        proposal = (
            Proposal.objects.filter(client=client, status=Proposal.Status.SIGNED).order_by("-signed_at", "-pk").first()
        )
        return SetupFacts(
            client=client,
            onboarding=onboarding,
            contact=contact_of(client),
            proposal=proposal,
            systems=systems_in_scope(proposal=proposal, tech_stack=list(client.company.tech_stack or [])),
            folder_url=onboarding.shared_folder_url,
            agency=profile(),
        )

    def act(self, ctx: RunContext, facts: SetupFacts) -> SetUp:
        client, onboarding = facts.client, facts.onboarding
        key = f"client:{client.pk}:workspace"
        out = SetUp(onboarding_id=onboarding.pk, workspace_key=key)
        due = ctx.now().date() + CLIENT_TASKS_DUE
        ctx.act(
            WORKSPACE_KIND,
            key,
            Workspace(
                onboarding_id=onboarding.pk,
                name=f"{client.company.name}: client workspace",
                description=f"Onboarding and delivery of {facts.proposal.title if facts.proposal else client}.",
                tasks=[WorkspaceTask(item=item, title=title, due=due) for item, title in CLIENT_ITEMS.items()],
            ),
        )
        accesses = []
        for system in facts.systems:
            kind, how = ACCESS_CATALOGUE[system]
            accesses.append(request_access(client=client, system=system, kind=kind, note=f"how: {how}"))
            out.accesses_requested.append(system)
        if not accesses:
            tick(onboarding.pk, ACCESSES)
            out.note = "the scope touches none of the client's systems: no access to ask for"
            ctx.handoff("project_management", {"client_id": client.pk})
            return out
        if facts.contact is not None:
            message = queue_email(
                ctx,
                key=f"onboarding:{onboarding.pk}:access-request",
                lead=facts.contact,
                subject=f"{client.company.name}: the accesses we need to get started",
                body=_access_request(facts, accesses),
                intent="onboarding_access_request",
            )
            out.access_request_message_id = message.pk if message is not None else None
        if out.access_request_message_id is None:
            out.note = "no contact we may email: the access request waits for the stuck detector's escalation"
        ctx.handoff("project_management", {"client_id": client.pk})
        return out


def _access_request(facts: SetupFacts, accesses: list[ClientAccess]) -> str:
    first = facts.contact.first_name if facts.contact is not None and facts.contact.first_name else "there"
    lines = [f"Hi {first},", "", "To start the work we need access to these of your systems:"]
    lines += [f"- {a.system}: {ACCESS_CATALOGUE[a.system][1]}" for a in accesses]
    lines += [
        "",
        f"Please grant them to {facts.agency.sender_email} and tick the task in your workspace when done.",
        "We keep a list of every access you give us and remove all of them when our work ends.",
    ]
    if facts.folder_url:
        lines += ["", f"Brand guidelines and sample data can go in the shared folder: {facts.folder_url}"]
    lines += ["", "Thank you,", facts.agency.sender_name]
    return "\n".join(lines)
