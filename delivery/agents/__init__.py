"""The delivery app's agents (onboarding, delivery, retention, offboarding), registered on import."""

from delivery.agents import retention  # noqa: F401
