"""The suppression list: who must never be contacted again, checked before every outbound message.

Entries keep a sha256 of the normalised value forever, so an erased (GDPR) address still blocks a
re-import of the same person. Suppressing is idempotent: the first entry for a value wins.

``record_opt_out`` is the one entry point for a person's own opt-out, whatever carried it (a
provider's webhook event, the one-click unsubscribe link, a reply that says "stop"): it takes an
address only, never a domain, so no event can suppress everyone at gmail.com.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from crm.models import (
    Conversation,
    Enrollment,
    Lead,
    Message,
    ResearchReport,
    SuppressionEntry,
    SuppressionEntryKind,
    SuppressionEntryReason,
)
from crm.services.normalize import looks_like_email, normalize_domain, normalize_email, normalize_phone

__all__ = [
    "OPT_OUT_REASONS",
    "ErasureResult",
    "erase",
    "is_suppressed",
    "record_opt_out",
    "search_hashes",
    "stop_enrollments",
    "suppress",
    "suppressed_lead_filter",
    "suppression_guard",
    "value_hash",
]

ERASED = "[erased]"


def value_hash(value: str) -> str:
    """sha256 of an already normalised address or domain."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _parse(email_or_domain: str) -> tuple[str, str]:
    """(kind, normalised value); raises ValueError with the reason."""
    raw = (email_or_domain or "").strip()
    if looks_like_email(raw):
        return SuppressionEntryKind.EMAIL, normalize_email(raw)
    return SuppressionEntryKind.DOMAIN, normalize_domain(raw)


def _domain_and_parents(domain: str) -> list[str]:
    """``mail.example.co.uk`` -> [mail.example.co.uk, example.co.uk, co.uk]: a suppressed parent covers subdomains.

    The bare top-level domain is never a candidate; ``co.uk`` can only match if someone suppressed it.
    """
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def suppressed_lead_filter(kind: str, value: str) -> Q:
    """Leads an entry covers: the address itself, or every address at the domain and its subdomains."""
    if kind == SuppressionEntryKind.EMAIL:
        return Q(email=value)
    return Q(email__endswith=f"@{value}") | Q(email__endswith=f".{value}")


@transaction.atomic
def suppress(*, email_or_domain: str, reason: str, source: str = "", note: str = "") -> SuppressionEntry:
    """Add an address or a domain to the suppression list and stop everything aimed at it.

    Matching leads become do-not-contact and unsubscribed (bounced for a hard bounce); their active
    and paused enrollments stop with the same status. Safe to call twice: the existing entry is
    returned and the leads are re-checked (a lead imported in between is caught too).
    Raises ValueError when the value is neither an address nor a domain, or the reason is unknown.
    """
    if reason not in SuppressionEntryReason.values:
        raise ValueError(f"unknown suppression reason {reason!r}; one of {', '.join(SuppressionEntryReason.values)}")
    kind, value = _parse(email_or_domain)
    entry, _created = SuppressionEntry.objects.get_or_create(
        kind=kind,
        value_hash=value_hash(value),
        defaults={"value": value, "reason": reason, "source": source[:64], "note": note},
    )
    bounce = reason == SuppressionEntryReason.HARD_BOUNCE
    leads = Lead.objects.select_for_update().filter(suppressed_lead_filter(kind, value)).order_by("pk")
    for lead in leads:
        _stop_lead(lead, bounced=bounce, why=f"suppressed: {reason}")
    return entry


# A person's own opt-outs, as the reasons they are stored under.
OPT_OUT_REASONS = frozenset(
    {SuppressionEntryReason.UNSUBSCRIBE, SuppressionEntryReason.COMPLAINT, SuppressionEntryReason.HARD_BOUNCE}
)


