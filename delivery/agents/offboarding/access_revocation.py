"""access_revocation: everything the client gave us access to is taken back; their data archived
and their people's personal data kept or erased, exactly as the retention policy says.

Facts: the offboarding, the accesses recorded for the client (ClientAccess) and, for each, whether
the role it was granted through can revoke it (a provider with ``revoke_access``: the Revocable
capability; none of today's roles offers one, so today a person removes every access), the
client's people (crm Leads at the company) and the lifecycle policy.
Decides (rules): a granted access its role can revoke is revoked through the provider (outbox,
keyed by the access); any other granted access is marked revoked by hand (who and when), the
client's contact is asked to remove each and rotate what we held, and one escalation lists them
for a human to confirm; an access asked for but never granted has its request withdrawn. The
client's records are archived through the Documents role (delivery facts and money, no personal
data). Personal data: "keep" leaves the people as they are; "erase" erases each of them
(crm.services.suppression.erase: the suppression list keeps only the hash, so they are never
contacted again) ``erase_after_days`` after the offboarding started: at once when due, else on the
daily run ({}), and never for a client who has come back.
Does: once nothing granted is still held, sets Offboarding.access_revoked_at and ticks the item.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.models import Action, Escalation
from agents.outbox import register_performer
from agents.registry import register
from agents.services.escalations import raise_escalation
from crm.models import Lead
from crm.services.agency import profile
from crm.services.outbound import may_email, queue_email
from crm.services.suppression import erase
from delivery.agents.documents import keep_document
from delivery.agents.offboarding.common import after_revocation
from delivery.models import ClientAccess, Offboarding, Project
from delivery.policy import LifecyclePolicy, lifecycle_policy
from delivery.services.accesses import revoke_access, withdraw_access_request
from sales.models import Client, Invoice

REVOKE_KIND = "offboarding.revoke_access"
ARCHIVE_KIND = "offboarding.archive"
BY_HAND = "access_revocation: removal asked of the client's admin"
MAX_SWEEP = 100
GONE = (Client.Status.CHURNED, Client.Status.OFFBOARDED)


@runtime_checkable
class Revocable(Protocol):
    """A provider that can take back an access it granted (e.g. remove our guest from a workspace)."""

    def revoke_access(self, *, idempotency_key: str, resource_id: str) -> None: ...


class RevocationRequest(BaseModel):
    offboarding_id: int | None = None


class Leaver(BaseModel):
    """One offboarding's work: what to revoke and whose data to erase."""

    model_config = {"arbitrary_types_allowed": True}

    offboarding: Offboarding
    client: Client
    accesses: list[ClientAccess] = Field(default_factory=list)
    revocable: dict[int, bool] = Field(default_factory=dict)  # access pk -> its role can revoke it
    people: list[Lead] = Field(default_factory=list)
    erase_on: dt.date | None = None


class RevocationFacts(Facts):
    leavers: list[Leaver]
    policy: LifecyclePolicy
    today: dt.date
    sweep: bool


class Revoked(BaseModel):
    through_provider: list[int] = Field(default_factory=list)
    by_hand: list[int] = Field(default_factory=list)
    withdrawn: list[int] = Field(default_factory=list)
    archived: list[int] = Field(default_factory=list)
    erased_people: int = 0
    kept_people: int = 0
    erase_on: dict[int, dt.date] = Field(default_factory=dict)


# --- the acts, performed after commit -------------------------------------------------------------


class RevokeAccess(BaseModel):
    access_id: int
    offboarding_id: int
    role: str
    resource_id: str


@register_performer(REVOKE_KIND, payload=RevokeAccess, contacts=())
class RevokeThroughProvider:
    def perform(self, payload: RevokeAccess, key: str) -> dict[str, Any]:
        from integrations.roles import get_role

        provider = get_role(payload.role)
        provider.revoke_access(idempotency_key=key, resource_id=payload.resource_id)
        return {"provider": provider.name}

    def on_done(self, action: Action, result: dict[str, Any]) -> None:
        access = ClientAccess.objects.filter(pk=action.payload["access_id"]).first()
        if access is None:
            return
        revoke_access(
            access=access,
            by=f"access_revocation via {result.get('provider', action.payload['role'])}",
            revocation=ClientAccess.Revocation.PROVIDER,
        )
        after_revocation(int(action.payload["offboarding_id"]))

    def on_failed(self, action: Action, reason: str, *, blocked: bool) -> None:
        # The provider would not do it: a person must, and is told so.
        access = ClientAccess.objects.filter(pk=action.payload["access_id"]).first()
        if access is None:
            return
        revoke_access(
            access=access, by=BY_HAND, revocation=ClientAccess.Revocation.MANUAL, note=f"provider failed: {reason}"
        )
        raise_escalation(
            kind=Escalation.Kind.ERROR,
            reason=f"{access}: the provider could not revoke it ({reason}); remove it by hand",
            payload={"access_id": access.pk},
            run=action.run,
            dedupe_key=f"access:{access.pk}:revoke-failed",
            subject=access,
        )
        after_revocation(int(action.payload["offboarding_id"]))


