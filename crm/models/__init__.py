"""Who we sell to and what we said: research, leads, campaigns, conversations, suppression.

One module per area; every model and choice class is importable from ``crm.models``.
"""

from crm.models.agency import AgencyProfile, AutopilotPolicy, RateCard, RateCardItem
from crm.models.conversations import (
    Conversation,
    ConversationChannel,
    ConversationStatus,
    Message,
    MessageDirection,
    MessageStatus,
    SuppressionEntry,
    SuppressionEntryKind,
    SuppressionEntryReason,
)
from crm.models.leads import (
    Company,
    Lead,
    LeadEmailStatus,
    LeadStatus,
)
from crm.models.outreach import (
    Campaign,
    CampaignStats,
    CampaignStatus,
    CampaignStep,
    CampaignTimezonePolicy,
    Enrollment,
    EnrollmentStatus,
    Mailbox,
    MailboxDay,
    Variant,
)
from crm.models.research import (
    IdealCustomerProfile,
    Niche,
    NicheStatus,
    Persona,
    ResearchReport,
    ResearchReportKind,
)

__all__ = [
    "AgencyProfile",
    "AutopilotPolicy",
    "Campaign",
    "CampaignStats",
    "CampaignStatus",
    "CampaignStep",
    "CampaignTimezonePolicy",
    "Company",
    "Conversation",
    "ConversationChannel",
    "ConversationStatus",
    "Enrollment",
    "EnrollmentStatus",
    "IdealCustomerProfile",
    "Lead",
    "LeadEmailStatus",
    "LeadStatus",
    "Mailbox",
    "MailboxDay",
    "Message",
    "MessageDirection",
    "MessageStatus",
    "Niche",
    "NicheStatus",
    "Persona",
    "RateCard",
    "RateCardItem",
    "ResearchReport",
    "ResearchReportKind",
    "SuppressionEntry",
    "SuppressionEntryKind",
    "SuppressionEntryReason",
    "Variant",
]