def record_opt_out(*, email: str, reason: str, source: str, note: str = "") -> SuppressionEntry:
    """Suppress one address because its owner opted out (unsubscribe, complaint, hard bounce).

    Commits with the caller's transaction (call it outside any transaction that may roll back for
    another reason: the opt-out must stand on its own). Idempotent, like ``suppress``; raises
    ValueError for a value that is not an email address or a reason that is not an opt-out.
    """
    if reason not in OPT_OUT_REASONS:
        raise ValueError(f"{reason!r} is not an opt-out; one of {', '.join(sorted(OPT_OUT_REASONS))}")
    if not looks_like_email((email or "").strip()):
        raise ValueError("an opt-out names an email address, not a domain")
    return suppress(email_or_domain=email, reason=reason, source=source, note=note)


def _stop_lead(lead: Lead, *, bounced: bool, why: str) -> None:
    """Make one lead uncontactable. Call inside a transaction holding the lead's row lock."""
    target = Lead.Status.BOUNCED if bounced else Lead.Status.UNSUBSCRIBED
    if not lead.do_not_contact:
        lead.do_not_contact = True
        lead.save(update_fields=["do_not_contact"])
    if lead.STATUS_MACHINE.allowed(lead.status, target):
        lead.transition_to(target)
    elif lead.STATUS_MACHINE.allowed(lead.status, Lead.Status.UNSUBSCRIBED):
        lead.transition_to(Lead.Status.UNSUBSCRIBED)
    stop_enrollments(lead=lead, bounced=bounced, reason=why)


def stop_enrollments(*, lead: Lead, bounced: bool = False, reason: str) -> int:
    """Stop every active or paused enrollment of a lead; returns how many stopped."""
    target = Enrollment.Status.BOUNCED if bounced else Enrollment.Status.UNSUBSCRIBED
    running = Enrollment.objects.select_for_update().filter(
        lead=lead, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED]
    )
    stopped = 0
    for enrollment in running:
        enrollment.next_send_at = None
        enrollment.stopped_reason = reason[:255]
        enrollment.transition_to(target, also=["next_send_at", "stopped_reason"])
        stopped += 1
    return stopped


def is_suppressed(email: str) -> bool:
    """Whether an address (or a domain) may not be contacted: the address, its domain or a parent domain is listed.

    Fails closed: a value that is not an address or a domain counts as suppressed, because nothing
    should be sent to it anyway. Matches by hash, so erased entries still count.
    """
    listed = _listed(email)
    return listed is None or listed.exists()


def _listed(email: str) -> QuerySet[SuppressionEntry] | None:
    """The suppression entries that list ``email``, its domain or a parent domain (None: not an
    address or a domain, which counts as suppressed)."""
    try:
        kind, value = _parse(email)
    except ValueError:
        return None
    domain = value.rpartition("@")[2]
    query = Q(kind=SuppressionEntryKind.DOMAIN, value_hash__in=[value_hash(d) for d in _domain_and_parents(domain)])
    if kind == SuppressionEntryKind.EMAIL:
        query |= Q(kind=SuppressionEntryKind.EMAIL, value_hash=value_hash(value))
    return SuppressionEntry.objects.filter(query)