class Archive(BaseModel):
    offboarding_id: int
    name: str
    content: str


@register_performer(ARCHIVE_KIND, payload=Archive, contacts=())
class ArchiveRecords:
    def perform(self, payload: Archive, key: str) -> dict[str, Any]:
        return keep_document(key, name=payload.name, content=payload.content)


# --- the agent ----------------------------------------------------------------------------------


def erase_due_on(offboarding: Offboarding, policy: LifecyclePolicy) -> dt.date | None:
    if policy.contact_data != "erase":
        return None
    return (offboarding.created_at + dt.timedelta(days=policy.erase_after_days)).date()


@register
class AccessRevocation(Agent[RevocationRequest, Revoked]):
    name, category, trigger, queue = "access_revocation", "offboarding", ("handoff", "schedule"), "delivery"
    Input, Facts, Output = RevocationRequest, RevocationFacts, Revoked
    schedule = "0 3 * * *"  # daily: erasures that fall due
    next = ()

    def load(self, ctx: RunContext, data: RevocationRequest) -> RevocationFacts:
        policy, today = lifecycle_policy(), ctx.now().date()
        if data.offboarding_id is not None:
            offboardings = [Offboarding.objects.select_related("client__company").get(pk=data.offboarding_id)]
        elif policy.contact_data == "erase":
            cutoff = ctx.now() - dt.timedelta(days=policy.erase_after_days)
            offboardings = list(
                Offboarding.objects.filter(
                    created_at__lte=cutoff, client__status__in=GONE, client__company__leads__email__isnull=False
                )
                .select_related("client__company")
                .distinct()
                .order_by("pk")[:MAX_SWEEP]
            )
        else:
            offboardings = []
        leavers = []
        for offboarding in offboardings:
            client = offboarding.client
            leaver = Leaver(offboarding=offboarding, client=client, erase_on=erase_due_on(offboarding, policy))
            leaver.people = list(Lead.objects.filter(company=client.company).exclude(email=None).order_by("pk"))
            if data.offboarding_id is not None:
                leaver.accesses = list(
                    ClientAccess.objects.filter(
                        client=client, status__in=[ClientAccess.Status.REQUESTED, ClientAccess.Status.GRANTED]
                    ).order_by("pk")
                )
                leaver.revocable = {a.pk: self._revocable(ctx, a) for a in leaver.accesses}
            leavers.append(leaver)
        return RevocationFacts(leavers=leavers, policy=policy, today=today, sweep=data.offboarding_id is None)

    @staticmethod
    def _revocable(ctx: RunContext, access: ClientAccess) -> bool:
        return bool(access.role and access.resource_id) and isinstance(ctx.roles.get(access.role), Revocable)

    def act(self, ctx: RunContext, facts: RevocationFacts) -> Revoked:
        out = Revoked()
        for leaver in facts.leavers:
            if not facts.sweep:
                self._revoke(ctx, leaver, out)
                self._archive(ctx, leaver, out)
            self._personal_data(ctx, facts, leaver, out)
        return out

    def _revoke(self, ctx: RunContext, leaver: Leaver, out: Revoked) -> None:
        offboarding, by_hand = leaver.offboarding, []
        for access in leaver.accesses:
            if access.status == ClientAccess.Status.REQUESTED:
                withdraw_access_request(access=access, note="never granted; the request closed when the client left")
                out.withdrawn.append(access.pk)
            elif leaver.revocable[access.pk]:
                ctx.act(
                    REVOKE_KIND,
                    f"access:{access.pk}:revoke",
                    RevokeAccess(
                        access_id=access.pk, offboarding_id=offboarding.pk, role=access.role,
                        resource_id=access.resource_id,
                    ),
                )  # fmt: skip
                out.through_provider.append(access.pk)
            else:
                revoke_access(access=access, by=BY_HAND, revocation=ClientAccess.Revocation.MANUAL)
                by_hand.append(access)
                out.by_hand.append(access.pk)
        if by_hand:
            self._ask_for_removal(ctx, leaver, by_hand)
        after_revocation(offboarding.pk)

    def _ask_for_removal(self, ctx: RunContext, leaver: Leaver, accesses: list[ClientAccess]) -> None:
        offboarding, contact = leaver.offboarding, leaver.client.primary_contact
        listed = [f"- {a.system}: our {a.get_kind_display()}" for a in accesses]
        if may_email(contact):
            agency = profile()
            body = "\n".join(
                [
                    f"Hi {contact.first_name or 'there'},",
                    "",
                    "As our work together ends, please remove these accesses you gave us, and rotate any key "
                    "or password we were given:",
                    *listed,
                    "",
                    "We have deleted our copies of any credentials on our side.",
                    "",
                    agency.sender_name,
                ]
            )
            queue_email(
                ctx,
                key=f"offboarding:{offboarding.pk}:access-removal",
                lead=contact,
                subject=f"{leaver.client.company.name}: please remove our accesses",
                body=body,
                intent="offboarding_access_removal",
            )
        ctx.escalate(
            Escalation.Kind.ERROR,
            f"{leaver.client}: {len(accesses)} access(es) must be removed by hand; confirm each is gone",
            payload={"offboarding_id": offboarding.pk, "accesses": [a.pk for a in accesses], "listed": listed},
            dedupe_key=f"offboarding:{offboarding.pk}:manual-access-removal",
            subject=offboarding,
        )

    def _archive(self, ctx: RunContext, leaver: Leaver, out: Revoked) -> None:
        offboarding, client = leaver.offboarding, leaver.client
        ctx.act(
            ARCHIVE_KIND,
            f"offboarding:{offboarding.pk}:archive",
            Archive(
                offboarding_id=offboarding.pk,
                name=f"{client.company.name}: archive of the engagement",
                content=archive_of(client, offboarding),
            ),
        )
        out.archived.append(offboarding.pk)

    def _personal_data(self, ctx: RunContext, facts: RevocationFacts, leaver: Leaver, out: Revoked) -> None:
        if leaver.erase_on is None:
            out.kept_people += len(leaver.people)
            return
        client = ctx.lock(leaver.client)
        if client.status not in GONE or leaver.erase_on > facts.today:
            out.erase_on[leaver.offboarding.pk] = leaver.erase_on
            return  # not yet (or they came back: their people are ours to talk to again)
        erased = 0
        for person in leaver.people:
            if person.email:
                erase(email=person.email, source=f"retention:offboarding:{leaver.offboarding.pk}")
                erased += 1
        out.erased_people += erased
        if erased:
            ctx.update(
                leaver.offboarding,
                action="offboarding.personal_data_erased",
                note={"people": erased, "policy": "erase"},
            )


def archive_of(client: Client, offboarding: Offboarding) -> str:
    """The engagement's record without personal data: what was delivered and what was billed."""
    lines = [
        f"Client: {client.company.name} ({client.company.domain or 'no domain'})",
        f"Engagement: {client.started_on or '?'} to {offboarding.created_at:%Y-%m-%d}; reason for leaving: "
        f"{offboarding.reason}",
        "",
        "Projects:",
    ]
    for project in Project.objects.filter(client=client).prefetch_related("milestones").order_by("pk"):
        lines.append(f"- {project.name} ({project.status}), {project.starts_on or '?'} to {project.due_on or '?'}")
        lines += [f"  - {m.name}: {m.status}" for m in project.milestones.all()]
    lines += ["", "Invoices:"]
    lines += [
        f"- {i.number} {i.kind}: {i.amount} {i.currency}, {i.status}"
        for i in Invoice.objects.filter(client=client).order_by("year", "sequence")
    ]
    lines += ["", "Accesses:"]
    lines += [f"- {a.system} ({a.get_kind_display()}): {a.status}" for a in ClientAccess.objects.filter(client=client)]
    return "\n".join(lines)
