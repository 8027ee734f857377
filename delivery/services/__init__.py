"""Write paths of the delivery app: onboarding, projects, retention and offboarding."""
