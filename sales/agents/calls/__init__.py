"""The call agents (AGENTS.md "Meeting" and "Proposal"): from a meeting's briefing to the recorded
call, its notes, measures and recap, and the requirements a proposal is drafted from."""

from sales.agents.calls import (
    call_performance,
    fathom_integration,
    meeting_follow_up,
    meeting_notes,
    meeting_prep,
    transcript_processing,
)

__all__ = [
    "call_performance",
    "fathom_integration",
    "meeting_follow_up",
    "meeting_notes",
    "meeting_prep",
    "transcript_processing",
]
