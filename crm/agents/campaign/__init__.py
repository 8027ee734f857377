"""The campaign agents (AGENTS.md, Campaign): from a campaign's copy to the emails that go out."""

from crm.agents.campaign import (
    campaign_manager,
    copywriting,
    inbox_rotation,
    personalization,
    send_time,
    sequence_scheduler,
    spam_check,
)

__all__ = [
    "campaign_manager",
    "copywriting",
    "inbox_rotation",
    "personalization",
    "send_time",
    "sequence_scheduler",
    "spam_check",
]
