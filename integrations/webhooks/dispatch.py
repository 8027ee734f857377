"""How a webhook handler starts an agent: one run per event (or per item), keyed by the event.

The idempotency key is derived from the provider and the event (or a caller's narrower key,
such as a document and its new state), so a replayed or duplicated event finds the run it
already started instead of starting a second one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from integrations.webhooks.inputs import EventInput, WebhookRef

if TYPE_CHECKING:
    from agents.models import AgentRun
    from integrations.models import WebhookEvent

_MAX_KEY = 200  # AgentRun.idempotency_key max_length


class UndeclaredAgent(RuntimeError):
    """A handler starts an agent its provider does not declare (a wiring bug, caught in tests)."""


def event_idempotency_key(*, provider: str, key: str) -> str:
    candidate = f"webhook:{provider}:{key}"
    if len(candidate) <= _MAX_KEY:
        return candidate
    return f"webhook:{provider}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def start_event_run(*, event: WebhookEvent, agent_name: str, input: EventInput, key: str | None = None) -> AgentRun:
    """Create the agent run for ``event`` in the current transaction (published on commit)."""
    # Imported here: the runtime imports the integrations app, not the other way round.
    from agents.models import AgentRun
    from agents.services.runs import start_run
    from integrations.webhooks.providers import get_provider

    provider = get_provider(event.provider)
    if provider is not None and agent_name not in provider.starts:
        raise UndeclaredAgent(
            f"{event.provider} webhooks start {agent_name!r}, which the provider does not declare: "
            f"add it to its `starts`"
        )

    ref = WebhookRef(event=event.pk, provider=event.provider, type=event.event_type, id=event.event_id)
    return start_run(
        agent_name=agent_name,
        input=input.model_copy(update={"webhook": ref}).model_dump(mode="json"),
        trigger=AgentRun.Trigger.EVENT,
        idempotency_key=event_idempotency_key(provider=event.provider, key=key or event.event_id),
    )
