"""The crm app's agents, registered on import (the runtime autodiscovers ``crm.agents``)."""

from crm.agents import (
    ab_testing,
    campaign,
    campaign_analytics,
    campaign_optimizer,
    compliance_audit,
    data_validation,
    deduplication,
    deliverability_monitor,
    email_finder,
    email_verification,
    lead_enrichment,
    lead_list_builder,
    lead_scoring,
    research,
    response,
)

__all__ = [
    "ab_testing",
    "campaign",
    "campaign_analytics",
    "campaign_optimizer",
    "compliance_audit",
    "data_validation",
    "deduplication",
    "deliverability_monitor",
    "email_finder",
    "email_verification",
    "lead_enrichment",
    "lead_list_builder",
    "lead_scoring",
    "research",
    "response",
]
