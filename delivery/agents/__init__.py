"""The delivery app's agents (onboarding, delivery, retention, offboarding), registered on import."""

from delivery.agents import offboarding, onboarding, projects, retention  # noqa: F401
