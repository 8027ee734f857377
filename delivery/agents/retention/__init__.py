"""The retention agents (AGENTS.md "Retention"): health, churn risk, upsells, surveys and renewals."""

from delivery.agents.retention import churn_risk, client_health, renewal_manager, satisfaction_survey, upsell_detection

__all__ = ["churn_risk", "client_health", "renewal_manager", "satisfaction_survey", "upsell_detection"]
