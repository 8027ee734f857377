"""Apify: an actor run (a lead search) finished -> lead_list_builder imports its dataset.

Apify signs nothing; the webhook's ``headersTemplate`` sends our shared secret in
``X-Webhook-Secret`` (https://docs.apify.com/platform/integrations/webhooks). The composite
key is the event type and the actor run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from integrations.webhooks.base import (
    EventIdentity,
    IncomingRequest,
    WebhookProvider,
    require_object,
    require_str,
    sub_object,
)
from integrations.webhooks.dispatch import start_event_run
from integrations.webhooks.inputs import LeadSearchEvent, parse_when
from integrations.webhooks.signatures import verify_shared_secret

if TYPE_CHECKING:
    from integrations.models import WebhookEvent

AUTH_HEADER = "X-Webhook-Secret"


def verify(request: IncomingRequest, secrets: Sequence[str]) -> None:
    verify_shared_secret(presented=request.header(AUTH_HEADER), secrets=secrets, header=AUTH_HEADER)


def identify(request: IncomingRequest, payload: Any) -> EventIdentity:
    body = require_object(payload, "an Apify event")
    event_type = require_str(body, "eventType", "an Apify event")
    data = sub_object(body, "eventData")
    run_id = require_str(data, "actorRunId", "an Apify event's eventData")
    return EventIdentity(event_id=f"{event_type}:{run_id}", event_type=event_type)


def _handler(status: str) -> Any:
    def handle(event: WebhookEvent, payload: Any) -> bool:
        data = sub_object(payload, "eventData")
        resource = sub_object(payload, "resource")
        start_event_run(
            event=event,
            agent_name="lead_list_builder",
            input=LeadSearchEvent(
                search_id=str(data.get("actorRunId", "")),
                status=status,
                actor_id=str(data.get("actorId") or ""),
                dataset_id=str(resource.get("defaultDatasetId") or ""),
                occurred_at=parse_when(payload.get("createdAt")),
            ),
        )
        return True

    handle.__name__ = f"handle_run_{status}"
    return handle


PROVIDER = WebhookProvider(
    # The agents its events start: `manage.py check` fails on an unregistered one.
    starts=("lead_list_builder",),
    name="apify",
    key_name="APIFY_WEBHOOK_SECRET",
    verify=verify,
    identify=identify,
    handlers={
        "ACTOR.RUN.SUCCEEDED": _handler("succeeded"),
        "ACTOR.RUN.FAILED": _handler("failed"),
        "ACTOR.RUN.TIMED_OUT": _handler("failed"),
        "ACTOR.RUN.ABORTED": _handler("aborted"),
    },
    secret_headers=(AUTH_HEADER.lower(),),
    scheme=f"{AUTH_HEADER} (shared secret)",
)
