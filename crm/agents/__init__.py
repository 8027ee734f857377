"""The crm app's agents, registered on import (the runtime autodiscovers ``crm.agents``)."""

from crm.agents import (
    campaign,
    data_validation,
    deduplication,
    email_finder,
    email_verification,
    lead_enrichment,
    lead_list_builder,
    lead_scoring,
    research,
)

__all__ = [
    "campaign",
    "data_validation",
    "deduplication",
    "email_finder",
    "email_verification",
    "lead_enrichment",
    "lead_list_builder",
    "lead_scoring",
    "research",
]
