"""PandaDoc: documents viewed, signed (completed) or declined -> contract_signature.

Verification: the ``signature`` query parameter is the hex HMAC-SHA256 of the raw body keyed
with the webhook's shared key (https://developers.pandadoc.com/docs/webhooks). The body is a
JSON list of events without ids: the composite key is every item's event, document id, status
and modification date. Each document state starts at most one run, whatever the delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    MalformedEvent,
    WebhookProvider,
    composite_id,
    require_str,
    sub_object,
    sub_objects,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import DocumentEvent, parse_when
from integrations.webhooks.signatures import verify_hmac_hex

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

AGENT = "contract_signature"
STATE_CHANGED = "document_state_changed"
# A body mixing several event types is dispatched item by item.
MIXED = "mixed"
# The states the proposal follows; drafts, uploads and the like are ignored.
ACTED_STATES = {"sent", "viewed", "completed", "declined", "voided", "expired"}


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_hmac_hex(
        body=request.body, signature=request.query.get("signature"), secrets=secrets, where="signature parameter"
    )


def _items(payload: Any) -> list[dict[str, Any]]:
    items = payload if isinstance(payload, list) else [payload]
    if not items or not all(isinstance(i, dict) for i in items):
        raise MalformedEvent("a PandaDoc body must be a non-empty list of event objects")
    return items


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    items = _items(payload)
    parts: list[str] = []
    for item in items:
        data = sub_object(item, "data")
        event = require_str(item, "event", "a PandaDoc event")
        parts += [
            event,
            require_str(data, "id", "a PandaDoc event's data"),
            str(data.get("status")),
            str(data.get("date_modified")),
        ]
    types = {str(i["event"]) for i in items}
    event_type = types.pop() if len(types) == 1 else MIXED
    return EventIdentity(event_id=f"{event_type}:{composite_id(*parts)}", event_type=event_type)


def _state_changed(event: WebhookEvent, item: dict[str, Any]) -> bool:
    data = sub_object(item, "data")
    state = str(data.get("status", "")).removeprefix("document.")
    if state not in ACTED_STATES:
        return False
    recipients = sub_objects(data, "recipients")
    start_event_run(
        event=event,
        agent_name=AGENT,
        key=f"document:{data.get('id')}:{state}",
        input=DocumentEvent(
            document_id=str(data.get("id")),
            state=state,
            name=str(data.get("name") or ""),
            recipient_emails=[str(r.get("email", "")).lower() for r in recipients],
            decline_reason=str(data.get("decline_reason") or data.get("reason") or ""),
            metadata=sub_object(data, "metadata"),
            occurred_at=parse_when(data.get("date_modified")),
        ),
    )
    return True


ITEM_HANDLERS = {STATE_CHANGED: _state_changed}


def handle_items(event: WebhookEvent, payload: Any) -> bool:
    acted = False
    for item in _items(payload):
        handler = ITEM_HANDLERS.get(str(item.get("event")))
        if handler is not None:
            acted = handler(event, item) or acted
    return acted


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=(AGENT,),
    name="pandadoc",
    key_name="PANDADOC_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={STATE_CHANGED: handle_items, MIXED: handle_items},
    secret_query=("signature",),
    scheme="?signature= (hex HMAC-SHA256 of the body)",
)
