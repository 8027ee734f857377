"""The buyer of a proposal, over time: reads it or not, signs, declines or goes quiet, hears our
follow-ups, and lets it expire. Reported as PandaDoc ``document_state_changed`` events.

At the send, the buyer's situation is stored with the document: their company's hidden fit, their
hidden budget, and the price the document states (the ``Proposal.Total`` token, with its currency;
documents without one are judged on fit alone), and the validity date (``Proposal.ValidUntil``).
What they do is ``behaviour.document_fate`` of those and of the follow-ups they received while
undecided, and it is planned again on every follow-up: events not yet happened are cancelled and
planned anew (a decision moves earlier, never later), what has happened stays. A document still
undecided at the end of its validity day expires (PandaDoc voids it), and nothing after that counts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.models import SandboxEvent, SandboxRecord
from integrations.sandbox import payloads
from integrations.sandbox.behaviour import Nudges, document_fate, nudge_kind
from integrations.sandbox.rng import rng_for
from integrations.sandbox.store import cancel_pending, latest_happened, remember, schedule, update_record
from integrations.sandbox.world import Person

# The tokens the agency puts in its documents (sales/agents/proposal/_common.py writes the same).
TOTAL_FIELD, CURRENCY_FIELD, VALID_UNTIL_FIELD = "Proposal.Total", "Proposal.Currency", "Proposal.ValidUntil"
# Budgets are in USD; a price in another currency is converted at about the 2024-25 average rates
# (judgement: close enough for a buyer's sense of "too expensive"). Unknown currencies count as USD.
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "CHF": 1.13}
PLANNED = ("doc_viewed", "doc_completed", "doc_declined", "doc_voided")
DECIDED = ("doc_completed", "doc_declined", "doc_voided")
# How soon a follow-up that tips the buyer is acted on: within the next working day or so.
REACTION_HOURS = (1.0, 30.0)


def report(document: dict[str, Any], state: str, at: dt.datetime, *, reason: str = "", plan: int = 0) -> None:
    """Schedule one state change of the document as PandaDoc would report it. ``plan`` numbers the
    buyer's re-plans, so an event cancelled by a follow-up can be planned again at another time."""
    suffix = f":{plan}" if plan else ""
    schedule(
        key=f"pandadoc:{document['document_id']}:{state}{suffix}",
        provider="pandadoc",
        kind=f"doc_{state}",
        subject=document["document_id"],
        payload=payloads.pandadoc_state(document=document, state=state, at=at, reason=reason),
        due_at=at,
    )


def price_ratio(fields: dict[str, Any], budget: int) -> float | None:
    """The price the document states over the buyer's budget; None when it states none."""
    try:
        price = Decimal(str(fields.get(TOTAL_FIELD, "")).replace(",", "").strip())
    except InvalidOperation:
        return None
    if not price.is_finite() or price <= 0 or budget <= 0:
        return None
    rate = USD_PER_UNIT.get(str(fields.get(CURRENCY_FIELD, "USD")).upper(), 1.0)
    return float(price) * rate / budget


def expiry(fields: dict[str, Any]) -> dt.datetime | None:
    """The end of the validity day (UTC); None when the document states no validity."""
    try:
        day = dt.date.fromisoformat(str(fields.get(VALID_UNTIL_FIELD, "")).strip())
    except ValueError:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) - dt.timedelta(seconds=1)


def on_sent(document: dict[str, Any], *, buyer: Person | None, now: dt.datetime) -> dict[str, Any]:
    """The document reached the buyer: remember their situation, report the send, plan what follows."""
    fit = buyer.company.fit if buyer is not None else 0.5
    budget = buyer.company.budget if buyer is not None else 0
    fields = dict(document.get("fields") or {})
    ends = expiry(fields)
    document = update_record(
        kind="document",
        ref=document["document_id"],
        sent_at=now.isoformat(),
        fit=fit,
        budget=budget,
        price_ratio=price_ratio(fields, budget),
        expires_at=ends.isoformat() if ends else None,
        nudges=[],
    )
    report(document, "sent", now)
    plan(document, now=now)
    return document


def _nudges(document: dict[str, Any]) -> Nudges:
    kinds = [n["kind"] for n in document.get("nudges", [])]
    return Nudges(welcome=kinds.count("welcome"), annoying=kinds.count("annoying"))


def plan(document: dict[str, Any], *, now: dt.datetime) -> None:
    """(Re)plan the buyer's next steps from now: view, decision, or expiry."""
    document_id = document["document_id"]
    rounds = len(document.get("nudges", []))
    fate = document_fate(
        document_id=document_id,
        fit=float(document["fit"]),
        price_ratio=document.get("price_ratio"),
        nudges=_nudges(document),
    )
    sent_at = dt.datetime.fromisoformat(document["sent_at"])
    ends = dt.datetime.fromisoformat(document["expires_at"]) if document.get("expires_at") else None
    react = rng_for("document-reaction", document_id, rounds)
    cancel_pending(subject=document_id, kinds=[k for k in PLANNED if k != "doc_viewed"])
    seen = latest_happened(subject=document_id, kinds=("doc_viewed",))
    viewed_at: dt.datetime | None = seen.due_at if seen is not None else None
    if viewed_at is None and fate.viewed:
        planned = _pending_view(document_id) or sent_at + fate.viewed_after
        # Tipped by a follow-up: they open it now, not at a time that has already passed.
        viewed_at = planned if planned > now else now + dt.timedelta(hours=react.uniform(*REACTION_HOURS))
        if ends is None or viewed_at < ends:
            cancel_pending(subject=document_id, kinds=["doc_viewed"])
            report(document, "viewed", viewed_at, plan=rounds)
    decided_at = None
    if viewed_at is not None and fate.outcome != "silent":
        decided_at = viewed_at + fate.decided_after
        if decided_at <= now:  # a quiet buyer tipped by this follow-up
            decided_at = now + dt.timedelta(hours=react.uniform(*REACTION_HOURS))
    if decided_at is not None and (ends is None or decided_at < ends):
        report(document, fate.outcome, decided_at, reason=fate.decline_reason, plan=rounds)
    elif ends is not None:
        report(document, "voided", ends, reason="expired", plan=rounds)


