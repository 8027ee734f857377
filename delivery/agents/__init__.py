"""The delivery app's agents (onboarding, delivery, retention, offboarding), registered on import."""

from delivery.agents import offboarding as offboarding
from delivery.agents import onboarding as onboarding
