"""The offboarding agents (AGENTS.md, Offboarding): a client leaves well, and may come back."""

from delivery.agents.offboarding import access_revocation, exit_survey, knowledge_transfer, orchestrator, reactivation

__all__ = ["access_revocation", "exit_survey", "knowledge_transfer", "orchestrator", "reactivation"]