def _pending_view(document_id: str) -> dt.datetime | None:
    pending = SandboxEvent.objects.filter(
        subject=document_id, kind="doc_viewed", status=SandboxEvent.Status.PENDING
    ).first()
    return pending.due_at if pending is not None else None


def names_offer(document: dict[str, Any], *, subject: str, body: str) -> bool:
    """Whether an email is about this document, as its reader sees it: it names it (our follow-ups
    say "Re: <the proposal's title>: any questions?", "Did the proposal reach you? <title>")."""
    name = str(document.get("name", "")).strip().lower()
    return bool(name) and name in f"{subject}\n{body}".lower()


def follow_up_received(*, to: str, now: dt.datetime, subject: str = "", body: str = "") -> bool:
    """An email from us reached ``to``. About a proposal of theirs still open, it is read as a
    follow-up (and their plans redrawn); about one that expired, as the closing note. Either way it
    is not a cold email: True. False when they have no such document.

    A client's renewal or upsell (``client_offer``) is different: the client decides it by how they
    feel (retention.py), so no email redraws it, and only an email that names the offer is its
    follow-up. Any other mail to them (a weekly report, a delivery, an answer, a survey) is a
    client's mail, read as such (integrations/sandbox/projects.py, retention.py): claimed here, it
    went unread for as long as an offer was out (its record stays "sent"), while silence and
    overdue milestones still counted, and contented clients sank to mood 0 (issue #18). Once the
    client has signed or declined the offer, nothing is its follow-up any more: the work a renewal
    buys is planned under the offer's name ("Acme: Renewal of Acme: 12 months from ..."), so every
    report and delivery of the renewed term named it, was claimed here and went unread, and each
    renewed client sank to mood 0 by the year's end under "no report" and "not delivered"."""
    address = to.strip().lower()
    found = False
    for record in SandboxRecord.objects.filter(kind="document", party=address, data__status="sent"):
        document = dict(record.data)
        if document.get("client_offer"):
            found = found or (
                names_offer(document, subject=subject, body=body)
                and latest_happened(subject=document["document_id"], kinds=DECIDED) is None
            )
            continue
        decided = latest_happened(subject=document["document_id"], kinds=DECIDED)
        if decided is not None:
            found = found or decided.kind == "doc_voided"
            continue
        found = True
        nudges = list(document.get("nudges", []))
        last = max(
            [dt.datetime.fromisoformat(document["sent_at"])] + [dt.datetime.fromisoformat(n["at"]) for n in nudges]
        )
        kind = nudge_kind(gap=now - last, number=len(nudges) + 1)
        document = update_record(
            kind="document", ref=document["document_id"], nudges=[*nudges, {"at": now.isoformat(), "kind": kind}]
        )
        plan(document, now=now)
    return found


def remember_signed(*, document_id: str, name: str, buyer: str, signed_at: dt.datetime) -> None:
    """What PandaDoc holds once a buyer signed: for a world that starts from a signed deal (the client
    lifecycle test, bench/clients), so the buyer is a client to the world from their first day
    (``has_signed``), as after a sale through the sandbox's documents. Without it their welcome,
    sent before their project reached the board or their invoice Stripe, was read as a cold email
    and could bounce: one contented client of the lifecycle test was never written to again, its
    renewal stayed a draft ("its buyer may not be contacted") and it left at health 76. The
    signature was reported already: nothing is due to post."""
    address = buyer.strip().lower()
    remember(
        kind="document",
        ref=document_id,
        data={
            "document_id": document_id,
            "name": name,
            "recipients": [{"email": address, "name": ""}],
            "buyer": address,
            "fields": {},
            "status": "sent",
            "sent_at": signed_at.isoformat(),
        },
    )
    SandboxEvent.objects.get_or_create(
        key=f"pandadoc:{document_id}:completed",
        defaults={
            "provider": "pandadoc",
            "kind": "doc_completed",
            "subject": document_id,
            "payload": {},
            "due_at": signed_at,
            "status": SandboxEvent.Status.DELIVERED,
            "delivered_at": signed_at,
        },
    )


def has_signed(address: str) -> bool:
    """Whether this person signed one of our proposals by now: from then on they are a client, and our
    mail to them (the welcome, the first invoice) is read as a client's, never drawn as a cold email's."""
    sent = SandboxRecord.objects.filter(kind="document", party=address.strip().lower())
    return any(
        latest_happened(subject=str(d["document_id"]), kinds=("doc_completed",)) is not None
        for d in sent.values_list("data", flat=True)
    )
