"""Mistakes and what was learned from them (the seed's error_logs, knowledge_base, ...)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarter_team import clock
from smarter_team.models import StatefulModel, StatusMachine, TimeStampedModel, choices_check


class ErrorLogSeverity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ErrorLog(TimeStampedModel):
    Severity = ErrorLogSeverity

    agent_name = models.CharField(max_length=64, blank=True, db_index=True)
    provider = models.CharField(max_length=32, blank=True, help_text="set for failed integration calls")
    run = models.ForeignKey("agents.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="errors")
    error_type = models.CharField(max_length=128)
    step = models.CharField(max_length=128, blank=True, help_text="where in the work it failed")
    message = models.TextField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    context = models.JSONField(default=dict, blank=True)
    affected_entities = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    transient = models.BooleanField(default=False)
    recovery_action = models.CharField(max_length=64, blank=True)
    recovery_success = models.BooleanField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=clock.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolution_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["fingerprint", "occurred_at"], name="errorlog_fingerprint_time")]
        constraints = [choices_check("severity", ErrorLogSeverity, "errorlog_severity_valid")]

    def __str__(self) -> str:
        return f"{self.agent_name or self.provider}: {self.error_type}"


class KnowledgeRuleRuleType(models.TextChoices):
    AVOID = "avoid"
    ALWAYS = "always"
    NEVER = "never"
    VALIDATE = "validate"
    RETRY = "retry"
    ESCALATE = "escalate"


class KnowledgeRuleStatus(models.TextChoices):
    PROPOSED = "proposed"
    ACTIVE = "active"
    RETIRED = "retired"


class KnowledgeRule(StatefulModel):
    RuleType = KnowledgeRuleRuleType

    Status = KnowledgeRuleStatus

    STATUS_MACHINE = StatusMachine(
        {
            Status.PROPOSED: {Status.ACTIVE, Status.RETIRED},
            Status.ACTIVE: {Status.RETIRED},
            Status.RETIRED: {Status.ACTIVE},
        }
    )
    # The measured evidence, rewritten by learning.services.evidence with update(): measuring a
    # rule changes no behaviour, so it leaves updated_at (the rule cache's version) alone.
    EVIDENCE_FIELDS = (
        "times_applied",
        "times_successful",
        "holdout_exposures",
        "holdout_failures",
        "confidence",
        "holdout_lift",
        "lift_low",
        "lift_high",
        "precision",
        "precision_low",
        "precision_high",
        "successes_lost",
    )

    agent_name = models.CharField(max_length=64, blank=True, db_index=True, help_text="blank = all agents")
    error_type = models.CharField(max_length=128, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    pattern = models.TextField(blank=True, help_text="the normalised error message the rule answers")
    rule_type = models.CharField(max_length=16, choices=RuleType.choices)
    text = models.TextField(help_text="human-readable rule, carried in prompts")
    condition = models.JSONField(default=dict, blank=True, help_text="executable check on the run input")
    action_params = models.JSONField(default=dict, blank=True, help_text="retry delays, attempts, escalation target")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    confidence = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    times_applied = models.PositiveIntegerField(default=0)
    times_successful = models.PositiveIntegerField(default=0)
    holdout_exposures = models.PositiveIntegerField(default=0)
    holdout_failures = models.PositiveIntegerField(default=0)
    holdout_lift = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    lift_low = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    lift_high = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    # For a rule that skips, blocks or escalates: the share of the runs it matches that would have
    # failed (from its holdout, or from the failures before approval for a rule never held out),
    # with its 95% interval, and the successes it is estimated to have thrown away.
    precision = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    precision_low = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    precision_high = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    successes_lost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    source_error = models.ForeignKey(ErrorLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    approved_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["agent_name", "rule_type", "pk"]
        constraints = [
            choices_check("rule_type", KnowledgeRuleRuleType, "knowledgerule_type_valid"),
            choices_check("status", KnowledgeRuleStatus, "knowledgerule_status_valid"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1), name="knowledgerule_confidence_0_1"
            ),
            models.CheckConstraint(
                condition=Q(times_successful__lte=models.F("times_applied")), name="knowledgerule_successes_le_applied"
            ),
            models.CheckConstraint(
                condition=Q(holdout_failures__lte=models.F("holdout_exposures")), name="knowledgerule_holdout_counts"
            ),
            # One live rule per fingerprint and type: extraction must not propose the same rule twice.
            models.UniqueConstraint(
                fields=["agent_name", "fingerprint", "rule_type"],
                condition=Q(status__in=["proposed", "active"]) & ~Q(fingerprint=""),
                name="knowledgerule_one_live_per_fingerprint",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.rule_type}] {self.text[:70]}"


class RuleApplicationMode(models.TextChoices):
    APPLIED = "applied"
    HOLDOUT = "holdout"


class RuleApplicationOutcome(models.TextChoices):
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"


class RuleApplication(models.Model):
    """One exposure of a run to a rule: applied, or deliberately held out to measure the rule."""

    Mode = RuleApplicationMode

    Outcome = RuleApplicationOutcome

    rule = models.ForeignKey(KnowledgeRule, on_delete=models.CASCADE, related_name="applications")
    run = models.ForeignKey("agents.AgentRun", on_delete=models.CASCADE, related_name="rule_applications")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    stage = models.CharField(max_length=16, default="before", help_text="before the run, or on its failure")
    effect = models.CharField(max_length=32, blank=True, help_text="skipped, blocked, prompt, retry, escalated")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "run", "stage"], name="ruleapplication_once_per_stage"),
            choices_check("mode", RuleApplicationMode, "ruleapplication_mode_valid"),
            choices_check("outcome", RuleApplicationOutcome, "ruleapplication_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} {self.mode} on run {self.run_id}: {self.outcome}"


class ResponseTrackingOutcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"
    PENDING = "pending"


class ResponseTracking(TimeStampedModel):
    Outcome = ResponseTrackingOutcome

    run = models.OneToOneField(
        "agents.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="tracking"
    )
    agent_name = models.CharField(max_length=64, db_index=True)
    response_type = models.CharField(max_length=64)
    confidence_score = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    actual_outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    user_feedback = models.TextField(blank=True)
    # The run's facts as learning records them (learning/facts_record.py: values of categorical
    # fields, presence and length of contact data): the succeeding runs extraction contrasts with.
    facts = models.JSONField(default=dict, blank=True, editable=False)
    feedback_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    feedback_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "response tracking"
        constraints = [
            choices_check("actual_outcome", ResponseTrackingOutcome, "responsetracking_outcome_valid"),
            models.CheckConstraint(
                condition=Q(confidence_score__isnull=True) | (Q(confidence_score__gte=0) & Q(confidence_score__lte=1)),
                name="responsetracking_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name} {self.response_type}: {self.actual_outcome}"


class ErrorGroupNote(TimeStampedModel):
    """What learning_extraction concluded about a recurring error (one fingerprint) when it proposed
    no rule: why no executable rule fits. Shown on the error group in the admin."""

    fingerprint = models.CharField(max_length=64, unique=True)
    agent_name = models.CharField(max_length=64, blank=True)
    failed_runs = models.PositiveIntegerField(default=0)
    reason = models.TextField()
    noted_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-noted_at"]

    def __str__(self) -> str:
        return f"{self.agent_name or '-'} {self.fingerprint[:12]}: no rule"


class AgentLearning(TimeStampedModel):
    agent_name = models.CharField(max_length=64, db_index=True)
    learning_area = models.CharField(max_length=128, help_text="a fingerprint, a rule or 'overall'")
    rule = models.ForeignKey(KnowledgeRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="learnings")
    period_start = models.DateField()
    period_end = models.DateField()
    runs_before = models.PositiveIntegerField(default=0)
    runs_after = models.PositiveIntegerField(default=0)
    errors_before = models.PositiveIntegerField(default=0)
    errors_after = models.PositiveIntegerField(default=0)
    success_rate_before = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    success_rate_after = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    improvement_delta = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "agent_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent_name", "learning_area", "period_start"], name="agentlearning_unique_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="agentlearning_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name} / {self.learning_area} ({self.period_start})"


class FAQ(TimeStampedModel):
    question = models.TextField()
    answer = models.TextField()
    category = models.CharField(max_length=64, blank=True, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    embedding = models.JSONField(default=list, blank=True, editable=False, help_text="local retrieval vector")
    times_used = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    approved = models.BooleanField(default=False)

    class Meta:
        ordering = ["category", "pk"]
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"

    def __str__(self) -> str:
        return self.question[:80]
