"""The daily compliance proof (compliance_audit): what was sent and what was promised, checked.

Each check reads one window of business time and returns its findings: the ids (never the raw
addresses) of what breaks a rule, with what was checked, so that an empty result is a proof and
not an absence of data. The rules:

- no suppressed address (or domain) was contacted after its suppression time;
- every opt-out was honoured within the configured delay (ours: at once; CAN-SPAM allows ten
  business days at most): the entry exists soon after the request, and no enrollment of that
  address still runs;
- every cold email carried the RFC 8058 one-click headers and a footer with the postal address and
  the same unsubscribe link (CAN-SPAM);
- prospects' personal data past the retention policy was erased (database_manager does it nightly;
  a backlog older than a grace period is a breach).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from crm.models import Enrollment, Lead, Message, SuppressionEntry
from crm.services.agency import profile
from crm.services.suppression import suppressed_lead_filter, value_hash
from smarter_team.db import in_chunks

SENT = ("sent", "delivered", "opened", "clicked", "replied", "bounced")
OPT_OUT_REASONS = ("unsubscribe", "complaint", "gdpr_objection", "gdpr_erasure")
SAMPLE = 20  # ids kept as evidence per finding


@dataclass
class Check:
    name: str
    checked: int = 0
    breaches: list[int] = field(default_factory=list)
    detail: str = ""

    @property
    def passed(self) -> bool:
        return not self.breaches


def _hashes_for(address: str) -> list[str]:
    """The suppression hashes that cover an address: itself, its domain and the parent domains."""
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    labels = domain.split(".")
    return [value_hash(address)] + [value_hash(".".join(labels[i:])) for i in range(len(labels) - 1)]


def contacted_after_suppression(start: dt.datetime, end: dt.datetime) -> Check:
    """Messages sent in the window to an address suppressed before the send."""
    check = Check("suppressed address contacted")
    sent = list(
        Message.objects.filter(direction=Message.Direction.OUT, status__in=SENT, sent_at__gte=start, sent_at__lt=end)
        .exclude(to_email="")
        .values_list("pk", "to_email", "sent_at")
    )
    check.checked = len(sent)
    wanted = {h for _, to, _ in sent for h in _hashes_for(to)}
    earliest: dict[str, dt.datetime] = {}
    for chunk in in_chunks(sorted(wanted)):  # a day's sends: more hashes than one IN list may bind
        for digest, created in SuppressionEntry.objects.filter(value_hash__in=chunk).values_list(
            "value_hash", "created_at"
        ):
            earliest[digest] = min(created, earliest.get(digest, created))
    for pk, to, sent_at in sent:
        times = [earliest[h] for h in _hashes_for(to) if h in earliest]
        if times and sent_at is not None and min(times) < sent_at:
            check.breaches.append(pk)
    return check


def opt_outs_honoured(start: dt.datetime, end: dt.datetime, *, delay: dt.timedelta) -> Check:
    """Each opt-out request of the window became a suppression entry within ``delay``, and no
    enrollment of a suppressed address still runs once the delay has passed."""
    check = Check("opt-out not honoured in time")
    requests = list(
        Message.objects.filter(direction=Message.Direction.IN, intent="unsubscribe", created_at__gte=start)
        .filter(created_at__lt=end)
        .values_list("pk", "conversation__lead__email", "created_at")
    )
    wanted = {h for _, email, _ in requests if email for h in _hashes_for(email)}
    entries: dict[str, dt.datetime] = {}
    for digest, created in SuppressionEntry.objects.filter(value_hash__in=wanted).values_list(
        "value_hash", "created_at"
    ):
        entries[digest] = min(created, entries.get(digest, created))
    for pk, email, received in requests:
        check.checked += 1
        if not email:
            continue  # the lead was erased: its entry survives as a hash, nothing left to contact
        times = [entries[h] for h in _hashes_for(email) if h in entries]
        if not times or min(times) > received + delay:
            check.breaches.append(pk)
    opted_out = SuppressionEntry.objects.filter(reason__in=OPT_OUT_REASONS, created_at__lt=end - delay).exclude(
        value=""
    )
    covered = Q(pk__in=[])
    for kind, value in opted_out.filter(created_at__gte=start - delay).values_list("kind", "value"):
        check.checked += 1
        covered |= suppressed_lead_filter(kind, value)
    running = Enrollment.objects.filter(status__in=["active", "paused"], lead__in=Lead.objects.filter(covered))
    check.breaches.extend(running.values_list("pk", flat=True)[:SAMPLE])
    return check


def _squashed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def cold_emails_compliant(start: dt.datetime, end: dt.datetime) -> Check:
    """Every cold email (sent by a campaign) had the one-click headers, the postal address and an
    unsubscribe link in its footer that matches its header."""
    check = Check("cold email without unsubscribe headers or postal address")
    address = _squashed(profile().postal_address)
    base = str(settings.PUBLIC_BASE_URL).rstrip("/")
    sent = Message.objects.filter(
        direction=Message.Direction.OUT, enrollment__isnull=False, status__in=SENT, sent_at__gte=start, sent_at__lt=end
    ).values_list("pk", "headers", "body")
    for pk, headers, body in sent.iterator(chunk_size=500):
        check.checked += 1
        link = str((headers or {}).get("List-Unsubscribe", "")).strip("<>")
        one_click = (headers or {}).get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        footer_ok = bool(address) and address in _squashed(body or "")
        if not (link.startswith(base) and one_click and link in (body or "") and footer_ok):
            check.breaches.append(pk)
    return check


def retention_backlog(due_lead_ids: Iterable[int], *, grace: dt.timedelta, now: dt.datetime) -> Check:
    """Prospects past retention that should have been erased more than ``grace`` ago."""
    check = Check("personal data kept past retention")
    retention = dt.timedelta(days=max(int(getattr(settings, "RETENTION_PROSPECT_DAYS", 730)), 1))
    late = now - retention - grace
    ids = list(due_lead_ids)
    check.checked = len(ids)
    check.breaches = list(
        Lead.objects.filter(pk__in=ids, updated_at__lt=late).order_by("pk").values_list("pk", flat=True)
    )
    return check
