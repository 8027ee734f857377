"""Cal.com: bookings created, rescheduled, cancelled, no-shows -> meeting_lifecycle_orchestrator.

Verification: ``X-Cal-Signature-256`` is the hex HMAC-SHA256 of the raw body keyed with the
webhook's secret (https://cal.com/docs/developing/guides/automation/webhooks). Cal.com sends no
event id: the composite key is trigger + booking uid + the event's ``createdAt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    WebhookProvider,
    body_digest,
    composite_id,
    require_object,
    require_str,
    sub_object,
    sub_objects,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import BookingEvent, parse_when
from integrations.webhooks.signatures import verify_hmac_hex

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

AGENT = "meeting_lifecycle_orchestrator"


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_hmac_hex(
        body=request.body,
        signature=request.header("X-Cal-Signature-256"),
        secrets=secrets,
        where="X-Cal-Signature-256 header",
    )


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    body = require_object(payload, "a Cal.com event")
    trigger = require_str(body, "triggerEvent", "a Cal.com event")
    booking = sub_object(body, "payload")
    uid = booking.get("uid") or booking.get("bookingUid") or booking.get("bookingId")
    # Without a booking to name (a PING), the body itself is the identity.
    key = composite_id(trigger, uid, body.get("createdAt")) if uid else body_digest(request.body, 40)
    return EventIdentity(event_id=f"{trigger}:{key}", event_type=trigger)


def _booking_input(payload: dict[str, Any], kind: str) -> BookingEvent:
    booking = sub_object(payload, "payload")
    attendees = sub_objects(booking, "attendees")
    first = attendees[0] if attendees else {}
    metadata = sub_object(booking, "metadata")
    no_shows = [str(a.get("email", "")).strip().lower() for a in attendees if a.get("noShow")]
    booking_id = booking.get("bookingId")
    return BookingEvent(
        kind=kind,
        booking_uid=str(booking.get("uid") or booking.get("bookingUid") or ""),
        booking_id=booking_id if isinstance(booking_id, int) and not isinstance(booking_id, bool) else None,
        previous_booking_uid=str(booking.get("rescheduleUid") or booking.get("fromReschedule") or ""),
        title=str(booking.get("title") or ""),
        start=parse_when(booking.get("startTime")),
        end=parse_when(booking.get("endTime")),
        attendee_email=str(first.get("email", "")).strip().lower(),
        attendee_name=str(first.get("name", "")),
        attendee_timezone=str(first.get("timeZone", "")),
        no_show_emails=no_shows,
        meeting_url=str(metadata.get("videoCallUrl") or booking.get("location") or ""),
        reason=str(booking.get("cancellationReason") or booking.get("rescheduleReason") or ""),
        metadata=metadata,
        occurred_at=parse_when(payload.get("createdAt")),
    )


def _handler(kind: str) -> Any:
    def handle(event: WebhookEvent, payload: Any) -> bool:
        start_event_run(event=event, agent_name=AGENT, input=_booking_input(payload, kind))
        return True

    handle.__name__ = f"handle_{kind}"
    return handle


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=(AGENT,),
    name="calcom",
    key_name="CALCOM_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={
        "BOOKING_CREATED": _handler("created"),
        "BOOKING_RESCHEDULED": _handler("rescheduled"),
        "BOOKING_CANCELLED": _handler("cancelled"),
        "BOOKING_NO_SHOW_UPDATED": _handler("no_show"),
        "MEETING_ENDED": _handler("ended"),
    },
    secret_headers=("x-cal-signature-256",),
    scheme="X-Cal-Signature-256 (hex HMAC-SHA256 of the body)",
)
