"""The runtime's tables: runs, the outbox, escalations, budgets, audit, health, reports."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from smarter_team import clock
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check, currency_field


class AgentRunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ESCALATED = "escalated"
    CANCELED = "canceled"
    SKIPPED = "skipped"


class AgentRunTrigger(models.TextChoices):
    SCHEDULE = "schedule"
    EVENT = "event"
    HANDOFF = "handoff"
    ADMIN = "admin"
    MANUAL = "manual"


class AgentRun(StatefulModel):
    Status = AgentRunStatus

    Trigger = AgentRunTrigger

    STATUS_MACHINE = StatusMachine(
        {
            # running -> queued is a retry after a transient failure or a lost lease.
            Status.QUEUED: {Status.RUNNING, Status.CANCELED, Status.SKIPPED},
            Status.RUNNING: {
                Status.SUCCEEDED,
                Status.FAILED,
                Status.ESCALATED,
                Status.QUEUED,
                Status.SKIPPED,
                Status.CANCELED,
            },
            Status.FAILED: {Status.QUEUED},  # an operator's retry
            Status.ESCALATED: {Status.QUEUED, Status.CANCELED, Status.FAILED, Status.SUCCEEDED},
        }
    )
    FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.SKIPPED})

    agent_name = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload_hash = models.CharField(max_length=64, blank=True, help_text="sha256 of the canonical input")
    queue = models.CharField(max_length=32, default="system")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    priority = models.SmallIntegerField(default=5)
    due_at = models.DateTimeField(default=clock.now, help_text="not started before this time")
    lease_expires_at = models.DateTimeField(null=True, blank=True, help_text="a running run past this is stuck")
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="last time agents.run was published for it; the dispatcher re-publishes lost ones",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    brain = models.CharField(max_length=32, blank=True)
    model_name = models.CharField(max_length=64, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    learnings_applied = models.JSONField(
        default=list, blank=True, help_text="[{rule, mode: applied|holdout, stage}] for every rule considered"
    )
    client_key = models.CharField(max_length=64, blank=True, help_text="client id for client budgets")
    campaign_key = models.CharField(max_length=64, blank=True, help_text="campaign id for campaign budgets")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="agentrun_status_due"),
            models.Index(fields=["agent_name", "status"], name="agentrun_agent_status"),
            models.Index(fields=["status", "lease_expires_at"], name="agentrun_status_lease"),
            models.Index(fields=["agent_name", "created_at"], name="agentrun_agent_created"),
        ]
        constraints = [
            choices_check("status", AgentRunStatus, "agentrun_status_valid"),
            choices_check("trigger", AgentRunTrigger, "agentrun_trigger_valid"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="agentrun_cost_nonnegative"),
            models.CheckConstraint(condition=Q(depth=0) | Q(parent__isnull=False), name="agentrun_depth_needs_parent"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=models.F("started_at")),
                name="agentrun_finished_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ActionStatus(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Action(StatefulModel):
    """The outbox: one row per external side effect, performed once per idempotency key."""

    Status = ActionStatus

    STATUS_MACHINE = StatusMachine({Status.PENDING: {Status.DONE, Status.FAILED}, Status.FAILED: {Status.PENDING}})

    kind = models.CharField(max_length=64, db_index=True, help_text="e.g. email.send, invoice.create")
    idempotency_key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "kind"], name="action_status_kind")]
        constraints = [
            choices_check("status", ActionStatus, "action_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False), name="action_done_has_done_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} [{self.idempotency_key}] ({self.status})"


class StaffGroup(models.TextChoices):
    OPERATOR = "operator"
    MANAGER = "manager"
    ADMIN = "admin"


class EscalationKind(models.TextChoices):
    APPROVAL = "approval"
    ERROR = "error"
    POLICY = "policy"
    BUDGET = "budget"
    LOOP = "loop"


class EscalationStatus(models.TextChoices):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESOLVED = "resolved"
    EXPIRED = "expired"


class Escalation(StatefulModel):
    Kind = EscalationKind

    Status = EscalationStatus

    STATUS_MACHINE = StatusMachine({Status.OPEN: {Status.APPROVED, Status.REJECTED, Status.RESOLVED, Status.EXPIRED}})

    run = models.ForeignKey(AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assigned_group = models.CharField(max_length=16, choices=StaffGroup.choices, default=StaffGroup.OPERATOR)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    subject_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="open escalations with the same key are not raised twice"
    )
    due_by = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "due_by"], name="escalation_status_due")]
        constraints = [
            choices_check("status", EscalationStatus, "escalation_status_valid"),
            choices_check("kind", EscalationKind, "escalation_kind_valid"),
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status="open") & ~Q(dedupe_key=""),
                name="escalation_one_open_per_key",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(decided_at__isnull=False), name="escalation_decided_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason[:60]}"


class BudgetScope(models.TextChoices):
    GLOBAL = "global"
    AGENT = "agent"
    CLIENT = "client"
    CAMPAIGN = "campaign"


class BudgetPeriod(models.TextChoices):
    DAY = "day"
    MONTH = "month"


class BudgetOnExceed(models.TextChoices):
    DEGRADE = "degrade", "degrade to heuristic"
    PAUSE = "pause"
    ESCALATE = "escalate"


class Budget(TimeStampedModel):
    Scope = BudgetScope

    Period = BudgetPeriod

    OnExceed = BudgetOnExceed

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(
        max_length=64, blank=True, help_text="agent name, client id or campaign id; blank for global"
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    limit = models.DecimalField(max_digits=12, decimal_places=2)
    currency = currency_field()
    on_exceed = models.CharField(max_length=16, choices=OnExceed.choices, default=OnExceed.DEGRADE)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scope", "key", "period"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "period"], name="budget_unique_scope_key_period"),
            models.CheckConstraint(condition=Q(limit__gte=0), name="budget_limit_nonnegative"),
            models.CheckConstraint(
                condition=(Q(scope="global") & Q(key="")) | (~Q(scope="global") & ~Q(key="")),
                name="budget_key_matches_scope",
            ),
            choices_check("scope", BudgetScope, "budget_scope_valid"),
            choices_check("period", BudgetPeriod, "budget_period_valid"),
            choices_check("on_exceed", BudgetOnExceed, "budget_on_exceed_valid"),
        ]

    def __str__(self) -> str:
        who = self.key or "all"
        return f"{self.scope}:{who} {self.limit} {self.currency}/{self.period}"


class AuditLogActorType(models.TextChoices):
    AGENT = "agent"
    USER = "user"
    SYSTEM = "system"


class AuditLog(models.Model):
    """Append-only record of who changed what. Never updated, so no updated_at."""

    ActorType = AuditLogActorType

    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor = models.CharField(max_length=150, help_text="agent name, username or 'system'")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    run = models.ForeignKey(AgentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries")
    action = models.CharField(max_length=64)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="auditlog_target")]
        constraints = [choices_check("actor_type", AuditLogActorType, "auditlog_actor_type_valid")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_type_id}:{self.target_id}"


class HealthCheckStatus(models.TextChoices):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class HealthCheck(models.Model):
    Status = HealthCheckStatus

    component = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["component", "-checked_at"], name="healthcheck_component_latest")]
        constraints = [choices_check("status", HealthCheckStatus, "healthcheck_status_valid")]

    def __str__(self) -> str:
        return f"{self.component}: {self.status}"


class ReportKind(models.TextChoices):
    DAILY = "daily"
    WEEKLY = "weekly"


class Report(TimeStampedModel):
    Kind = ReportKind

    kind = models.CharField(max_length=8, choices=Kind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    html = models.TextField(blank=True)
    images = models.JSONField(default=list, blank=True, help_text="[{name, content_type, data_base64}]")
    sent_to = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start"], name="report_unique_kind_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="report_period_ordered"),
            choices_check("kind", ReportKind, "report_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} report {self.period_start}"


class CodeSchedule(TimeStampedModel):
    """What ``sync_schedules`` last wrote to a PeriodicTask, so an operator's later edit is recognised and kept."""

    name = models.CharField(max_length=200, unique=True, help_text="the PeriodicTask name")
    written = models.JSONField(default=dict, blank=True, help_text="field -> value as the code last wrote it")

    def __str__(self) -> str:
        return self.name


