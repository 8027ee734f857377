"""Reads: what our outbound emails did, counted from the Message rows (never from counters).

One message row is one send; its status is how far it got (sent < delivered < opened < clicked <
replied, or bounced). A complaint is an outbound message whose recipient is on the suppression list
for a complaint (the opt-out webhook writes that entry) or whose intent the complaint handler set to
``complaint``. A positive reply is an inbound message in the same conversation classified
``interested``; a meeting is a meeting with the lead that was not canceled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from crm.models import Message, SuppressionEntry
from sales.models import Meeting

__all__ = ["POSITIVE_INTENTS", "Tally", "outbound_sends", "tally_by"]

S = Message.Status
SENT = (S.SENT, S.DELIVERED, S.OPENED, S.CLICKED, S.REPLIED, S.BOUNCED)
OPENED = (S.OPENED, S.CLICKED, S.REPLIED)
POSITIVE_INTENTS = ("interested",)


@dataclass(frozen=True)
class Tally:
    sent: int = 0
    bounced: int = 0
    complaints: int = 0
    opened: int = 0
    replied: int = 0
    positive: int = 0
    meetings: int = 0

    def rate(self, what: str) -> float | None:
        """``what`` per send; None without sends (no rate, not a zero rate)."""
        return getattr(self, what) / self.sent if self.sent else None

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    def as_dict(self) -> dict[str, Any]:
        rates = {
            f"{w}_rate": (round(r, 4) if (r := self.rate(w)) is not None else None)
            for w in ("bounced", "complaints", "opened", "replied", "positive", "meetings")
        }
        return asdict(self) | rates


def outbound_sends(*, since: dt.datetime | None = None) -> QuerySet[Message]:
    """Outbound messages that left (or bounced trying), stamped ``at`` (sent, else created)."""
    qs = Message.objects.filter(direction=Message.Direction.OUT, status__in=SENT).annotate(
        at=Coalesce("sent_at", "created_at")
    )
    return qs.filter(at__gte=since) if since is not None else qs


def tally_by(messages: QuerySet[Message], fields: Iterable[str]) -> dict[tuple[Any, ...], Tally]:
    """One Tally per distinct value of ``fields`` (e.g. ``("mailbox_id",)``), in one query."""
    names = list(fields)
    complained = SuppressionEntry.objects.filter(
        reason=SuppressionEntry.Reason.COMPLAINT, kind=SuppressionEntry.Kind.EMAIL, value=OuterRef("to_email")
    )
    positive = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), direction=Message.Direction.IN, intent__in=POSITIVE_INTENTS
    )
    met = Meeting.objects.filter(lead_id=OuterRef("conversation__lead_id")).exclude(status=Meeting.Status.CANCELED)
    annotated = messages.annotate(
        complained=ExpressionWrapper(Q(Exists(complained)) | Q(intent="complaint"), output_field=BooleanField()),
        was_positive=Exists(positive),
        met=Exists(met),
    )
    counts = {
        "n_sent": Count("pk"),
        "n_bounced": Count("pk", filter=Q(status=S.BOUNCED)),
        "n_complaints": Count("pk", filter=Q(complained=True)),
        "n_opened": Count("pk", filter=Q(status__in=OPENED)),
        "n_replied": Count("pk", filter=Q(status=S.REPLIED)),
        "n_positive": Count("pk", filter=Q(status=S.REPLIED, was_positive=True)),
        "n_meetings": Count("pk", filter=Q(status=S.REPLIED, met=True)),
    }
    if not names:  # one total: an aggregate (values() without fields would group by every column)
        total = annotated.order_by().aggregate(**counts)
        rows: Iterable[dict[str, Any]] = [total] if total["n_sent"] else []
    else:
        rows = annotated.values(*names).annotate(**counts).order_by(*names)
    return {
        tuple(row[n] for n in names): Tally(
            sent=row["n_sent"],
            bounced=row["n_bounced"],
            complaints=row["n_complaints"],
            opened=row["n_opened"],
            replied=row["n_replied"],
            positive=row["n_positive"],
            meetings=row["n_meetings"],
        )
        for row in rows
    }
