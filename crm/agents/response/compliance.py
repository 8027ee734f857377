"""unsubscribe_compliance: an opt-out, a complaint or a GDPR request is honoured at once, every time.

Rules, no model: whatever carried it (the webhook, a reply that says "stop"), the address goes on the
suppression list through record_opt_out (the one entry point), every enrollment of that address
stops, and a GDPR request is recognised in the words: an objection to processing is stored as such,
an erasure request erases (crm.services.suppression.erase: the entry survives as a hash only).
Idempotent: the suppression services return the existing entry.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from agents.base import Agent, Facts
from agents.context import RunContext
from agents.registry import register
from crm.models import Enrollment, Lead, SuppressionEntry
from crm.services.normalize import looks_like_email, normalize_email
from crm.services.replies.dates import fold
from crm.services.suppression import erase, record_opt_out, stop_enrollments, suppress, value_hash
from integrations.webhooks.inputs import EmailEvent

# Folded text (lower case, no accents): English, German, French, Spanish.
ERASURE = re.compile(
    r"(delete|erase|remove|wipe)\w* (all )?(of )?(my|our) (personal )?(data|information|details)"
    r"|right to (be forgotten|erasure)|article 17|art\.? 17"
    r"|(losch|loesch)\w* (sie )?(meine|alle meine) (personenbezogenen )?daten|loschung meiner daten"
    r"|supprim\w* (mes|toutes mes) (donnees|informations)|droit a l.oubli"
    r"|(borr|elimin)\w* (mis|todos mis) datos|derecho al olvido"
)
OBJECTION = re.compile(
    r"object to (the )?(processing|use) of my|article 21|art\.? 21"
    r"|widerspreche\w* (der )?(verarbeitung|nutzung)|m.oppose au traitement|me opongo al tratamiento"
)


class ComplianceRequest(EmailEvent):
    """The webhook's EmailEvent (unsubscribe, complaint), or email_response_handler's handoff of a reply."""


class Request(Facts):
    email: str
    reason: str  # unsubscribe | complaint | gdpr_objection | gdpr_erasure
    entry: SuppressionEntry | None = None
    running: int = 0
    skip: str = ""


class Honoured(BaseModel):
    reason: str = ""
    address_hash: str = ""
    enrollments_stopped: int = 0
    erased_leads: int = 0
    note: str = ""


def gdpr_request(text: str) -> str:
    """'gdpr_erasure', 'gdpr_objection' or '' for the words of a reply."""
    folded = fold(text or "")
    if ERASURE.search(folded):
        return "gdpr_erasure"
    if OBJECTION.search(folded):
        return "gdpr_objection"
    return ""


@register
class UnsubscribeCompliance(Agent[ComplianceRequest, Honoured]):
    name = "unsubscribe_compliance"
    category = "response"
    trigger = ("event", "handoff")
    queue = "crm"
    priority = 9  # an opt-out jumps the queue: the sequences may send meanwhile
    Input = ComplianceRequest
    Facts = Request
    Output = Honoured

    def load(self, ctx: RunContext, data: ComplianceRequest) -> Request:
        raw = data.lead_email.strip()
        if not looks_like_email(raw):
            return Request(email=raw, reason=data.kind, skip="no email address to honour")
        email = normalize_email(raw)
        reason = gdpr_request(f"{data.subject}\n{data.text}") or data.kind
        if reason not in ("complaint", "gdpr_erasure", "gdpr_objection"):
            reason = "unsubscribe"
        entry = SuppressionEntry.objects.filter(kind="email", value_hash=value_hash(email)).first()
        running = Enrollment.objects.filter(
            lead__email=email, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED]
        ).count()
        return Request(email=email, reason=reason, entry=entry, running=running)

    def act(self, ctx: RunContext, facts: Request) -> Honoured:
        if facts.skip:
            return Honoured(reason=facts.reason, note=facts.skip)
        out = Honoured(reason=facts.reason, address_hash=value_hash(facts.email)[:12])
        if facts.reason == "gdpr_erasure":
            erased = erase(email=facts.email, source=self.name)
            out.erased_leads = erased.leads_scrubbed
            out.enrollments_stopped = facts.running
            return out
        if facts.reason == "gdpr_objection":
            suppress(email_or_domain=facts.email, reason="gdpr_objection", source=self.name)
        else:
            record_opt_out(email=facts.email, reason=facts.reason, source=self.name)
        # suppress() stopped the matching leads' enrollments; a merged duplicate may still hold one.
        for lead in Lead.objects.filter(merged_into__email=facts.email).order_by("pk"):
            out.enrollments_stopped += stop_enrollments(lead=lead, reason=f"suppressed: {facts.reason}")
        out.enrollments_stopped += facts.running
        return out
