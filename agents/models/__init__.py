"""The runtime's tables, split by concern; import them from here."""

from .batches import (
    CodeSchedule,
    LLMBatch,
    LLMBatchItem,
    LLMBatchItemStatus,
    LLMBatchStatus,
)
from .oversight import (
    AuditLog,
    AuditLogActorType,
    Budget,
    BudgetOnExceed,
    BudgetPeriod,
    BudgetScope,
    Escalation,
    EscalationKind,
    EscalationStatus,
    HealthCheck,
    HealthCheckStatus,
    Report,
    ReportKind,
    StaffGroup,
)
from .runs import (
    Action,
    ActionStatus,
    AgentRun,
    AgentRunStatus,
    AgentRunTrigger,
)

__all__ = [
    "Action",
    "ActionStatus",
    "AgentRun",
    "AgentRunStatus",
    "AgentRunTrigger",
    "AuditLog",
    "AuditLogActorType",
    "Budget",
    "BudgetOnExceed",
    "BudgetPeriod",
    "BudgetScope",
    "CodeSchedule",
    "Escalation",
    "EscalationKind",
    "EscalationStatus",
    "HealthCheck",
    "HealthCheckStatus",
    "LLMBatch",
    "LLMBatchItem",
    "LLMBatchItemStatus",
    "LLMBatchStatus",
    "Report",
    "ReportKind",
    "StaffGroup",
]
