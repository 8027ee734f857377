"""The delivery app's agents (onboarding, delivery, retention, offboarding), registered on import."""
