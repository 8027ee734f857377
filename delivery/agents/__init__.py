"""The delivery app's agents (onboarding, delivery, retention, offboarding), registered on import."""

import delivery.agents.onboarding  # noqa: F401
