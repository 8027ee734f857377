"""System agents of the integrations app: webhook_replay."""

from __future__ import annotations

from pydantic import BaseModel

from agents.base import Agent, Empty
from agents.context import RunContext
from agents.registry import register
from integrations.webhooks.services import replay_unprocessed


class ReplayOutput(BaseModel):
    replayed: int


@register
class WebhookReplay(Agent[Empty, ReplayOutput]):
    """Re-dispatches stored webhook events that failed or were never processed."""

    name = "webhook_replay"
    category = "system"
    trigger = "schedule"
    # Every minute: a lost opt-out event is due for replay a minute after arrival (URGENT_REPLAY_AFTER).
    # The sweep is two indexed queries when nothing is stuck.
    schedule = 60
    schedule_clock = "wall"  # upkeep of the machinery: a lost event waits a wall minute at any demo speed
    Output = ReplayOutput

    def act(self, ctx: RunContext, data: Empty) -> ReplayOutput:
        return ReplayOutput(replayed=replay_unprocessed())
