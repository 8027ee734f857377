"""What the proposal agents share: approvals asked once, status moves with their audit, the dates and
the document's identity."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import models

from agents.context import RunContext
from agents.models import Escalation
from crm.models import Lead
from crm.services.leads import lead_set_status
from sales.models import Proposal

# How long a sent proposal stays valid, and how long a lost deal rests before anyone writes again.
# 30 days is the common validity of agency proposals (prices and capacity are planned a month out);
# 90 days is the usual cool-off before a win-back. Both judgements, overridable in settings.
VALID_DAYS = 30
REACTIVATION_DAYS = 90
# The PandaDoc tokens our documents carry (fields of ``Documents.create_document``). The price is
# what the buyer weighs: the sandbox's buyer reads it from ``TOTAL_FIELD``.
TOTAL_FIELD = "Proposal.Total"
CURRENCY_FIELD = "Proposal.Currency"
VALID_UNTIL_FIELD = "Proposal.ValidUntil"
DOCUMENT_KIND = "document.send"
# The outbox hands the performer its full key: the kind, then ours (``document.send:proposal:7:document``).
_DOCUMENT_KEY = re.compile(r"(?:^|:)proposal:(\d+):document$")
LIVE = (Proposal.Status.SENT, Proposal.Status.VIEWED)


def valid_days() -> int:
    return int(getattr(settings, "PROPOSAL_VALID_DAYS", VALID_DAYS))


def reactivation_date(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=int(getattr(settings, "PROPOSAL_REACTIVATION_DAYS", REACTIVATION_DAYS)))


def document_key(proposal_id: int) -> str:
    """The document's idempotency key: one PandaDoc document per proposal, whatever retries."""
    return f"proposal:{proposal_id}:document"


def proposal_of_key(key: str) -> int | None:
    match = _DOCUMENT_KEY.search(key.strip())
    return int(match.group(1)) if match else None


def approval_key(key: str) -> str:
    """The dedupe key ``ctx.require_approval`` files an approval of ``key`` under."""
    return f"approval:{key}"[:200]


def approval_state(key: str) -> str | None:
    """The operator's answer to ``key`` so far: approved, rejected, open; None when never asked."""
    latest = (
        Escalation.objects.filter(kind=Escalation.Kind.APPROVAL, dedupe_key=approval_key(key)).order_by("-pk").first()
    )
    return str(latest.status) if latest is not None else None


def ask_approval(ctx: RunContext, key: str, reason: str, payload: dict[str, Any], *, subject: models.Model) -> None:
    """In ``act``: wait for an operator on ``key``, with what was prepared committed alongside (so the
    operator sees it and the approved run reuses it)."""
    ctx.escalate(
        Escalation.Kind.APPROVAL, reason, payload=payload, dedupe_key=approval_key(key), wait=True, subject=subject
    )


def move(ctx: RunContext, obj: Any, status: str, *, action: str, **fields: Any) -> list[str]:
    """In ``act``: a status change the model's machine allows, with other fields, audited."""
    obj.STATUS_MACHINE.check(obj, status)
    return ctx.update(obj, action=action, status=status, **fields)


def advance_lead(lead: Lead | None, status: str, reason: str) -> bool:
    """Move the lead on when its status machine allows it (a client's contact who is already won, or
    a lead someone else moved, stays as it is)."""
    if lead is None or lead.status == status or not lead.STATUS_MACHINE.allowed(lead.status, status):
        return False
    return lead_set_status(lead=lead, status=status, reason=reason)


def zone_of(lead: Lead | None) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(lead.time_zone) if lead is not None and lead.time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_today(now: dt.datetime, lead: Lead | None) -> dt.date:
    """Today where the buyer is (their dates are what validity and cadence mean to them)."""
    return now.astimezone(zone_of(lead)).date()


_YOURS = {"we": "you", "us": "you", "our": "your", "ours": "yours", "i": "you", "me": "you", "my": "your",
          "we're": "you're", "i'm": "you're", "we've": "you've", "ourselves": "yourselves"}  # fmt: skip
_PERSON = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(_YOURS, key=len, reverse=True)) + r")\b", re.I)


def in_your_words(text: str) -> str:
    """What the buyer said about themselves, said back to them ("our team" -> "your team")."""
    told = _PERSON.sub(lambda m: _YOURS[m.group(1).lower()], text.strip().rstrip("."))
    return told[:1].lower() + told[1:] if not told[:2].isupper() else told
