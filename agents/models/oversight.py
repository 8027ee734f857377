"""What staff oversee: escalations, budgets, the audit trail, health checks, manager reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from smarter_team import clock
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check, currency_field

from .runs import AgentRun


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
    # Set by cost_monitor when a "pause" budget is exceeded: runs in its scope start no sooner
    # (agents/services/pauses.py); past it, the pause has lifted by itself.
    paused_until = models.DateTimeField(null=True, blank=True, db_index=True)

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
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="auditlog_target"),
            # The console's exact search by who acted and by a target's id (without its type).
            models.Index(fields=["actor", "at"], name="auditlog_actor_at"),
            models.Index(fields=["target_id"], name="auditlog_target_id"),
        ]
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
    subject = models.CharField(max_length=255, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True, help_text="the plain-text part")
    images = models.JSONField(default=list, blank=True, help_text="[{name, content_type, data_base64}]")
    figures = models.JSONField(default=dict, blank=True, help_text="every figure of the report, as computed")
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
