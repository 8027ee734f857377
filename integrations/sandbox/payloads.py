"""Vendor-shaped webhook bodies: what Stripe, Cal.com, Fathom, PandaDoc, Instantly and Apify send.

Only the fields our webhook providers read, plus enough of the envelope to look like the real
thing. Ids are derived from the seed; times are the moment the event happens in the world.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.sandbox.rng import sandbox_id


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def minor_units(amount: Decimal | str) -> int:
    return int((Decimal(amount) * 100).quantize(Decimal("1")))


# --- Stripe (https://docs.stripe.com/api/events/object) ---------------------------------------
def stripe_event(*, key: str, event_type: str, obj: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    return {
        "id": sandbox_id("evt", key, length=24).replace("sbx_evt_", "evt_sbx"),
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(at.timestamp()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": dict(obj)},
    }


def stripe_invoice(*, invoice: Mapping[str, Any], status: str, paid: bool, attempt_count: int = 1) -> dict[str, Any]:
    total = minor_units(invoice["amount_due"])
    return {
        "id": invoice["invoice_id"],
        "object": "invoice",
        "customer": invoice["customer_id"],
        "currency": str(invoice["currency"]).lower(),
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "attempt_count": attempt_count,
        "status": status,
        "number": invoice.get("number", ""),
        "metadata": dict(invoice.get("metadata") or {}),
    }


def stripe_invoice_payment(*, invoice: Mapping[str, Any], payment_intent: str, paid_at: dt.datetime) -> dict[str, Any]:
    """An InvoicePayment (https://docs.stripe.com/api/invoice-payment/object): one payment of an invoice."""
    total = minor_units(invoice["amount_due"])
    return {
        "id": sandbox_id("inpay", payment_intent).replace("sbx_inpay_", "inpay_sbx"),
        "object": "invoice_payment",
        "invoice": invoice["invoice_id"],
        "status": "paid",
        "amount_paid": total,
        "amount_requested": total,
        "currency": str(invoice["currency"]).lower(),
        "is_default": True,
        "livemode": False,
        "created": int(paid_at.timestamp()),
        "payment": {"type": "payment_intent", "payment_intent": payment_intent},
        "status_transitions": {"canceled_at": None, "paid_at": int(paid_at.timestamp())},
    }


def stripe_refunded_charge(*, invoice: Mapping[str, Any], payment_intent: str, refunded: Decimal) -> dict[str, Any]:
    """A Charge after a refund: ``amount_refunded`` is all its refunds so far; since API
    2025-03-31.basil it names its PaymentIntent, not the invoice."""
    total = minor_units(invoice["amount_due"])
    return {
        "id": sandbox_id("ch", payment_intent).replace("sbx_ch_", "ch_sbx"),
        "object": "charge",
        "customer": invoice["customer_id"],
        "payment_intent": payment_intent,
        "currency": str(invoice["currency"]).lower(),
        "amount": total,
        "amount_captured": total,
        "amount_refunded": minor_units(refunded),
        "refunded": minor_units(refunded) >= total,
        "paid": True,
        "status": "succeeded",
        "metadata": {},
    }


# --- Cal.com (https://cal.com/docs/developing/guides/automation/webhooks) ---------------------
def calcom_booking(*, trigger: str, booking: Mapping[str, Any], at: dt.datetime, **extra: Any) -> dict[str, Any]:
    attendee = {"email": booking["attendee_email"], "name": booking["attendee_name"], "timeZone": booking["timezone"]}
    if extra.pop("no_show", False):
        attendee["noShow"] = True
    return {
        "triggerEvent": trigger,
        "createdAt": iso(at),
        "payload": {
            "uid": booking["booking_id"],
            "bookingId": booking["number"],
            "title": booking["title"],
            "startTime": booking["start"],
            "endTime": booking["end"],
            "organizer": {"name": "Smarter Team", "email": "meetings@sandbox.invalid", "timeZone": "UTC"},
            "attendees": [attendee],
            "metadata": {"videoCallUrl": booking["meeting_url"], **dict(booking.get("metadata") or {})},
            **extra,
        },
    }


# --- Fathom (https://developers.fathom.ai/webhooks) -------------------------------------------
def fathom_meeting(
    *,
    recording_id: str,
    booking: Mapping[str, Any],
    lines: Sequence[Mapping[str, str]],
    summary: str,
    started: dt.datetime,
    ended: dt.datetime,
) -> dict[str, Any]:
    return {
        "recording_id": recording_id,
        "title": booking["title"],
        "meeting_title": booking["title"],
        "url": f"https://fathom.video/calls/{recording_id}",
        "share_url": f"https://fathom.video/share/{recording_id}",
        "recording_start_time": iso(started),
        "recording_end_time": iso(ended),
        "calendar_invitees": [
            {"name": booking["attendee_name"], "email": booking["attendee_email"], "is_external": True}
        ],
        "default_summary": {"markdown_formatted": summary},
        "action_items": [{"description": "Send a proposal with scope and pricing", "assignee": "host"}],
        "transcript": [
            {
                "speaker": {"display_name": line["speaker"], "matched_calendar_invitee_email": line["email"] or None},
                "text": line["text"],
                "timestamp": line["timestamp"],
            }
            for line in lines
        ],
    }


# --- PandaDoc (https://developers.pandadoc.com/docs/webhooks) ---------------------------------
def pandadoc_state(
    *, document: Mapping[str, Any], state: str, at: dt.datetime, reason: str = ""
) -> list[dict[str, Any]]:
    return [
        {
            "event": "document_state_changed",
            "data": {
                "id": document["document_id"],
                "name": document["name"],
                "status": f"document.{state}",
                "date_modified": iso(at),
                "recipients": [
                    {"email": r["email"], "first_name": r.get("first_name", "")} for r in document["recipients"]
                ],
                "metadata": dict(document.get("metadata") or {}),
                **({"decline_reason": reason} if reason else {}),
            },
        }
    ]


# --- Instantly (https://developer.instantly.ai/webhook-events) --------------------------------
def instantly_event(*, event_type: str, email: Mapping[str, Any], at: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": iso(at),
        "event_type": event_type,
        "workspace": "sandbox",
        "campaign_id": email.get("campaign_id", ""),
        "lead_email": email["to"],
        "email_account": email["from_mailbox"],
        "email_id": email["message_id"],
        "thread_id": email["thread_id"],
        **extra,
    }


# --- Apify (https://docs.apify.com/platform/integrations/webhooks) ----------------------------
def apify_run(*, event_type: str, search: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    return {
        "userId": "sandbox",
        "createdAt": iso(at),
        "eventType": event_type,
        "eventData": {"actorId": search["actor_id"], "actorRunId": search["search_id"]},
        "resource": {
            "id": search["search_id"],
            "actId": search["actor_id"],
            "status": "SUCCEEDED",
            "defaultDatasetId": search["dataset_id"],
        },
    }
