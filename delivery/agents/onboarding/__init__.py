"""The onboarding agents (AGENTS.md, Onboarding): from a signature to a client ready to deliver to."""

from delivery.agents.onboarding import client_setup, orchestrator, stuck_detector

__all__ = ["client_setup", "orchestrator", "stuck_detector"]