def _either_exists(first: QuerySet[Any], second: QuerySet[Any]) -> tuple[bool, bool]:
    """Whether each query has a row, in one round trip (the outbox asks both before every send)."""
    sql_a, params_a = first.values("pk")[:1].query.sql_with_params()
    sql_b, params_b = second.values("pk")[:1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS({sql_a}), EXISTS({sql_b})", (*params_a, *params_b))
        row = cursor.fetchone()
    return bool(row[0]), bool(row[1])


def suppression_guard(kind: str, addresses: list[str], payload: dict[str, Any]) -> str | None:
    """The outbox's compliance guard: refuses an act that reaches anyone who opted out.

    Registered by the crm app, so every performer that declares its contacts is checked before
    each attempt, whichever agent acts. A contact is an email address (the suppression list, and
    the do-not-contact flag of its leads) or a phone number or profile URL (the leads it belongs
    to: do-not-contact, or an address of theirs on the list; a contact no lead owns cannot be
    checked, so it is refused). The reason names the recipient by position and hash prefix only:
    refusals are stored on actions and runs, which an erasure does not scrub.
    """
    for position, contact in enumerate(addresses, start=1):
        refusal = _contact_refusal(contact)
        if refusal is not None:
            digest = value_hash(contact.strip().lower())[:12]
            return f"recipient {position} of {len(addresses)} (sha256 {digest}…) {refusal}"
    return None


def _contact_refusal(contact: str) -> str | None:
    if looks_like_email(contact):
        try:
            address = normalize_email(contact)
        except ValueError:
            return "is not a valid email address"
        listed = _listed(address)
        if listed is None:
            return "is on the suppression list"  # not an address: suppressed (is_suppressed fails closed)
        suppressed, marked = _either_exists(listed, Lead.objects.filter(email=address, do_not_contact=True))
        if suppressed:
            return "is on the suppression list"
        if marked:
            return "belongs to a lead marked do-not-contact"
        return None
    channel = _channel_filter(contact)
    if channel is None:
        return "is not a valid address, phone number or profile URL"
    leads = list(Lead.objects.filter(channel).values_list("email", "do_not_contact"))
    if not leads:
        return "is a phone number or profile no lead owns, so its opt-out cannot be checked"
    for email, do_not_contact in leads:
        if do_not_contact:
            return "belongs to a lead marked do-not-contact"
        if email and is_suppressed(email):
            return "belongs to a lead whose address is on the suppression list"
    return None


def _channel_filter(contact: str) -> Q | None:
    """Leads reached through a phone number or a profile URL, in the forms the lead import stores;
    None when the contact is neither."""
    value = contact.strip()
    with contextlib.suppress(ValueError):
        return Q(phone=normalize_phone(value))
    if "/" not in value or " " in value:
        return None
    url = value.rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    return Q(linkedin_url__in=[url, f"{url}/"])


def search_hashes(term: str) -> list[str]:
    """Hashes an address or domain typed into a search box would be stored under (empty if it is neither)."""
    try:
        _kind, value = _parse(term)
    except ValueError:
        return []
    return [value_hash(value)]


@dataclass(frozen=True)
class ErasureResult:
    entry: SuppressionEntry
    leads_scrubbed: int
    messages_scrubbed: int


@transaction.atomic
def erase(*, email: str, source: str = "gdpr_request") -> ErasureResult:
    """GDPR erasure of one person: forget the address and the lead's personal data, keep only the hash.

    The suppression entry stays (value blanked, hash kept) so the person is never contacted again;
    the lead row stays too (blank, do-not-contact) so reports and invoices keep their foreign keys.
    """
    address = normalize_email(email)
    digest = value_hash(address)
    entry, _ = SuppressionEntry.objects.get_or_create(
        kind=SuppressionEntryKind.EMAIL,
        value_hash=digest,
        defaults={"value": address, "reason": SuppressionEntryReason.GDPR_ERASURE, "source": source[:64]},
    )
    SuppressionEntry.objects.filter(kind=SuppressionEntryKind.EMAIL, value_hash=digest).update(value="", note="")
    entry.refresh_from_db()

    leads = list(Lead.objects.select_for_update().filter(email=address))
    messages = 0
    for lead in leads:
        _stop_lead(lead, bounced=False, why="suppressed: gdpr_erasure")
        messages += _scrub_lead(lead, address)
    return ErasureResult(entry=entry, leads_scrubbed=len(leads), messages_scrubbed=messages)


def _scrub_lead(lead: Lead, address: str) -> int:
    lead.first_name = lead.last_name = lead.title = lead.seniority = ""
    lead.linkedin_url = lead.phone = lead.source_ref = ""
    lead.email = None
    lead.research = {}
    lead.score_reasons = []
    lead.save(
        update_fields=[
            "first_name", "last_name", "title", "seniority", "linkedin_url", "phone", "source_ref",
            "email", "research", "score_reasons",
        ]
    )  # fmt: skip
    ResearchReport.objects.filter(lead=lead).update(summary=ERASED, findings={}, sources=[], subject=ERASED)
    Conversation.objects.filter(lead=lead).update(insights={})
    thread: QuerySet[Message] = Message.objects.filter(conversation__lead=lead)
    count = thread.update(subject=ERASED, body=ERASED, headers={})
    thread.filter(to_email=address).update(to_email="")
    thread.filter(from_email=address).update(from_email="")
    return count
