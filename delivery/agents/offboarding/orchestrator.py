"""offboarding_orchestrator: a client leaves; everything that must happen, and the door left open.

Started by renewal_manager or an operator with ``{"client_id", "reason"}``; every morning (``{}``)
it also looks over the open offboardings.
Facts: the client, its offboarding (open or done), its open onboarding, and per open offboarding
the evidence of each item: a final invoice issued (or invoice_generation finished with nothing to
bill), the handover document, the accesses revoked, the exit survey sent.
Decides (rules): a new offboarding opens with the agency's checklist (final invoice, handover,
access revocation, exit survey) and a reactivation date after the cool-off
(``client_cool_off_days``); the client is churned from then on and an onboarding still open is
canceled. Each item the evidence shows done is ticked; when all are, the offboarding completes and
the client is offboarded.
Does: hands the items to knowledge_transfer, access_revocation and exit_survey
(``{"offboarding_id"}``) and invoice_generation (``{"client_id", "kind": "final"}``), once, when it
opens the offboarding. A client already offboarded is skipped.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.errors import SkipRun
from agents.models import AgentRun
from agents.registry import register
from delivery.agents.offboarding.common import (
    CHECKLIST,
    FINAL_INVOICE,
    HANDOVER,
    SURVEY,
    finish_if_done,
    item_done,
    tick,
)
from delivery.models import Offboarding, Onboarding
from delivery.policy import LifecyclePolicy, lifecycle_policy
from delivery.services.offboarding import exit_survey_of, start_offboarding
from delivery.services.onboarding import cancel_onboarding
from sales.models import Client, Invoice

MAX_OPEN = 200


class OffboardRequest(BaseModel):
    client_id: int | None = None
    reason: str = ""


class Evidence(BaseModel):
    """Per open offboarding: the items its facts show done."""

    offboarding_id: int
    done: list[str] = Field(default_factory=list)


class Leaving(Facts):
    client: Client | None = None
    reason: str = ""
    onboarding: Onboarding | None = None
    evidence: list[Evidence]
    policy: LifecyclePolicy
    today: dt.date


class Offboarded(BaseModel):
    started: int | None = None
    handed_off: list[str] = Field(default_factory=list)
    ticked: dict[int, list[str]] = Field(default_factory=dict)
    completed: list[int] = Field(default_factory=list)
    reactivation_after: dt.date | None = None


def evidence_for(offboarding: Offboarding) -> Evidence:
    """Which items of an open offboarding are done by now, from what is stored."""
    found = Evidence(offboarding_id=offboarding.pk)
    since = offboarding.created_at
    final_issued = (
        Invoice.objects.filter(client_id=offboarding.client_id, kind=Invoice.Kind.FINAL, created_at__gte=since)
        .exclude(status=Invoice.Status.VOID)
        .exists()
    )
    nothing_to_bill = AgentRun.objects.filter(
        agent_name="invoice_generation",
        status=AgentRun.Status.SUCCEEDED,
        input__client_id=offboarding.client_id,
        input__kind="final",
        created_at__gte=since,
    ).exists()
    if final_issued or nothing_to_bill:
        found.done.append(FINAL_INVOICE)
    if offboarding.handover_document.strip():
        found.done.append(HANDOVER)
    survey = exit_survey_of(offboarding=offboarding)
    if survey is not None and survey.sent_at is not None:
        found.done.append(SURVEY)
    found.done = [item for item in found.done if not item_done(offboarding, item)]
    return found


@register
class OffboardingOrchestrator(Agent[OffboardRequest, Offboarded]):
    name, category, trigger, queue = "offboarding_orchestrator", "offboarding", ("handoff", "schedule"), "delivery"
    Input, Facts, Output = OffboardRequest, Leaving, Offboarded
    schedule = "30 6 * * *"  # daily: items finished elsewhere (the final invoice) close offboardings
    next = ("knowledge_transfer", "access_revocation", "exit_survey", "invoice_generation")

    def load(self, ctx: RunContext, data: OffboardRequest) -> Leaving:
        facts = Leaving(evidence=[], policy=lifecycle_policy(), today=ctx.now().date(), reason=data.reason.strip())
        if data.client_id is None:
            open_ones = Offboarding.objects.filter(status=Offboarding.Status.IN_PROGRESS).order_by("pk")[:MAX_OPEN]
            facts.evidence = [evidence_for(o) for o in open_ones]
            return facts
        client = Client.objects.select_related("company").get(pk=data.client_id)
        current = Offboarding.objects.filter(client=client, status=Offboarding.Status.IN_PROGRESS).first()
        if current is None:
            if client.status == Client.Status.OFFBOARDED:
                raise SkipRun(f"client {client} is offboarded already")
            if not facts.reason:
                raise SkipRun("an offboarding needs a reason (renewal_manager or the operator gives one)")
        facts.client = client
        facts.onboarding = Onboarding.objects.filter(
            client=client, status__in=[Onboarding.Status.IN_PROGRESS, Onboarding.Status.STUCK]
        ).first()
        if current is not None:
            facts.evidence = [evidence_for(current)]
        return facts

    def act(self, ctx: RunContext, facts: Leaving) -> Offboarded:
        out = Offboarded()
        if facts.client is not None and not facts.evidence:
            self._start(ctx, facts, out)
        for evidence in facts.evidence:
            for item in evidence.done:
                if tick(evidence.offboarding_id, item):
                    out.ticked.setdefault(evidence.offboarding_id, []).append(item)
            # Open when loaded: closed now means this run (or its last tick) completed it.
            if finish_if_done(offboarding := Offboarding.objects.get(pk=evidence.offboarding_id)) or (
                offboarding.status == Offboarding.Status.COMPLETED and evidence.offboarding_id in out.ticked
            ):
                out.completed.append(offboarding.pk)
        return out

    def _start(self, ctx: RunContext, facts: Leaving, out: Offboarded) -> None:
        assert facts.client is not None
        client = ctx.lock(facts.client)
        reactivation_after = facts.today + dt.timedelta(days=facts.policy.client_cool_off_days)
        offboarding = start_offboarding(
            client=client, reason=facts.reason, checklist=CHECKLIST, reactivation_after=reactivation_after
        )
        ctx.update(offboarding, action="offboarding.started", note={"reason": facts.reason})
        if facts.onboarding is not None:  # leaving before the onboarding finished: nothing to chase
            cancel_onboarding(onboarding=facts.onboarding)
        out.started, out.reactivation_after = offboarding.pk, offboarding.reactivation_after
        for name in ("knowledge_transfer", "access_revocation", "exit_survey"):
            if ctx.handoff(name, {"offboarding_id": offboarding.pk}) is not None:
                out.handed_off.append(name)
        if ctx.handoff("invoice_generation", {"client_id": client.pk, "kind": "final"}) is not None:
            out.handed_off.append("invoice_generation")