class LLMBatchStatus(models.TextChoices):
    SUBMITTED = "submitted"
    COLLECTED = "collected"
    FAILED = "failed"


class LLMBatch(StatefulModel):
    """One Message Batch at the model provider: many runs' brain calls answered together, at half price."""

    Status = LLMBatchStatus

    STATUS_MACHINE = StatusMachine({Status.SUBMITTED: {Status.COLLECTED, Status.FAILED}})

    provider_batch_id = models.CharField(max_length=128, unique=True)
    agent_name = models.CharField(max_length=64)
    model_name = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    request_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "LLM batches"
        constraints = [choices_check("status", LLMBatchStatus, "llmbatch_status_valid")]

    def __str__(self) -> str:
        return f"{self.agent_name} batch {self.provider_batch_id} ({self.status})"


class LLMBatchItemStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    ERRORED = "errored"


class LLMBatchItem(models.Model):
    """One run's request in a batch; the collected answer waits here until the run executes."""

    Status = LLMBatchItemStatus

    batch = models.ForeignKey(LLMBatch, on_delete=models.CASCADE, related_name="items")
    # A run re-queued after a lost batch may be submitted again: one item per submission.
    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="batch_items")
    custom_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decision = models.JSONField(null=True, blank=True, help_text="the validated tool input")
    usage = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "custom_id"], name="llmbatchitem_unique_custom_id"),
            choices_check("status", LLMBatchItemStatus, "llmbatchitem_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.custom_id} ({self.status})"
